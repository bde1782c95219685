// The sandbox's disputes: the control's dispute (the card issuer acting for a cardholder), the
// fraud test card's dispute scheduled after its capture, and the timer that files those when they
// fall due. Thread-safety: as Sandbox (everything here runs under mu_).
#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "services/payment/sandbox/sandbox.h"

namespace emporium::paysim {

void Sandbox::ScheduleFraudDispute(LedgerEntry& e) {
  auto card = Card(e.token);
  if (!card || card->behaviour != CardBehaviour::kFraudDispute || !e.dispute_id.empty() ||
      e.dispute_due_ms > 0) {
    return;
  }
  e.dispute_due_ms = NowUnixMs() + options_.dispute_delay.count();
  due_disputes_.emplace(e.dispute_due_ms, e.id);
  dcv_.notify_all();
}

Status Sandbox::FileDispute(LedgerEntry& e, const std::string& reason, int64_t amount) {
  e.dispute_id = NewId(DisputeIdPrefix());
  e.disputed = amount;
  e.dispute_reason = reason;
  e.dispute_due_ms = 0;
  EMP_RETURN_IF_ERROR(Put(e));
  EmitDispute(e);
  log::Info("sandbox dispute filed", {{"provider", options_.name},
                                      {"reference", e.reference},
                                      {"dispute_id", e.dispute_id},
                                      {"reason", reason}});
  return Status::Ok();
}

void Sandbox::DisputeLoop() {
  std::unique_lock lock(mu_);
  while (!disputes_stopping_) {
    if (due_disputes_.empty()) {
      dcv_.wait(lock);
      continue;
    }
    int64_t due = due_disputes_.begin()->first;
    if (int64_t now = NowUnixMs(); due > now) {
      dcv_.wait_for(lock, Millis(due - now));
      continue;
    }
    std::string id = due_disputes_.begin()->second;
    due_disputes_.erase(due_disputes_.begin());
    auto it = ledger_.find(id);
    // Filed meanwhile through the control, or never captured after all.
    if (it == ledger_.end() || !it->second.dispute_id.empty() || it->second.status != "captured") continue;
    LedgerEntry e = it->second;
    if (Status s = FileDispute(e, "fraudulent", e.captured); !s.ok()) {
      log::Warn("sandbox dispute not filed; retrying",
                {{"provider", options_.name}, {"reference", e.reference}, {"error", s.ToString()}});
      due_disputes_.emplace(NowUnixMs() + 1000, id);
    }
  }
}

http::Response Sandbox::ControlDispute(const std::string& reference, const std::string& reason,
                                       std::optional<int64_t> amount, const std::string& instance) {
  bool known = false;
  for (std::string_view r : kDisputeReasons) known = known || r == reason;
  if (!known) {
    return http::Problem(400,
                         "dispute.reason must be fraudulent, unrecognized, product_not_received, "
                         "duplicate or other",
                         instance);
  }
  if (reference.empty()) return http::Problem(400, "dispute.reference is required", instance);
  std::lock_guard lock(mu_);
  std::optional<LedgerEntry> captured;
  for (const LedgerEntry& e : ByReference(reference)) {
    if (e.status == "captured" && e.captured > 0) captured = e;
  }
  if (!captured) return http::Problem(404, "no captured payment has reference '" + reference + "'", instance);
  if (!captured->dispute_id.empty()) {
    return http::Problem(409, "the payment is already disputed (" + captured->dispute_id + ")", instance);
  }
  int64_t value = amount.value_or(captured->captured);
  if (value <= 0 || value > captured->captured) {
    return http::Problem(400, "dispute.amount must be between 1 and the captured amount", instance);
  }
  if (Status s = FileDispute(*captured, reason, value); !s.ok()) {
    return http::Problem(500, "the ledger is unavailable", instance);
  }
  boost::json::object d{{"id", captured->dispute_id},     {"reference", reference},
                        {"payment", captured->id},        {"amount", value},
                        {"currency", captured->currency}, {"reason", reason}};
  return http::Response::Json(201, json::Dump(boost::json::object{{"dispute", d}}));
}

}  // namespace emporium::paysim
