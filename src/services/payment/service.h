// Payment domain logic, free of HTTP types except the webhook request it verifies: tokenization
// across providers, authorization with routing, breakers and failover, capture/void/refund,
// chargebacks (from the providers' dispute webhooks or entered by an admin), the webhook inbox,
// and the sweeper that voids late ("orphan") authorizations.
//
// A chargeback changes no payment status and no order: it is recorded and published as
// payment.chargeback (a label for the fraud model), once per provider dispute.
//
// Invariant: never two successful authorizations for one order. One payments row per order
// (UNIQUE order_id) is claimed with a lease before any provider is called; each provider gets
// the deterministic idempotency key "auth:<order>:<provider>", so a retry or a resumed attempt
// after a crash replays instead of authorizing again; a provider whose answer was lost
// (timeout, 5xx, processing error) is recorded as an uncertain attempt and, once another outcome
// is final, is asked to void whatever it holds under the order's reference — at once, and again
// by SweepOrphans() for --payment-orphan-window. A webhook reporting an authorization at a
// provider other than the payment's is voided on arrival.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"
#include "platform/resilience/breaker_registry.h"
#include "services/payment/provider.h"
#include "services/payment/routing.h"
#include "services/payment/store.h"

namespace emporium::payment {

struct ServiceOptions {
  Millis webhook_tolerance{300'000};
  Millis lease{30'000};
  // How long after its lease ran out a pending payment nobody resumed is abandoned. Longer than
  // the order saga's longest wait between two authorize retries, or a crash makes the sweeper
  // fail a payment the order was about to resume.
  Millis abandon_after{60'000};
  Millis orphan_window{600'000};
  std::string return_url;
};

struct AuthorizeInput {
  std::string order_id;
  int64_t amount = 0;
  std::string currency;
  std::string method_token;
  std::optional<CardInput> card;
  std::string method = "card";  // routing input: "card" or "wallet"
};

struct WebhookResult {
  std::string event_id;
  bool duplicate = false;
};

// A chargeback reported out of band (the bank's letter).
struct ChargebackInput {
  std::optional<int64_t> amount;  // default: what is left (captured less refunds and chargebacks)
  std::string reason;             // one of kChargebackReasons
  std::string note;
  std::string idempotency_key;  // optional; a repeat with the same key replays the first answer
};

struct ChargebackResult {
  Chargeback chargeback;
  bool replayed = false;
};

class PaymentService {
 public:
  // providers: enabled providers by name, in their configured order.
  PaymentService(sql::Database& db, std::vector<std::unique_ptr<Provider>> providers, Routing routing,
                 resilience::BreakerRegistry& breakers, Clock& clock, ServiceOptions options,
                 std::function<void()> notify);

  // Tokenizes at every enabled provider (or only `provider`); kInvalidArgument for a card the
  // providers reject, kUnavailable when none answered.
  Result<Method> Tokenize(const std::string& subject, const CardInput& card, const std::string& provider);
  // Idempotent per order id: a second call returns the first call's payment (kUnavailable, i.e.
  // retry shortly, while the first one is still in flight; after its lease ran out the call
  // resumes it with the same provider idempotency keys).
  Result<Payment> Authorize(const AuthorizeInput& in);
  Result<Payment> Capture(const std::string& payment_id, std::optional<int64_t> amount);
  Result<Payment> Void(const std::string& payment_id);
  // Without amount: refunds what is left. `key` makes partial refunds idempotent.
  Result<Payment> Refund(const std::string& payment_id, std::optional<int64_t> amount, std::string key);
  Result<Payment> Get(const std::string& payment_id);
  // kNotFound for an unknown provider, kUnauthenticated for a bad signature or timestamp.
  Result<WebhookResult> HandleWebhook(const std::string& provider, const http::Request& req);
  // kNotFound for an unknown payment; kInvalidArgument for a bad reason, nothing captured, an
  // amount above what is left, or an idempotency key used with another request.
  Result<ChargebackResult> FileChargeback(const std::string& payment_id, const ChargebackInput& in);
  // The payment's chargebacks, oldest first (empty for an unknown payment).
  Result<std::vector<Chargeback>> Chargebacks(const std::string& payment_id);
  // Abandons pending payments whose lease ran out more than abandon_after ago, and voids
  // authorizations held by providers whose attempt was uncertain; returns how many were voided.
  int SweepOrphans();

  const std::vector<std::unique_ptr<Provider>>& providers() const { return providers_; }
  resilience::CircuitBreaker& Breaker(const std::string& provider);

 private:
  Provider* Find(const std::string& name) const;
  int64_t NowMs() const;
  Result<Payment> Finish(Payment p, const std::string& status, const std::string& event_type);
  void VoidOrphans(const std::string& order_id, const std::vector<std::string>& providers);
  // Fails a pending payment whose lease ran out (its owner crashed) and voids at every provider
  // whatever it may have authorized; no-op when someone resumed it meanwhile.
  Result<Payment> Abandon(Payment p);
  Result<Payment> Load(const std::string& id);
  // A provider's dispute webhook: records the chargeback and its event once per dispute; a
  // dispute for a payment we do not know is acknowledged and logged.
  Result<WebhookResult> RecordDispute(const std::string& provider, const WebhookEvent& ev);

  sql::Database& db_;
  std::vector<std::unique_ptr<Provider>> providers_;
  Routing routing_;
  resilience::BreakerRegistry& breakers_;
  Clock& clock_;
  ServiceOptions options_;
  std::function<void()> notify_;
};

}  // namespace emporium::payment
