// Adapter for the PaymentIntents-style protocol (form-encoded, Bearer key, manual capture,
// webhooks signed `Signature: t=..,v1=hex(HMAC(secret, t + "." + body))`).
#include <boost/json/array.hpp>

#include "platform/crypto/crypto.h"
#include "platform/http/url.h"
#include "services/payment/providers/providers.h"
#include "services/payment/providers/transport.h"

namespace emporium::payment {
namespace {

using boost::json::object;
using Fields = std::vector<std::pair<std::string, std::string>>;

class IntentsProvider final : public Provider {
 public:
  IntentsProvider(ProviderConfig c, http::HttpClient& client) : t_(std::move(c), client) {}
  const std::string& name() const override { return t_.config().name; }

  Result<TokenizedCard> Tokenize(const CardInput& card, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(http::Response r, Post("/v1/payment_methods",
                                                {{"type", "card"},
                                                 {"card[number]", card.number},
                                                 {"card[exp_month]", std::to_string(card.exp_month)},
                                                 {"card[exp_year]", std::to_string(card.exp_year)},
                                                 {"card[cvc]", card.cvc}},
                                                key));
    object o = BodyObject(r);
    if (r.status >= 500) return ProviderFailure(name(), r);
    if (r.status != 200) return InvalidArgument(ErrorMessage(o, "the card was rejected"));
    const object* c = o.contains("card") && o.at("card").is_object() ? &o.at("card").as_object() : nullptr;
    if (!c) return Internal(name() + ": malformed payment method");
    return TokenizedCard{Str(o, "id"), Str(*c, "brand"), Str(*c, "last4"), Int(*c, "exp_month"),
                         Int(*c, "exp_year")};
  }

  Result<AuthorizeResult> Authorize(const AuthorizeRequest& req) override {
    EMP_ASSIGN_OR_RETURN(http::Response r, Post("/v1/payment_intents",
                                                {{"amount", std::to_string(req.amount)},
                                                 {"currency", req.currency},
                                                 {"payment_method", req.token},
                                                 {"confirm", "true"},
                                                 {"capture_method", "manual"},
                                                 {"metadata[order_id]", req.order_id},
                                                 {"return_url", req.return_url}},
                                                req.idempotency_key));
    return FromIntentAnswer(r);
  }

  Result<AuthorizeResult> AuthorizeApproved(const std::string& ref, const std::string&) override {
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        t_.Send(http::Method::kGet, "/v1/payment_intents/" + http::PercentEncode(ref), {}, {}, Auth()));
    return FromIntentAnswer(r);
  }

  Result<std::string> Capture(const std::string& ref, int64_t amount, const std::string&,
                              const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(http::Response r,
                         Post("/v1/payment_intents/" + http::PercentEncode(ref) + "/capture",
                              {{"amount_to_capture", std::to_string(amount)}}, key));
    EMP_RETURN_IF_ERROR(Check(r));
    return ref;
  }

  Status Void(const std::string& ref, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(http::Response r,
                         Post("/v1/payment_intents/" + http::PercentEncode(ref) + "/cancel", {}, key));
    return Check(r);
  }

  Status Refund(const std::string& ref, int64_t amount, const std::string&, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        Post("/v1/refunds", {{"payment_intent", ref}, {"amount", std::to_string(amount)}}, key));
    return Check(r);
  }

  Result<int> VoidByReference(const std::string& order_id, const std::string& key) override {
    std::string query = "metadata['order_id']:'" + order_id + "'";
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        t_.Send(http::Method::kGet, "/v1/payment_intents/search?query=" + http::PercentEncode(query), {}, {},
                Auth()));
    EMP_RETURN_IF_ERROR(Check(r));
    object o = BodyObject(r);
    int voided = 0;
    if (auto data = o.if_contains("data"); data && data->is_array()) {
      for (const auto& v : data->as_array()) {
        if (!v.is_object()) continue;
        std::string status = Str(v.as_object(), "status");
        if (status != "requires_capture" && status != "requires_action") continue;
        std::string id = Str(v.as_object(), "id");
        EMP_RETURN_IF_ERROR(Void(id, key + ":" + id));
        ++voided;
      }
    }
    return voided;
  }

  Result<WebhookEvent> ParseWebhook(const http::Request& req, const WebhookPolicy& policy) const override {
    auto header = req.headers.Get("Signature");
    if (!header) return Unauthenticated("missing Signature header");
    std::string t, v1;
    std::string_view h = *header;
    while (!h.empty()) {
      size_t comma = h.find(',');
      std::string_view part = h.substr(0, comma);
      if (part.rfind("t=", 0) == 0) t = std::string(part.substr(2));
      if (part.rfind("v1=", 0) == 0) v1 = std::string(part.substr(3));
      h = comma == std::string_view::npos ? std::string_view() : h.substr(comma + 1);
    }
    if (t.empty() || v1.empty()) return Unauthenticated("malformed Signature header");
    std::string expected =
        crypto::HexEncode(crypto::HmacSha256(t_.config().webhook_secret, t + "." + req.body));
    if (!crypto::ConstantTimeEquals(expected, v1)) return Unauthenticated("bad webhook signature");
    int64_t ts = std::atoll(t.c_str());
    if (!WithinTolerance(SystemTime(std::chrono::seconds(ts)), policy)) {
      return Unauthenticated("webhook timestamp outside the tolerance");
    }
    object o = ParseObject(req.body);
    auto data = o.if_contains("data");
    const boost::json::value* obj =
        data && data->is_object() ? data->as_object().if_contains("object") : nullptr;
    if (Str(o, "id").empty() || !obj || !obj->is_object()) return InvalidArgument("malformed event");
    const object& pi = obj->as_object();
    WebhookEvent e;
    e.id = Str(o, "id");
    e.type = Str(o, "type");
    e.provider_ref = Str(pi, "id");
    e.amount = Int(pi, "amount");
    if (auto md = pi.if_contains("metadata"); md && md->is_object())
      e.order_id = Str(md->as_object(), "order_id");
    if (e.type == "payment_intent.amount_capturable_updated")
      e.kind = WebhookEvent::Kind::kAuthorized;
    else if (e.type == "payment_intent.payment_failed")
      e.kind = WebhookEvent::Kind::kFailed;
    else if (e.type == "payment_intent.succeeded")
      e.kind = WebhookEvent::Kind::kCaptured;
    else if (e.type == "payment_intent.canceled")
      e.kind = WebhookEvent::Kind::kVoided;
    else if (e.type == "charge.refunded")
      e.kind = WebhookEvent::Kind::kRefunded;
    else if (e.type == "charge.dispute.created")
      FromDispute(pi, e);
    return e;
  }

 private:
  std::vector<std::pair<std::string, std::string>> Auth() const {
    return {{"Authorization", "Bearer " + t_.config().api_key}};
  }

  Result<http::Response> Post(const std::string& path, const Fields& fields, const std::string& key) {
    auto headers = Auth();
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    return t_.Send(http::Method::kPost, path, http::FormEncode(fields), "application/x-www-form-urlencoded",
                   headers);
  }

  // data.object is a dispute: {id: dp_…, amount, currency, reason, payment_intent, charge}.
  static void FromDispute(const object& dp, WebhookEvent& e) {
    e.kind = WebhookEvent::Kind::kDisputed;
    e.dispute_id = Str(dp, "id");
    e.provider_ref = Str(dp, "payment_intent");
    e.currency = Str(dp, "currency");
    e.provider_reason = Str(dp, "reason");
    e.reason = "other";  // general, credit_not_processed, product_unacceptable, subscription_canceled…
    for (std::string_view r : {"fraudulent", "unrecognized", "product_not_received", "duplicate"}) {
      if (e.provider_reason == r) e.reason = std::string(r);
    }
  }

  static std::string ErrorMessage(const object& o, std::string fallback) {
    if (auto e = o.if_contains("error"); e && e->is_object()) {
      std::string m = Str(e->as_object(), "message");
      if (!m.empty()) return m;
    }
    return fallback;
  }

  Status Check(const http::Response& r) const {
    if (r.status >= 500) return ProviderFailure(name(), r);
    if (r.status >= 400)
      return FailedPrecondition(name() + ": " + ErrorMessage(BodyObject(r), "request refused"));
    return Status::Ok();
  }

  Result<AuthorizeResult> FromIntentAnswer(const http::Response& r) const {
    if (r.status >= 500) return ProviderFailure(name(), r);
    object o = BodyObject(r);
    AuthorizeResult out;
    if (r.status == 402) {
      const object* err =
          o.contains("error") && o.at("error").is_object() ? &o.at("error").as_object() : nullptr;
      std::string code = err ? Str(*err, "code") : "";
      // A processing error says nothing about the card: another provider may well succeed.
      if (code == "processing_error") return Unavailable(name() + ": processing_error");
      out.outcome = AuthOutcome::kDeclined;
      std::string decline = err ? Str(*err, "decline_code") : "";
      out.decline_code = decline.empty() || decline == "generic_decline" ? "card_declined" : decline;
      if (err && err->contains("payment_intent") && err->at("payment_intent").is_object()) {
        out.provider_ref = Str(err->at("payment_intent").as_object(), "id");
      }
      return out;
    }
    if (r.status != 200) return FailedPrecondition(name() + ": " + ErrorMessage(o, "request refused"));
    out.provider_ref = Str(o, "id");
    std::string status = Str(o, "status");
    if (status == "requires_capture" || status == "succeeded") {
      out.outcome = AuthOutcome::kAuthorized;
    } else if (status == "requires_action") {
      out.outcome = AuthOutcome::kRequiresAction;
      if (auto na = o.if_contains("next_action"); na && na->is_object()) {
        if (auto rd = na->as_object().if_contains("redirect_to_url"); rd && rd->is_object()) {
          out.action_url = Str(rd->as_object(), "url");
        }
      }
    } else {
      out.outcome = AuthOutcome::kDeclined;
      out.decline_code = "card_declined";
    }
    return out;
  }

  Transport t_;
};

}  // namespace

std::unique_ptr<Provider> NewIntentsProvider(ProviderConfig config, http::HttpClient& client) {
  return std::make_unique<IntentsProvider>(std::move(config), client);
}

std::unique_ptr<Provider> NewProvider(ProviderConfig config, http::HttpClient& client) {
  if (config.name == "intents") return NewIntentsProvider(std::move(config), client);
  if (config.name == "acquirer") return NewAcquirerProvider(std::move(config), client);
  if (config.name == "wallet") return NewWalletProvider(std::move(config), client);
  return nullptr;
}

}  // namespace emporium::payment
