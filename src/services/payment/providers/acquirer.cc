// Adapter for the synchronous authorise/capture protocol (JSON, X-API-Key, resultCode, notification
// webhooks with additionalData.hmacSignature).
#include <boost/json/array.hpp>

#include "platform/core/json.h"
#include "platform/crypto/crypto.h"
#include "platform/http/url.h"
#include "services/payment/providers/providers.h"
#include "services/payment/providers/transport.h"

namespace emporium::payment {
namespace {

using boost::json::object;

constexpr std::string_view kMerchant = "Emporium";

// refusalReasonCode → payment's decline code.
std::string DeclineCode(const std::string& refusal_code) {
  if (refusal_code == "12") return "insufficient_funds";
  if (refusal_code == "6") return "expired_card";
  if (refusal_code == "24") return "incorrect_cvc";
  return "card_declined";
}

class AcquirerProvider final : public Provider {
 public:
  AcquirerProvider(ProviderConfig c, http::HttpClient& client) : t_(std::move(c), client) {}
  const std::string& name() const override { return t_.config().name; }

  Result<TokenizedCard> Tokenize(const CardInput& card, const std::string& key) override {
    std::string month = (card.exp_month < 10 ? "0" : "") + std::to_string(card.exp_month);
    object body{{"merchantAccount", kMerchant},
                {"shopperReference", "emporium"},
                {"paymentMethod", object{{"type", "scheme"},
                                         {"number", card.number},
                                         {"expiryMonth", month},
                                         {"expiryYear", std::to_string(card.exp_year)},
                                         {"cvc", card.cvc}}}};
    EMP_ASSIGN_OR_RETURN(http::Response r, Post("/v1/storedPaymentMethods", body, key));
    if (r.status >= 500) return ProviderFailure(name(), r);
    object o = BodyObject(r);
    if (r.status != 200)
      return InvalidArgument(Str(o, "message").empty() ? "the card was rejected" : Str(o, "message"));
    return TokenizedCard{Str(o, "storedPaymentMethodId"), Str(o, "brand"), Str(o, "lastFour"),
                         std::atoll(Str(o, "expiryMonth").c_str()), std::atoll(Str(o, "expiryYear").c_str())};
  }

  Result<AuthorizeResult> Authorize(const AuthorizeRequest& req) override {
    object body{{"merchantAccount", kMerchant},
                {"reference", req.order_id},
                {"amount", object{{"value", req.amount}, {"currency", req.currency}}},
                {"paymentMethod", object{{"type", "scheme"}, {"storedPaymentMethodId", req.token}}},
                {"shopperInteraction", "ContAuth"},
                {"returnUrl", req.return_url}};
    EMP_ASSIGN_OR_RETURN(http::Response r, Post("/v1/payments", body, req.idempotency_key));
    if (r.status >= 500) return ProviderFailure(name(), r);
    object o = BodyObject(r);
    if (r.status != 200) return FailedPrecondition(name() + ": " + Str(o, "message"));
    std::string result = Str(o, "resultCode");
    AuthorizeResult out;
    out.provider_ref = Str(o, "pspReference");
    if (result == "Authorised") {
      out.outcome = AuthOutcome::kAuthorized;
    } else if (result == "RedirectShopper") {
      out.outcome = AuthOutcome::kRequiresAction;
      if (auto a = o.if_contains("action"); a && a->is_object()) out.action_url = Str(a->as_object(), "url");
    } else if (result == "Refused") {
      out.outcome = AuthOutcome::kDeclined;
      out.decline_code = DeclineCode(Str(o, "refusalReasonCode"));
    } else {
      // "Error": the acquirer could not process it; nothing is known about the card.
      return Unavailable(name() + ": " +
                         (Str(o, "refusalReason").empty() ? result : Str(o, "refusalReason")));
    }
    return out;
  }

  // CHARGEBACK: pspReference the dispute's, originalReference the payment's; the scheme's
  // reason code (Visa 10.x fraud, 12.6.x duplicate, 13.1 not received; Mastercard 4837/4863/
  // 4834/4855) in additionalData.chargebackReasonCode, its text in reason.
  static void FromChargeback(const object& n, const object* extra, WebhookEvent& e) {
    e.kind = WebhookEvent::Kind::kDisputed;
    e.dispute_id = Str(n, "pspReference");
    e.provider_ref = Str(n, "originalReference");
    if (auto a = n.if_contains("amount"); a && a->is_object()) e.currency = Str(a->as_object(), "currency");
    std::string code = extra ? Str(*extra, "chargebackReasonCode") : "";
    e.provider_reason = code.empty() ? Str(n, "reason") : code;
    if (code.rfind("10.", 0) == 0 || code == "4837" || code == "4840" || code == "4870" || code == "4871")
      e.reason = "fraudulent";
    else if (code == "4863")
      e.reason = "unrecognized";
    else if (code == "13.1" || code == "4855")
      e.reason = "product_not_received";
    else if (code.rfind("12.6", 0) == 0 || code == "4834")
      e.reason = "duplicate";
    else
      e.reason = "other";
  }

  Result<AuthorizeResult> AuthorizeApproved(const std::string&, const std::string&) override {
    return Unimplemented(name() + " has no approval step");
  }

  Result<std::string> Capture(const std::string& ref, int64_t amount, const std::string& currency,
                              const std::string& key) override {
    object body{{"merchantAccount", kMerchant},
                {"amount", object{{"value", amount}, {"currency", currency}}}};
    EMP_ASSIGN_OR_RETURN(http::Response r,
                         Post("/v1/payments/" + http::PercentEncode(ref) + "/captures", body, key));
    EMP_RETURN_IF_ERROR(Check(r));
    return ref;  // refunds go against the payment's own pspReference
  }

  Status Void(const std::string& ref, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(http::Response r, Post("/v1/payments/" + http::PercentEncode(ref) + "/cancels",
                                                object{{"merchantAccount", kMerchant}}, key));
    return Check(r);
  }

  Status Refund(const std::string& ref, int64_t amount, const std::string& currency,
                const std::string& key) override {
    object body{{"merchantAccount", kMerchant},
                {"amount", object{{"value", amount}, {"currency", currency}}}};
    EMP_ASSIGN_OR_RETURN(http::Response r,
                         Post("/v1/payments/" + http::PercentEncode(ref) + "/refunds", body, key));
    return Check(r);
  }

  Result<int> VoidByReference(const std::string& order_id, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        Post("/v1/cancels", object{{"merchantAccount", kMerchant}, {"paymentReference", order_id}}, key));
    EMP_RETURN_IF_ERROR(Check(r));
    return static_cast<int>(Int(BodyObject(r), "cancelled"));
  }

  Result<WebhookEvent> ParseWebhook(const http::Request& req, const WebhookPolicy& policy) const override {
    object o = ParseObject(req.body);
    auto items = o.if_contains("notificationItems");
    if (!items || !items->is_array() || items->as_array().size() != 1 || !items->as_array()[0].is_object()) {
      return InvalidArgument("expected one notification item");
    }
    auto nri = items->as_array()[0].as_object().if_contains("NotificationRequestItem");
    if (!nri || !nri->is_object()) return InvalidArgument("malformed notification item");
    const object& n = nri->as_object();
    const object* amount =
        n.contains("amount") && n.at("amount").is_object() ? &n.at("amount").as_object() : nullptr;
    const object* extra = n.contains("additionalData") && n.at("additionalData").is_object()
                              ? &n.at("additionalData").as_object()
                              : nullptr;
    std::string sig = extra ? Str(*extra, "hmacSignature") : "";
    if (sig.empty() || !amount) return Unauthenticated("notification without hmacSignature");
    std::string signing = Str(n, "pspReference") + ":" + Str(n, "originalReference") + ":" +
                          Str(n, "merchantAccountCode") + ":" + Str(n, "merchantReference") + ":" +
                          std::to_string(Int(*amount, "value")) + ":" + Str(*amount, "currency") + ":" +
                          Str(n, "eventCode") + ":" + Str(n, "success") + ":" + Str(n, "eventDate");
    std::string expected = crypto::Base64UrlEncode(crypto::HmacSha256(t_.config().webhook_secret, signing));
    if (!crypto::ConstantTimeEquals(expected, sig)) return Unauthenticated("bad notification signature");
    auto at = ParseRfc3339(Str(n, "eventDate"));
    if (!at.ok() || !WithinTolerance(*at, policy))
      return Unauthenticated("notification eventDate outside the tolerance");
    WebhookEvent e;
    std::string code = Str(n, "eventCode");
    bool success = Str(n, "success") == "true";
    e.id = Str(n, "pspReference") + ":" + code + ":" + Str(n, "success");
    e.type = code;
    e.order_id = Str(n, "merchantReference");
    e.amount = Int(*amount, "value");
    e.provider_ref =
        Str(n, "originalReference").empty() ? Str(n, "pspReference") : Str(n, "originalReference");
    if (code == "AUTHORISATION")
      e.kind = success ? WebhookEvent::Kind::kAuthorized : WebhookEvent::Kind::kFailed;
    else if (code == "CAPTURE" && success)
      e.kind = WebhookEvent::Kind::kCaptured;
    else if (code == "CANCELLATION" && success)
      e.kind = WebhookEvent::Kind::kVoided;
    else if (code == "REFUND" && success)
      e.kind = WebhookEvent::Kind::kRefunded;
    else if (code == "CHARGEBACK")
      FromChargeback(n, extra, e);
    return e;
  }

 private:
  Result<http::Response> Post(const std::string& path, const object& body, const std::string& key) {
    std::vector<std::pair<std::string, std::string>> headers{{"X-API-Key", t_.config().api_key}};
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    return t_.Send(http::Method::kPost, path, json::Dump(body), "application/json", headers);
  }

  Status Check(const http::Response& r) const {
    if (r.status >= 500) return ProviderFailure(name(), r);
    if (r.status >= 400) return FailedPrecondition(name() + ": " + Str(BodyObject(r), "message"));
    return Status::Ok();
  }

  Transport t_;
};

}  // namespace

std::unique_ptr<Provider> NewAcquirerProvider(ProviderConfig config, http::HttpClient& client) {
  return std::make_unique<AcquirerProvider>(std::move(config), client);
}

}  // namespace emporium::payment
