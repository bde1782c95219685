// Adapter for the redirect/approval protocol (wallet-style orders: create → payer approval →
// authorize → capture; decimal string amounts; PayPal-Request-Id idempotency; webhooks signed with
// PAYPAL-TRANSMISSION-{ID,TIME,SIG}). In test mode the sandbox approves at the payer-action URL
// with a redirect, which this adapter follows itself; a step-up card leaves the order waiting for
// the payer, and the CHECKOUT.ORDER.APPROVED webhook resumes it.
#include <boost/json/array.hpp>

#include "platform/core/json.h"
#include "platform/crypto/crypto.h"
#include "platform/http/url.h"
#include "services/payment/money.h"
#include "services/payment/providers/providers.h"
#include "services/payment/providers/transport.h"

namespace emporium::payment {
namespace {

using boost::json::array;
using boost::json::object;

class WalletProvider final : public Provider {
 public:
  WalletProvider(ProviderConfig c, http::HttpClient& client) : t_(std::move(c), client) {}
  const std::string& name() const override { return t_.config().name; }

  Result<TokenizedCard> Tokenize(const CardInput& card, const std::string& key) override {
    std::string expiry = std::to_string(card.exp_year) + "-" + (card.exp_month < 10 ? "0" : "") +
                         std::to_string(card.exp_month);
    object body{
        {"payment_source",
         object{{"card", object{{"number", card.number}, {"expiry", expiry}, {"security_code", card.cvc}}}}}};
    EMP_ASSIGN_OR_RETURN(http::Response r, Post("/v3/vault/payment-tokens", body, key));
    if (r.status >= 500) return ProviderFailure(name(), r);
    object o = BodyObject(r);
    if (r.status != 201) return InvalidArgument(Issue(o).empty() ? "the card was rejected" : Issue(o));
    auto src = o.if_contains("payment_source");
    const boost::json::value* c = src && src->is_object() ? src->as_object().if_contains("card") : nullptr;
    if (!c || !c->is_object()) return Internal(name() + ": malformed payment token");
    std::string brand = Str(c->as_object(), "brand");
    for (char& ch : brand) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string exp = Str(c->as_object(), "expiry");
    return TokenizedCard{Str(o, "id"), brand, Str(c->as_object(), "last_digits"),
                         exp.size() == 7 ? std::atoll(exp.substr(5).c_str()) : 0,
                         exp.size() == 7 ? std::atoll(exp.substr(0, 4).c_str()) : 0};
  }

  Result<AuthorizeResult> Authorize(const AuthorizeRequest& req) override {
    object body{
        {"intent", "AUTHORIZE"},
        {"purchase_units",
         array{object{{"reference_id", req.order_id},
                      {"custom_id", req.order_id},
                      {"amount", object{{"currency_code", req.currency},
                                        {"value", DecimalAmount(req.amount, req.currency)}}}}}},
        {"payment_source", object{{"token", object{{"id", req.token}, {"type", "PAYMENT_METHOD_TOKEN"}}}}},
        {"application_context", object{{"return_url", req.return_url}}}};
    EMP_ASSIGN_OR_RETURN(http::Response created,
                         Post("/v2/checkout/orders", body, req.idempotency_key + ":create"));
    if (created.status >= 500) return ProviderFailure(name(), created);
    object order = BodyObject(created);
    if (created.status != 201) return FailedPrecondition(name() + ": " + Issue(order));
    std::string order_id = Str(order, "id");
    std::string approve;
    if (auto links = order.if_contains("links"); links && links->is_array()) {
      for (const auto& l : links->as_array()) {
        if (l.is_object() && Str(l.as_object(), "rel") == "payer-action")
          approve = Str(l.as_object(), "href");
      }
    }
    if (!approve.empty()) {
      // Test mode: the payer-action URL approves at once and redirects back; a challenge page (200)
      // means the payer has to act.
      auto [base, target] = SplitUrl(approve);
      EMP_ASSIGN_OR_RETURN(http::Response page, t_.Send(http::Method::kGet, target, {}, {}, {}, base));
      if (page.status >= 500) return ProviderFailure(name(), page);
      if (page.status != 302) {
        AuthorizeResult out;
        out.outcome = AuthOutcome::kRequiresAction;
        out.provider_ref = order_id;
        out.action_url = approve;
        return out;
      }
    }
    return AuthorizeApproved(order_id, req.idempotency_key);
  }

  Result<AuthorizeResult> AuthorizeApproved(const std::string& order_id, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(http::Response r,
                         Post("/v2/checkout/orders/" + http::PercentEncode(order_id) + "/authorize", object{},
                              key + ":authorize"));
    if (r.status >= 500) return ProviderFailure(name(), r);
    object o = BodyObject(r);
    AuthorizeResult out;
    if (r.status == 422) {
      std::string issue = Issue(o);
      if (issue == "ORDER_NOT_APPROVED") {
        out.outcome = AuthOutcome::kRequiresAction;
        out.provider_ref = order_id;
        return out;
      }
      out.outcome = AuthOutcome::kDeclined;
      out.provider_ref = order_id;
      out.decline_code = DeclineCode(issue, o);
      return out;
    }
    if (r.status != 201) return FailedPrecondition(name() + ": " + Issue(o));
    auto units = o.if_contains("purchase_units");
    if (units && units->is_array() && !units->as_array().empty() && units->as_array()[0].is_object()) {
      auto payments = units->as_array()[0].as_object().if_contains("payments");
      if (payments && payments->is_object()) {
        auto auths = payments->as_object().if_contains("authorizations");
        if (auths && auths->is_array() && !auths->as_array().empty() && auths->as_array()[0].is_object()) {
          out.provider_ref = Str(auths->as_array()[0].as_object(), "id");
        }
      }
    }
    if (out.provider_ref.empty()) return Internal(name() + ": authorization without an id");
    out.outcome = AuthOutcome::kAuthorized;
    return out;
  }

  Result<std::string> Capture(const std::string& ref, int64_t amount, const std::string& currency,
                              const std::string& key) override {
    object body{{"amount", object{{"currency_code", currency}, {"value", DecimalAmount(amount, currency)}}},
                {"final_capture", true}};
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        Post("/v2/payments/authorizations/" + http::PercentEncode(ref) + "/capture", body, key));
    EMP_RETURN_IF_ERROR(Check(r));
    std::string id = Str(BodyObject(r), "id");
    if (id.empty()) return Internal(name() + ": capture without an id");
    return id;
  }

  Status Void(const std::string& ref, const std::string& key) override {
    // An order the payer never got through (step-up pending) holds no authorization to void.
    if (ref.rfind("ORD-", 0) == 0) return Status::Ok();
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        Post("/v2/payments/authorizations/" + http::PercentEncode(ref) + "/void", object{}, key));
    return Check(r);
  }

  Status Refund(const std::string& capture_ref, int64_t amount, const std::string& currency,
                const std::string& key) override {
    object body{{"amount", object{{"currency_code", currency}, {"value", DecimalAmount(amount, currency)}}}};
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        Post("/v2/payments/captures/" + http::PercentEncode(capture_ref) + "/refund", body, key));
    return Check(r);
  }

  Result<int> VoidByReference(const std::string& order_id, const std::string& key) override {
    EMP_ASSIGN_OR_RETURN(
        http::Response r,
        t_.Send(http::Method::kGet, "/v2/checkout/orders?reference_id=" + http::PercentEncode(order_id), {},
                {}, Auth()));
    EMP_RETURN_IF_ERROR(Check(r));
    int voided = 0;
    object o = BodyObject(r);
    if (auto orders = o.if_contains("orders"); orders && orders->is_array()) {
      for (const auto& v : orders->as_array()) {
        if (!v.is_object() || Str(v.as_object(), "status") != "COMPLETED") continue;
        std::string auth = Str(v.as_object(), "authorization_id");
        if (auth.empty()) continue;
        EMP_ASSIGN_OR_RETURN(http::Response vr,
                             Post("/v2/payments/authorizations/" + http::PercentEncode(auth) + "/void",
                                  object{}, key + ":" + auth));
        if (vr.status >= 500) return ProviderFailure(name(), vr);
        if (vr.status == 204) ++voided;
      }
    }
    return voided;
  }

  Result<WebhookEvent> ParseWebhook(const http::Request& req, const WebhookPolicy& policy) const override {
    auto id = req.headers.Get("PAYPAL-TRANSMISSION-ID");
    auto time = req.headers.Get("PAYPAL-TRANSMISSION-TIME");
    auto sig = req.headers.Get("PAYPAL-TRANSMISSION-SIG");
    if (!id || !time || !sig) return Unauthenticated("missing transmission headers");
    std::string expected = crypto::Base64UrlEncode(crypto::HmacSha256(
        t_.config().webhook_secret,
        std::string(*id) + "|" + std::string(*time) + "|" + crypto::HexEncode(crypto::Sha256(req.body))));
    if (!crypto::ConstantTimeEquals(expected, *sig)) return Unauthenticated("bad transmission signature");
    auto at = ParseRfc3339(*time);
    if (!at.ok() || !WithinTolerance(*at, policy))
      return Unauthenticated("transmission time outside the tolerance");
    object o = ParseObject(req.body);
    auto res = o.if_contains("resource");
    if (Str(o, "id").empty() || !res || !res->is_object()) return InvalidArgument("malformed event");
    const object& r = res->as_object();
    WebhookEvent e;
    e.id = Str(o, "id");
    e.type = Str(o, "event_type");
    e.provider_ref = Str(r, "id");
    e.order_id = Str(r, "custom_id");
    if (auto units = r.if_contains("purchase_units");
        units && units->is_array() && !units->as_array().empty() && units->as_array()[0].is_object()) {
      e.order_id = Str(units->as_array()[0].as_object(), "reference_id");
    }
    if (auto amount = r.if_contains("amount"); amount && amount->is_object()) {
      auto m = MinorAmount(Str(amount->as_object(), "value"), Str(amount->as_object(), "currency_code"));
      if (m.ok()) e.amount = *m;
    }
    if (e.type == "CHECKOUT.ORDER.APPROVED")
      e.kind = WebhookEvent::Kind::kApproved;
    else if (e.type == "PAYMENT.AUTHORIZATION.CREATED")
      e.kind = WebhookEvent::Kind::kAuthorized;
    else if (e.type == "PAYMENT.CAPTURE.COMPLETED")
      e.kind = WebhookEvent::Kind::kCaptured;
    else if (e.type == "PAYMENT.AUTHORIZATION.VOIDED")
      e.kind = WebhookEvent::Kind::kVoided;
    else if (e.type == "PAYMENT.CAPTURE.REFUNDED")
      e.kind = WebhookEvent::Kind::kRefunded;
    else if (e.type == "CUSTOMER.DISPUTE.CREATED")
      FromDispute(r, e);
    return e;
  }

 private:
  std::vector<std::pair<std::string, std::string>> Auth() const {
    return {{"Authorization", "Bearer " + t_.config().api_key}};
  }

  Result<http::Response> Post(const std::string& path, const object& body, const std::string& key) {
    auto headers = Auth();
    if (!key.empty()) headers.emplace_back("PayPal-Request-Id", key);
    return t_.Send(http::Method::kPost, path, json::Dump(body), "application/json", headers);
  }

  static std::string DeclineCode(const std::string& issue, const object& answer) {
    if (issue == "INSUFFICIENT_FUNDS") return "insufficient_funds";
    if (issue == "CARD_EXPIRED") return "expired_card";
    // The processor's CVV result N: the security code did not match.
    if (auto pr = answer.if_contains("processor_response");
        pr && pr->is_object() && Str(pr->as_object(), "cvv_code") == "N") {
      return "incorrect_cvc";
    }
    return "card_declined";
  }

  // CUSTOMER.DISPUTE.CREATED: {dispute_id, reason, dispute_amount, disputed_transactions[
  // {seller_transaction_id: our capture id, custom: our reference}]}.
  static void FromDispute(const object& r, WebhookEvent& e) {
    e.kind = WebhookEvent::Kind::kDisputed;
    e.dispute_id = Str(r, "dispute_id");
    e.provider_reason = Str(r, "reason");
    e.provider_ref.clear();
    e.order_id.clear();
    if (auto txs = r.if_contains("disputed_transactions");
        txs && txs->is_array() && !txs->as_array().empty() && txs->as_array()[0].is_object()) {
      const object& t = txs->as_array()[0].as_object();
      e.provider_ref = Str(t, "seller_transaction_id");
      e.order_id = Str(t, "custom");
    }
    if (auto a = r.if_contains("dispute_amount"); a && a->is_object()) {
      e.currency = Str(a->as_object(), "currency_code");
      auto m = MinorAmount(Str(a->as_object(), "value"), e.currency);
      if (m.ok()) e.amount = *m;
    }
    const std::string& p = e.provider_reason;
    if (p == "UNAUTHORISED")
      e.reason = "fraudulent";
    else if (p == "MERCHANDISE_OR_SERVICE_NOT_RECEIVED")
      e.reason = "product_not_received";
    else if (p == "DUPLICATE_TRANSACTION")
      e.reason = "duplicate";
    else
      e.reason = "other";
  }

  static std::string Issue(const object& o) {
    if (auto d = o.if_contains("details");
        d && d->is_array() && !d->as_array().empty() && d->as_array()[0].is_object()) {
      return Str(d->as_array()[0].as_object(), "issue");
    }
    return Str(o, "name");
  }

  Status Check(const http::Response& r) const {
    if (r.status >= 500) return ProviderFailure(name(), r);
    if (r.status >= 400) return FailedPrecondition(name() + ": " + Issue(BodyObject(r)));
    return Status::Ok();
  }

  Transport t_;
};

}  // namespace

std::unique_ptr<Provider> NewWalletProvider(ProviderConfig config, http::HttpClient& client) {
  return std::make_unique<WalletProvider>(std::move(config), client);
}

}  // namespace emporium::payment
