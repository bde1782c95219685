// PaymentService's chargebacks: the providers' dispute webhooks and the admin's out-of-band
// entry. Each dispute is recorded once (UNIQUE provider + dispute id, and the webhook inbox for
// its event id) together with its payment.chargeback outbox event, in one transaction.
#include <algorithm>
#include <cctype>

#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/payment/events.h"
#include "services/payment/service.h"

namespace emporium::payment {
namespace {

bool KnownReason(const std::string& reason) {
  return std::find(std::begin(kChargebackReasons), std::end(kChargebackReasons), reason) !=
         std::end(kChargebackReasons);
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Chargebacks are listed by created_at: a later one gets a later time even within one millisecond.
int64_t AfterEarlier(const std::vector<Chargeback>& earlier, int64_t now) {
  int64_t at = now;
  for (const Chargeback& c : earlier) at = std::max(at, c.created_at + 1);
  return at;
}

}  // namespace

Result<WebhookResult> PaymentService::RecordDispute(const std::string& provider, const WebhookEvent& ev) {
  if (ev.dispute_id.empty()) return InvalidArgument("dispute without an id");
  WebhookResult out{ev.id, false};
  const int64_t now = NowMs();
  bool fresh = false;
  bool unknown = false;
  std::optional<Chargeback> recorded;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    unknown = false;
    recorded.reset();
    EMP_ASSIGN_OR_RETURN(fresh, RecordWebhook(tx, provider, ev.id, now));
    if (!fresh) return Status::Ok();
    std::optional<Payment> p;
    if (!ev.provider_ref.empty()) {
      EMP_ASSIGN_OR_RETURN(p, PaymentByProviderRef(tx, provider, ev.provider_ref));
    }
    if (!p && !ev.order_id.empty()) {
      EMP_ASSIGN_OR_RETURN(p, PaymentByOrder(tx, ev.order_id));
      if (p && p->provider != provider) p.reset();
    }
    if (!p) {
      unknown = true;
      return Status::Ok();
    }
    // The same dispute announced again under another event id.
    EMP_ASSIGN_OR_RETURN(std::optional<Chargeback> seen, ChargebackByDispute(tx, provider, ev.dispute_id));
    if (seen) return Status::Ok();
    Chargeback c;
    c.id = "cb_" + RandomHex(12);
    c.payment_id = p->id;
    c.order_id = p->order_id;
    c.provider = provider;
    c.dispute_id = ev.dispute_id;
    c.amount = ev.amount > 0 ? ev.amount : p->captured - p->refunded;
    c.currency = ev.currency.empty() ? p->currency : Upper(ev.currency);
    c.reason = KnownReason(ev.reason) ? ev.reason : "other";
    c.provider_reason = ev.provider_reason;
    c.source = "provider";
    c.idempotency_key = "dispute:" + ev.dispute_id;
    EMP_ASSIGN_OR_RETURN(std::vector<Chargeback> earlier, ChargebacksOf(tx, p->id));
    c.created_at = AfterEarlier(earlier, now);
    EMP_RETURN_IF_ERROR(InsertChargeback(tx, c));
    EMP_RETURN_IF_ERROR(AddChargebackEvent(tx, c));
    recorded = c;
    return Status::Ok();
  }));
  out.duplicate = !fresh;
  if (unknown) {
    // Acknowledged all the same: the provider would retry forever, and nothing here can change.
    log::Warn("payment dispute for an unknown payment", {{"provider", provider},
                                                         {"dispute_id", ev.dispute_id},
                                                         {"provider_ref", ev.provider_ref},
                                                         {"order_id", ev.order_id}});
  }
  if (recorded) {
    log::Info("payment chargeback recorded", {{"provider", provider},
                                              {"order_id", recorded->order_id},
                                              {"dispute_id", recorded->dispute_id},
                                              {"reason", recorded->reason},
                                              {"amount", recorded->amount}});
    notify_();
  }
  return out;
}

Result<ChargebackResult> PaymentService::FileChargeback(const std::string& payment_id,
                                                        const ChargebackInput& in) {
  if (!KnownReason(in.reason)) {
    return InvalidArgument(
        "reason must be one of fraudulent, unrecognized, product_not_received, duplicate, other");
  }
  if (in.amount && *in.amount <= 0) return InvalidArgument("amount must be positive");
  EMP_RETURN_IF_ERROR(Load(payment_id).status());
  const std::string key = in.idempotency_key.empty() ? "" : "admin:" + in.idempotency_key;
  ChargebackResult out;
  bool created = false;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    created = false;
    if (!key.empty()) {
      EMP_ASSIGN_OR_RETURN(std::optional<Chargeback> seen, ChargebackByKey(tx, payment_id, key));
      if (seen) {
        if (seen->reason != in.reason || seen->note != in.note || (in.amount && *in.amount != seen->amount)) {
          return InvalidArgument("this Idempotency-Key was used with another request");
        }
        out = ChargebackResult{*seen, true};
        return Status::Ok();
      }
    }
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> p, PaymentById(tx, payment_id));
    if (!p) return NotFound("no payment " + payment_id);
    if (p->captured <= 0) return InvalidArgument("nothing was captured on this payment");
    EMP_ASSIGN_OR_RETURN(std::vector<Chargeback> earlier, ChargebacksOf(tx, payment_id));
    int64_t left = p->captured - p->refunded;
    for (const Chargeback& c : earlier) left -= c.amount;
    int64_t value = in.amount.value_or(left);
    if (value <= 0 || value > left) {
      return InvalidArgument(
          "the chargeback amount must be between 1 and what was captured less refunds and "
          "earlier chargebacks (" +
          std::to_string(std::max<int64_t>(left, 0)) + ")");
    }
    Chargeback c;
    c.id = "cb_" + RandomHex(12);
    c.payment_id = p->id;
    c.order_id = p->order_id;
    c.provider = p->provider;
    c.dispute_id = c.id;
    c.amount = value;
    c.currency = p->currency;
    c.reason = in.reason;
    c.source = "admin";
    c.note = in.note;
    c.idempotency_key = key.empty() ? "admin:" + c.id : key;
    c.created_at = AfterEarlier(earlier, NowMs());
    EMP_RETURN_IF_ERROR(InsertChargeback(tx, c));
    EMP_RETURN_IF_ERROR(AddChargebackEvent(tx, c));
    out = ChargebackResult{c, false};
    created = true;
    return Status::Ok();
  }));
  if (created) {
    log::Info("payment chargeback entered", {{"payment_id", payment_id},
                                             {"order_id", out.chargeback.order_id},
                                             {"reason", out.chargeback.reason},
                                             {"amount", out.chargeback.amount}});
    notify_();
  }
  return out;
}

Result<std::vector<Chargeback>> PaymentService::Chargebacks(const std::string& payment_id) {
  std::vector<Chargeback> out;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(out, ChargebacksOf(tx, payment_id));
    return Status::Ok();
  }));
  return out;
}

}  // namespace emporium::payment
