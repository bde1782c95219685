// The provider interface: what the payment service needs from a payment provider, whatever its
// protocol. Adapters (providers/*.cc) speak each provider's own wire protocol over HTTP.
//
// Error contract: a Status error means "we do not know what happened or the provider failed"
// and is retryable on another provider when IsRetryable(code) (kUnavailable: 5xx, connection
// failure, processing error; kDeadlineExceeded: timeout). Business outcomes (declined, step-up)
// are values, never errors. Every mutating call carries an idempotency key that the adapter
// sends in the provider's idempotency header, so repeating a call after a crash or timeout never
// applies it twice. Thread-safety: adapters are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"

namespace emporium::payment {

struct CardInput {
  std::string number;
  int64_t exp_month = 0;
  int64_t exp_year = 0;
  std::string cvc;
};

struct TokenizedCard {
  std::string token;  // the provider's token
  std::string brand;
  std::string last4;
  int64_t exp_month = 0;
  int64_t exp_year = 0;
};

struct AuthorizeRequest {
  std::string order_id;  // our reference at the provider
  int64_t amount = 0;
  std::string currency;
  std::string token;  // the provider's token for the method
  std::string idempotency_key;
  std::string return_url;  // where a redirect/step-up flow sends the customer back
};

enum class AuthOutcome { kAuthorized, kDeclined, kRequiresAction };

struct AuthorizeResult {
  AuthOutcome outcome = AuthOutcome::kDeclined;
  std::string provider_ref;  // the provider's id of the authorization (empty when none)
  std::string decline_code;  // "card_declined", "insufficient_funds"
  std::string action_url;    // for kRequiresAction
};

// A provider webhook, verified and translated.
struct WebhookEvent {
  enum class Kind {
    kAuthorized,  // an authorization completed (after step-up, or a late notification)
    kApproved,    // the payer approved a redirect flow: the merchant must authorize now
    kFailed,      // authorization failed or was refused
    kCaptured,
    kVoided,
    kRefunded,
    kDisputed,  // the cardholder disputed a captured payment (a chargeback)
    kIgnored,   // a type we do not act on
  };
  std::string id;  // unique per provider: the replay-protection key
  Kind kind = Kind::kIgnored;
  std::string type;          // the provider's own event type
  std::string provider_ref;  // what our payments row holds as provider_ref or capture_ref
  std::string order_id;      // empty when the provider's message does not carry our reference
  int64_t amount = 0;
  // kDisputed only.
  std::string dispute_id;       // the provider's id of the dispute
  std::string currency;         // of the disputed amount
  std::string reason;           // normalized: see kChargebackReasons
  std::string provider_reason;  // the provider's own reason code
};

// Chargeback reasons as payment normalizes them from every provider's vocabulary.
inline constexpr std::string_view kChargebackReasons[] = {"fraudulent", "unrecognized",
                                                          "product_not_received", "duplicate", "other"};

struct WebhookPolicy {
  SystemTime now;
  Millis tolerance{300'000};
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;

  virtual Result<TokenizedCard> Tokenize(const CardInput& card, const std::string& idempotency_key) = 0;
  virtual Result<AuthorizeResult> Authorize(const AuthorizeRequest& req) = 0;
  // After a kApproved webhook (redirect flows): authorize the approved payment.
  virtual Result<AuthorizeResult> AuthorizeApproved(const std::string& provider_ref,
                                                    const std::string& key) = 0;
  // Captures `amount` of the authorization; returns the id later refunds use (the capture id or
  // the authorization's own id, depending on the protocol).
  virtual Result<std::string> Capture(const std::string& provider_ref, int64_t amount,
                                      const std::string& currency, const std::string& idempotency_key) = 0;
  virtual Status Void(const std::string& provider_ref, const std::string& idempotency_key) = 0;
  virtual Status Refund(const std::string& capture_ref, int64_t amount, const std::string& currency,
                        const std::string& idempotency_key) = 0;
  // Voids every authorization the provider holds under our reference (an order id), whatever its
  // id: after a timeout we may not know it. Returns how many were voided.
  virtual Result<int> VoidByReference(const std::string& order_id, const std::string& idempotency_key) = 0;

  // Verifies the signature (kUnauthenticated when it is missing or wrong, or the timestamp is
  // outside the tolerance) and translates the event; kInvalidArgument for a malformed body.
  virtual Result<WebhookEvent> ParseWebhook(const http::Request& req, const WebhookPolicy& policy) const = 0;
};

// Connection settings of one provider.
struct ProviderConfig {
  std::string name;
  std::string base_url;
  std::string api_key;
  std::string webhook_secret;
  Millis timeout{2000};
};

}  // namespace emporium::payment
