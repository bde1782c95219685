#include "services/order/saga.h"

#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <vector>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/log/log.h"
#include "platform/sql/sql.h"
#include "services/order/events.h"

namespace emporium::order {
namespace {

// Orders the worker drives at the same time.
constexpr size_t kDrivers = 4;

using http::Method;

using json::Str;

bool Ok(const Result<Reply>& r) {
  return r.ok() && (r->status == 200 || r->status == 201);
}

// A 4xx answer is final (retrying cannot change it); no answer or a 5xx is transient.
bool Rejected(const Result<Reply>& r) {
  return r.ok() && r->status >= 400 && r->status < 500;
}

std::string EventFor(const Order& before, const Order& after) {
  if (before.status != after.status) {
    std::string s = after.status;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }
  if (before.step != after.step && after.step == step::kFulfilling) return "shipment_booked";
  return "";
}

}  // namespace

bool IsActiveStep(std::string_view s) {
  return s == step::kReserve || s == step::kFraud || s == step::kAuthorize || s == step::kAwaitAction ||
         s == step::kCapture || s == step::kCommitStock || s == step::kShip || s == step::kRefund ||
         s == step::kVoid || s == step::kRelease;
}

bool IsCancellableStep(std::string_view s) {
  return s == step::kReserve || s == step::kFraud || s == step::kReview || s == step::kAuthorize ||
         s == step::kAwaitAction || s == step::kCapture;
}

Saga::Saga(Store& store, Peers& peers, FraudScreen& fraud, Clock& clock, SagaOptions options,
           std::function<void()> notify)
    : store_(store),
      peers_(peers),
      fraud_(fraud),
      clock_(clock),
      options_(options),
      notify_(std::move(notify)) {}

Saga::~Saga() {
  Stop();
}

int64_t Saga::Now() const {
  return UnixMillis(clock_.WallNow());
}

bool Saga::Acquire(const std::string& id, SteadyTime until) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, until, [&] { return busy_.insert(id).second; });
}

void Saga::ReleaseLock(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    busy_.erase(id);
  }
  cv_.notify_all();
}

Result<Order> Saga::Drive(const std::string& id, Millis budget, bool sleep_retries) {
  const SteadyTime deadline = clock_.Now() + budget;
  if (!Acquire(id, deadline)) {
    EMP_ASSIGN_OR_RETURN(auto o, store_.Get(id));
    if (!o) return NotFound("no order " + id);
    return *o;
  }
  struct Unlock {
    Saga* s;
    const std::string& id;
    ~Unlock() { s->ReleaseLock(id); }
  } unlock{this, id};

  // `o` may run ahead of `stored` by steps whose calls are idempotent (reserve, fraud, capture,
  // commit): after a crash they run again with the same answers. It is saved when its status
  // changes or a step makes an event, when it waits or ends, and before returning.
  std::optional<Order> stored;
  Order o;
  bool dirty = false;
  for (;;) {
    if (!stored) {
      EMP_ASSIGN_OR_RETURN(stored, store_.Get(id));
      if (!stored) return NotFound("no order " + id);
      o = *stored;
      dirty = false;
    }
    const bool cancel_now = o.cancel_requested && IsCancellableStep(o.step);
    const int64_t wait_ms = cancel_now ? 0 : o.next_attempt_ms - Now();
    const bool stop = (!IsActiveStep(o.step) && !cancel_now) || clock_.Now() > deadline ||
                      (wait_ms > 0 && (!sleep_retries || clock_.Now() + Millis(wait_ms) > deadline));
    if (stop || wait_ms > 0) {
      if (dirty) {
        EMP_ASSIGN_OR_RETURN(bool saved, Persist(o, *stored));
        if (!saved) {
          stored.reset();
          continue;
        }
        stored = o;
        dirty = false;
      }
      if (stop) return o;
      clock_.Sleep(Millis(wait_ms));
      continue;
    }
    const std::string step_before = o.step;
    Step(o);
    dirty = true;
    // Saved now: what others see (status, events), waits and retries, and any step that did not
    // simply advance (its outcome may not be reproducible by running it again).
    const bool save = o.status != stored->status || !EventFor(*stored, o).empty() || !IsActiveStep(o.step) ||
                      o.step == step::kAwaitAction || o.next_attempt_ms > Now() || o.step == step_before;
    if (save) {
      EMP_ASSIGN_OR_RETURN(bool saved, Persist(o, *stored));
      if (!saved) {
        stored.reset();
        continue;
      }
      stored = o;
      dirty = false;
    }
    // A poll of the provider's step-up is the worker's business, not the request's.
    if (o.step == step::kAwaitAction) return o;
  }
}

Result<bool> Saga::Persist(Order& o, const Order& before) {
  const int64_t now = Now();
  o.updated_ms = now;
  const std::string event = EventFor(before, o);
  bool saved = false;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    Order copy = o;
    EMP_ASSIGN_OR_RETURN(saved, store_.Save(tx, copy));
    if (!saved) return Status::Ok();
    if (before.status != o.status) EMP_RETURN_IF_ERROR(Store::AddHistory(tx, o.id, o.status, o.reason, now));
    if (!event.empty()) EMP_RETURN_IF_ERROR(AddOrderEvent(tx, event, o, now));
    o.version = copy.version;
    return Status::Ok();
  });
  EMP_RETURN_IF_ERROR(s);
  if (saved && !event.empty() && notify_) notify_();
  return saved;
}

Result<Order> Saga::Decide(const std::string& id, bool approve, Millis budget) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    EMP_ASSIGN_OR_RETURN(auto loaded, store_.Get(id));
    if (!loaded) return NotFound("no order " + id);
    Order o = std::move(*loaded);
    if (o.status != status::kReview || o.step != step::kReview)
      return FailedPrecondition("order " + id + " is not waiting for a review");
    const Order before = o;
    if (approve) {
      o.status = std::string(status::kPending);
      o.reason = "review_approved";
      o.reason_detail.clear();
      o.fraud_decision = "approve";
      Advance(o, step::kAuthorize);
    } else {
      o.fraud_decision = "decline";
      Compensate(o, status::kRejected, "fraud_declined", "review");
    }
    EMP_ASSIGN_OR_RETURN(bool saved, Persist(o, before));
    if (saved) return Drive(id, budget);
  }
  return Unavailable("order " + id + " kept changing");
}

void Saga::Step(Order& o) {
  if (o.cancel_requested && IsCancellableStep(o.step))
    return Compensate(o, status::kCancelled, "customer_cancelled");
  const std::string_view s = o.step;
  if (s == step::kReserve) return Reserve(o);
  if (s == step::kFraud) return ScreenFraud(o);
  if (s == step::kAuthorize) return Authorize(o);
  if (s == step::kAwaitAction) return AwaitAction(o);
  if (s == step::kCapture) return Capture(o);
  if (s == step::kCommitStock) return CommitStock(o);
  if (s == step::kShip) return Ship(o);
  if (s == step::kRefund) return Refund(o);
  if (s == step::kVoid) return Void(o);
  if (s == step::kRelease) return Release(o);
}

void Saga::Advance(Order& o, std::string_view next) {
  o.step = std::string(next);
  o.attempts = 0;
  o.step_started_ms = Now();
  o.next_attempt_ms = o.step_started_ms;
}

void Saga::Retry(Order& o) {
  ++o.attempts;
  const int64_t exp = options_.retry_base.count() << std::min<int64_t>(o.attempts - 1, 16);
  const int64_t cap = std::min<int64_t>(exp, options_.retry_cap.count());
  // Full jitter keeps a burst of failed orders from retrying in lockstep.
  o.next_attempt_ms = Now() + cap / 2 + static_cast<int64_t>(RandomUnit() * static_cast<double>(cap / 2 + 1));
}

bool Saga::TimedOut(const Order& o, Millis timeout) const {
  return Now() - o.step_started_ms > timeout.count();
}

void Saga::Compensate(Order& o, std::string_view final_status, std::string reason, std::string detail) {
  o.final_status = std::string(final_status);
  o.reason = std::move(reason);
  o.reason_detail = std::move(detail);
  NextCompensation(o);
}

void Saga::NextCompensation(Order& o) {
  if (o.payment_status == "captured") return Advance(o, step::kRefund);
  if (!o.payment_id.empty() && (o.payment_status == "authorized" || o.payment_status == "requires_action"))
    return Advance(o, step::kVoid);
  if (o.stock_state == "held") return Advance(o, step::kRelease);
  o.status = o.final_status;
  Advance(o, step::kDone);
}

void Saga::Reserve(Order& o) {
  boost::json::array items;
  for (const Item& i : o.items)
    items.push_back(boost::json::object{{"product_id", i.product_id}, {"quantity", i.quantity}});
  boost::json::object body{{"order_id", o.id}, {"items", items}, {"ttl_seconds", options_.reservation_ttl_s}};
  auto r = peers_.Service("catalog", Method::kPost, "/v1/internal/reservations", json::Dump(body));
  if (Ok(r)) {
    o.reservation_id = Str(r->body, "id");
    o.stock_state = "held";
    return Advance(o, step::kFraud);
  }
  if (r.ok() && r->status == 409) {
    std::string detail;
    if (auto e = r->body.if_contains("errors"); e && e->is_array() && !e->as_array().empty())
      detail = Str(e->as_array()[0].as_object(), "message");
    return Compensate(o, status::kRejected, "insufficient_stock", detail);
  }
  if (Rejected(r)) return Compensate(o, status::kRejected, "invalid_items", Str(r->body, "detail"));
  // A reservation may exist that we never heard of: catalog's sweeper expires it after its TTL.
  if (TimedOut(o, options_.reserve_timeout)) return Compensate(o, status::kRejected, "reservation_timeout");
  Retry(o);
}

void Saga::ScreenFraud(Order& o) {
  FraudInput in{o.id,    o.user_id,  o.method_token,     o.client_ip,
                o.total, o.currency, o.shipping_country, o.billing_country};
  auto r = fraud_.Screen(in);
  if (!r.ok()) return Retry(o);
  o.fraud_decision = r->decision;
  boost::json::array reasons;
  std::string joined;
  for (const auto& s : r->reasons) {
    reasons.push_back(boost::json::value(s));
    joined += (joined.empty() ? "" : ",") + s;
  }
  o.fraud_reasons_json = json::Dump(reasons);
  if (r->decision == "approve") return Advance(o, step::kAuthorize);
  if (r->decision == "review") {
    o.status = std::string(status::kReview);
    o.reason = "fraud_review";
    o.reason_detail = joined;
    return Advance(o, step::kReview);
  }
  Compensate(o, status::kRejected, "fraud_declined", joined);
}

void Saga::ApplyPayment(Order& o, const Reply& r) {
  o.payment_id = Str(r.body, "payment_id");
  if (std::string provider = Str(r.body, "provider"); !provider.empty()) o.payment_provider = provider;
  const std::string st = Str(r.body, "status");
  if (st == "authorized") {
    o.payment_status = "authorized";
    o.next_action_json.clear();
    o.status = std::string(status::kConfirmed);
    o.reason.clear();
    o.reason_detail.clear();
    return Advance(o, step::kCapture);
  }
  if (st == "requires_action") {
    o.payment_status = "requires_action";
    if (auto na = r.body.if_contains("next_action")) o.next_action_json = json::Dump(*na);
    if (TimedOut(o, options_.payment_timeout)) return Compensate(o, status::kRejected, "payment_timeout");
    // The step-up gets its own payment_timeout from now.
    if (o.step != step::kAwaitAction) Advance(o, step::kAwaitAction);
    return Retry(o);
  }
  const std::string code = Str(r.body, "decline_code");
  o.payment_status = st == "declined" ? "declined" : "failed";
  Compensate(o, status::kRejected, st == "declined" ? "payment_declined" : "payment_failed", code);
}

void Saga::Authorize(Order& o) {
  boost::json::object body{{"order_id", o.id},
                           {"amount", boost::json::object{{"amount", o.total}, {"currency", o.currency}}},
                           {"method_token", o.method_token},
                           {"idempotency_key", o.id}};
  auto r = peers_.Service("payment", Method::kPost, "/v1/internal/payments/authorize", json::Dump(body));
  if (Ok(r)) return ApplyPayment(o, *r);
  if (Rejected(r)) {
    o.payment_status = "failed";
    return Compensate(o, status::kRejected, "payment_failed", std::to_string(r->status));
  }
  // Authorize is idempotent per order: after a timeout payment may hold an authorization we never
  // saw; payment's reconciliation voids authorizations without a confirmed order.
  if (TimedOut(o, options_.payment_timeout)) return Compensate(o, status::kRejected, "payment_timeout");
  Retry(o);
}

void Saga::AwaitAction(Order& o) {
  auto r = peers_.Service("payment", Method::kGet, "/v1/internal/payments/" + o.payment_id);
  if (Ok(r)) return ApplyPayment(o, *r);
  if (TimedOut(o, options_.payment_timeout)) return Compensate(o, status::kRejected, "payment_timeout");
  Retry(o);
}

void Saga::Capture(Order& o) {
  auto r =
      peers_.Service("payment", Method::kPost, "/v1/internal/payments/" + o.payment_id + "/capture", "{}");
  if (Ok(r) && Str(r->body, "status") == "captured") {
    o.payment_status = "captured";
    return Advance(o, step::kCommitStock);
  }
  if (Ok(r) || Rejected(r))
    return Compensate(o, status::kCancelled, "capture_failed", Str(r->body, "status"));
  if (TimedOut(o, options_.capture_timeout)) return Compensate(o, status::kCancelled, "capture_timeout");
  Retry(o);
}

void Saga::CommitStock(Order& o) {
  auto r = peers_.Service("catalog", Method::kPost,
                          "/v1/internal/reservations/" + o.reservation_id + "/commit", "{}");
  if (Ok(r)) {
    o.stock_state = "committed";
    return Advance(o, step::kShip);
  }
  if (Rejected(r)) {
    // Released or expired (e.g. a long fraud review): the units are no longer ours to ship.
    o.stock_state = "released";
    return Compensate(o, status::kCancelled, "reservation_expired");
  }
  Retry(o);
}

void Saga::Ship(Order& o) {
  auto address = json::Parse(o.address_json);
  boost::json::array items;
  for (const Item& i : o.items)
    items.push_back(boost::json::object{{"product_id", i.product_id}, {"quantity", i.quantity}});
  // The carrier whose rate the customer paid at checkout.
  boost::json::object body{
      {"order_id", o.id}, {"items", items}, {"carrier", o.carrier}, {"user_id", o.user_id}};
  body["address"] = address.ok() ? *address : boost::json::object{};
  auto r = peers_.Service("fulfillment", Method::kPost, "/v1/internal/shipments", json::Dump(body));
  if (Ok(r)) {
    o.shipment_id = Str(r->body, "shipment_id");
    o.carrier = Str(r->body, "carrier");
    o.tracking_number = Str(r->body, "tracking_number");
    return Advance(o, step::kFulfilling);
  }
  // Units are committed and money captured: a refused booking cancels with a refund; a carrier
  // that is down is retried without a deadline (the parcel should still go out).
  if (Rejected(r)) return Compensate(o, status::kCancelled, "shipment_failed", Str(r->body, "detail"));
  Retry(o);
}

void Saga::Refund(Order& o) {
  auto r =
      peers_.Service("payment", Method::kPost, "/v1/internal/payments/" + o.payment_id + "/refund", "{}");
  if (Ok(r)) {
    o.payment_status = "refunded";
    return NextCompensation(o);
  }
  if (Rejected(r)) {
    log::Error("order: refund refused, needs a person", {{"order_id", o.id}, {"status", r->status}});
    o.payment_status = "refund_failed";
    return NextCompensation(o);
  }
  Retry(o);
}

void Saga::Void(Order& o) {
  auto r = peers_.Service("payment", Method::kPost, "/v1/internal/payments/" + o.payment_id + "/void", "{}");
  if (Ok(r)) {
    o.payment_status = "voided";
    return NextCompensation(o);
  }
  if (Rejected(r)) {
    // Not voidable: a capture we never recorded (crash after the call) must be refunded instead.
    auto now = peers_.Service("payment", Method::kGet, "/v1/internal/payments/" + o.payment_id);
    if (!Ok(now)) return Retry(o);
    const std::string st = Str(now->body, "status");
    if (st == "captured") {
      o.payment_status = "captured";
    } else {
      log::Warn("order: void refused", {{"order_id", o.id}, {"status", st}});
      // Settled one way or another; anything else would loop back into void.
      const bool settled = st == "voided" || st == "declined" || st == "failed" || st == "refunded";
      o.payment_status = settled ? st : "void_failed";
    }
    return NextCompensation(o);
  }
  Retry(o);
}

void Saga::Release(Order& o) {
  auto r = peers_.Service("catalog", Method::kPost,
                          "/v1/internal/reservations/" + o.reservation_id + "/release", "{}");
  if (Ok(r)) {
    o.stock_state = "released";
    return NextCompensation(o);
  }
  if (Rejected(r)) {
    o.stock_state = r->status == 409 ? "committed" : "released";
    return NextCompensation(o);
  }
  Retry(o);
}

Result<int> Saga::RunDue(Millis budget_per_order) {
  EMP_ASSIGN_OR_RETURN(auto ids, store_.Due(Now(), 50));
  // Several drivers: one order blocked on a slow provider call must not hold up the others (after
  // a restart, every order that was in flight is due at once).
  std::atomic<size_t> next{0};
  auto drive = [&] {
    for (size_t i = next++; i < ids.size(); i = next++) {
      // Never asleep on one order's retry: the retry is picked up again when it is due.
      auto r = Drive(ids[i], budget_per_order, false);
      if (!r.ok())
        log::Warn("order: saga step failed", {{"order_id", ids[i]}, {"error", r.status().ToString()}});
    }
  };
  std::vector<std::thread> helpers;
  for (size_t k = 1; k < std::min(ids.size(), kDrivers); ++k) helpers.emplace_back(drive);
  drive();
  for (auto& t : helpers) t.join();
  return static_cast<int>(ids.size());
}

void Saga::Start() {
  stop_ = false;
  worker_ = std::thread([this] { Loop(); });
}

void Saga::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Saga::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, options_.poll, [&] { return stop_; })) return;
    }
    auto r = RunDue(Millis(2000));
    if (!r.ok()) log::Warn("order: saga worker", {{"error", r.status().ToString()}});
  }
}

}  // namespace emporium::order
