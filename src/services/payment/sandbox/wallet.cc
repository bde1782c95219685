// Redirect/approval simulator (wallet-style orders API): create an order → the payer approves it
// at the payer-action URL (test mode: approved at once, answered with a redirect to return_url;
// the step-up card shows a challenge page instead, approved at /checkoutnow/complete) → authorize
// → capture / void → refund. Amounts are decimal strings; idempotency by PayPal-Request-Id;
// webhooks signed with PAYPAL-TRANSMISSION-{ID,TIME,SIG}, SIG = base64url(HMAC-SHA256(secret,
// id + "|" + time + "|" + hex(sha256(body)))); a dispute is CUSTOMER.DISPUTE.CREATED against the
// capture.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/crypto/crypto.h"
#include "services/payment/money.h"
#include "services/payment/sandbox/protocols.h"

namespace emporium::paysim {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;
using payment::DecimalAmount;
using payment::MinorAmount;

// `extra`: more top-level fields (the processor's answer to a declined card).
Response Error(int status, std::string_view name, std::string_view issue, std::string_view message,
               object extra = {}) {
  object o = std::move(extra);
  o["name"] = name;
  o["message"] = message;
  o["debug_id"] = "sandbox";
  if (!issue.empty()) o["details"] = array{object{{"issue", issue}, {"description", message}}};
  return Response::Json(status, json::Dump(o));
}

std::string Str(const boost::json::value* v) {
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The authorization and capture ids of an order (ORD-x → AUTH-x, CAP-x).
std::string Suffix(const std::string& id) {
  size_t dash = id.find('-');
  return dash == std::string::npos ? id : id.substr(dash + 1);
}

class WalletSandbox final : public Sandbox {
 public:
  using Sandbox::Sandbox;
  // Stops first: the dispute timer calls EmitDispute, which must not outlive this class.
  ~WalletSandbox() override { Stop(); }

 protected:
  std::string_view IdempotencyHeader() const override { return "PayPal-Request-Id"; }
  Response InjectedFailure() const override {
    return Error(500, "INTERNAL_SERVER_ERROR", "", "An internal server error occurred (injected).");
  }
  std::string_view DisputeIdPrefix() const override { return "PP-D-"; }

  // CUSTOMER.DISPUTE.CREATED: a card chargeback (dispute channel EXTERNAL) against the capture.
  void EmitDispute(const LedgerEntry& e) override {
    std::string reason = "OTHER";
    if (e.dispute_reason == "fraudulent" || e.dispute_reason == "unrecognized") reason = "UNAUTHORISED";
    if (e.dispute_reason == "product_not_received") reason = "MERCHANDISE_OR_SERVICE_NOT_RECEIVED";
    if (e.dispute_reason == "duplicate") reason = "DUPLICATE_TRANSACTION";
    std::string time = FormatRfc3339(SystemTime(std::chrono::milliseconds(NowUnixMs())));
    object dispute{
        {"dispute_id", e.dispute_id},
        {"create_time", time},
        {"update_time", time},
        {"disputed_transactions",
         array{object{{"seller_transaction_id", "CAP-" + Suffix(e.id)},
                      {"seller", object{{"merchant_id", "EMPORIUM"}}},
                      {"custom", e.reference},
                      {"create_time", FormatRfc3339(SystemTime(std::chrono::milliseconds(e.created_ms)))}}}},
        {"reason", reason},
        {"status", "OPEN"},
        {"dispute_amount", Money(e.disputed, e.currency)},
        {"dispute_life_cycle_stage", "CHARGEBACK"},
        {"dispute_channel", "EXTERNAL"}};
    Emit("CUSTOMER.DISPUTE.CREATED", std::move(dispute), "dispute");
  }

  Status AddProtocolRoutes(http::Router& r) override {
    auto api = [this](Response (WalletSandbox::*fn)(Request&, const object&)) {
      return [this, fn](Request& req) {
        if (!Authorized(req, "Authorization", "Bearer ")) {
          return Error(401, "AUTHENTICATION_FAILURE", "",
                       "Authentication failed due to invalid credentials.");
        }
        return Handle(req, [this, fn](Request& q) {
          auto doc = json::Parse(q.body.empty() ? "{}" : q.body);
          if (!doc.ok() || !doc->is_object())
            return Error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "bad JSON");
          return (this->*fn)(q, doc->as_object());
        });
      };
    };
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v3/vault/payment-tokens", api(&WalletSandbox::Vault)));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v2/checkout/orders", api(&WalletSandbox::CreateOrder)));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kGet, "/v2/checkout/orders", api(&WalletSandbox::ListOrders)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v2/checkout/orders/{id}/authorize", api(&WalletSandbox::Authorize)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v2/payments/authorizations/{id}/capture", api(&WalletSandbox::Capture)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v2/payments/authorizations/{id}/void", api(&WalletSandbox::Void)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v2/payments/captures/{id}/refund", api(&WalletSandbox::Refund)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kGet, "/checkoutnow", [this](Request& q) { return Approve(q, false); }));
    return r.Add(http::Method::kGet, "/checkoutnow/complete",
                 [this](Request& q) { return Approve(q, true); });
  }

 private:
  void Emit(const std::string& type, object resource, std::string_view resource_type = "checkout-order") {
    std::string id = NewId("WH-");
    std::string time = FormatRfc3339(SystemTime(std::chrono::milliseconds(NowUnixMs())));
    std::string body = json::Dump(object{{"id", id},
                                         {"event_type", type},
                                         {"create_time", time},
                                         {"resource_type", resource_type},
                                         {"resource", std::move(resource)}});
    std::string sig = crypto::Base64UrlEncode(crypto::HmacSha256(
        options().webhook_secret, id + "|" + time + "|" + crypto::HexEncode(crypto::Sha256(body))));
    SendWebhook(std::move(body), {{"PAYPAL-TRANSMISSION-ID", id},
                                  {"PAYPAL-TRANSMISSION-TIME", time},
                                  {"PAYPAL-TRANSMISSION-SIG", sig}});
  }

  object Money(int64_t minor, const std::string& currency) const {
    return object{{"currency_code", currency}, {"value", DecimalAmount(minor, currency)}};
  }

  std::string OrderStatus(const LedgerEntry& e) const {
    if (e.status == "created" || e.status == "requires_action") return "PAYER_ACTION_REQUIRED";
    if (e.status == "approved") return "APPROVED";
    if (e.status == "refused") return "VOIDED";
    return "COMPLETED";
  }

  object Order(const LedgerEntry& e) const {
    object o{{"id", e.id},
             {"intent", "AUTHORIZE"},
             {"status", OrderStatus(e)},
             {"purchase_units",
              array{object{{"reference_id", e.reference}, {"amount", Money(e.amount, e.currency)}}}}};
    if (e.status == "created" || e.status == "requires_action") {
      o["links"] = array{object{
          {"rel", "payer-action"}, {"method", "GET"}, {"href", base_url() + "/checkoutnow?token=" + e.id}}};
    }
    if (e.status == "authorized" || e.status == "captured" || e.status == "voided") {
      o["authorization_id"] = "AUTH-" + Suffix(e.id);
    }
    return o;
  }

  Response Vault(Request&, const object& body) {
    auto src = body.if_contains("payment_source");
    const boost::json::value* card = src && src->is_object() ? src->as_object().if_contains("card") : nullptr;
    if (!card || !card->is_object())
      return Error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "card missing");
    std::string expiry = Str(card->as_object().if_contains("expiry"));  // "2030-12"
    if (expiry.size() != 7 || expiry[4] != '-')
      return Error(422, "UNPROCESSABLE_ENTITY", "CARD_EXPIRED", "bad expiry");
    int64_t year = std::atoll(expiry.substr(0, 4).c_str());
    int64_t month = std::atoll(expiry.substr(5).c_str());
    std::lock_guard lock(mu_);
    auto stored = Tokenize(Str(card->as_object().if_contains("number")), month, year, "TOK-");
    if (!stored.ok())
      return Error(422, "UNPROCESSABLE_ENTITY", "INVALID_CARD_NUMBER", stored.status().message());
    std::string brand = stored->brand;
    for (char& c : brand) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Response::Json(
        201, json::Dump(object{{"id", stored->token},
                               {"payment_source", object{{"card", object{{"brand", brand},
                                                                         {"last_digits", stored->last4},
                                                                         {"expiry", expiry}}}}}}));
  }

  Response CreateOrder(Request&, const object& body) {
    auto units = body.if_contains("purchase_units");
    if (!units || !units->is_array() || units->as_array().size() != 1 || !units->as_array()[0].is_object()) {
      return Error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "one purchase unit is required");
    }
    const object& unit = units->as_array()[0].as_object();
    auto amount = unit.if_contains("amount");
    if (!amount || !amount->is_object())
      return Error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "amount");
    std::string currency = Str(amount->as_object().if_contains("currency_code"));
    auto minor = MinorAmount(Str(amount->as_object().if_contains("value")), currency);
    if (!minor.ok() || *minor <= 0 || currency.size() != 3) {
      return Error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", "invalid amount");
    }
    auto src = body.if_contains("payment_source");
    const boost::json::value* token =
        src && src->is_object() ? src->as_object().if_contains("token") : nullptr;
    std::string token_id = token && token->is_object() ? Str(token->as_object().if_contains("id")) : "";
    std::lock_guard lock(mu_);
    if (!Card(token_id))
      return Error(422, "UNPROCESSABLE_ENTITY", "TOKEN_NOT_FOUND", "unknown payment token");
    LedgerEntry e;
    e.id = NewId("ORD-");
    e.reference = Str(unit.if_contains("reference_id"));
    e.amount = *minor;
    e.currency = currency;
    e.token = token_id;
    e.status = "created";
    if (auto ctx = body.if_contains("application_context"); ctx && ctx->is_object()) {
      e.return_url = Str(ctx->as_object().if_contains("return_url"));
    }
    if (!Put(e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
    return Response::Json(201, json::Dump(Order(e)));
  }

  // GET /v2/checkout/orders?reference_id=X — a sandbox extension for looking up orders by the
  // merchant's reference (after a timeout the merchant may not know the order id).
  Response ListOrders(Request& req, const object&) {
    std::string ref = req.QueryParam("reference_id").value_or("");
    std::lock_guard lock(mu_);
    array orders;
    for (const LedgerEntry& e : ByReference(ref)) orders.push_back(Order(e));
    return Response::Json(200, json::Dump(object{{"orders", orders}}));
  }

  Response Approve(Request& req, bool complete) {
    std::string id = req.QueryParam("token").value_or("");
    std::lock_guard lock(mu_);
    auto e = Find(id);
    if (!e) return Response::Text(404, "unknown order");
    auto card = Card(e->token);
    if (e->status == "created" || e->status == "requires_action") {
      if (!complete && card && card->behaviour == CardBehaviour::kStepUp) {
        e->status = "requires_action";
        if (!Put(*e).ok()) return Response::Text(500, "ledger unavailable");
        return Response::Text(200, "Confirm this payment with your bank: " + base_url() +
                                       "/checkoutnow/complete?token=" + e->id);
      }
      e->status = "approved";
      if (!Put(*e).ok()) return Response::Text(500, "ledger unavailable");
      if (complete) Emit("CHECKOUT.ORDER.APPROVED", Order(*e));
    }
    Response r;
    r.status = 302;
    std::string url = e->return_url.empty() ? base_url() + "/returned" : e->return_url;
    r.headers.Set("Location", url + (url.find('?') == std::string::npos ? "?" : "&") + "token=" + e->id +
                                  "&PayerID=SANDBOXPAYER");
    return r;
  }

  Response Authorize(Request& req, const object&) {
    std::optional<StoredCard> card;
    std::optional<LedgerEntry> e;
    {
      std::lock_guard lock(mu_);
      e = Find(std::string(*req.PathParam("id")));
      if (e) card = Card(e->token);
    }
    if (!e || !card) return Error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "order not found");
    if (e->status == "created" || e->status == "requires_action") {
      return Error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED",
                   "Payer has not yet approved the order.");
    }
    if (e->status != "approved")
      return Error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_AUTHORIZED", "order already processed");
    if (card->behaviour == CardBehaviour::kSlow) SlowDelay();
    std::lock_guard lock(mu_);
    switch (card->behaviour) {
      case CardBehaviour::kDecline:
      case CardBehaviour::kInsufficientFunds:
        e->status = "refused";
        if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
        return Error(
            422, "UNPROCESSABLE_ENTITY",
            card->behaviour == CardBehaviour::kDecline ? "INSTRUMENT_DECLINED" : "INSUFFICIENT_FUNDS",
            "The instrument presented was declined.");
      case CardBehaviour::kExpiredCard:
        e->status = "refused";
        if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
        return Error(422, "UNPROCESSABLE_ENTITY", "CARD_EXPIRED", "The card is expired.");
      case CardBehaviour::kIncorrectCvc: {
        e->status = "refused";
        if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
        // The issuer's CVV check failed: the processor's answer says so (cvv_code N, no match).
        return Error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED",
                     "The instrument presented was declined.",
                     object{{"processor_response", object{{"response_code", "00N7"}, {"cvv_code", "N"}}}});
      }
      case CardBehaviour::kProcessingError:
        return Error(500, "INTERNAL_SERVER_ERROR", "", "An internal server error has occurred.");
      default: break;
    }
    e->status = "authorized";
    if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
    object auth{{"id", "AUTH-" + Suffix(e->id)},
                {"status", "CREATED"},
                {"amount", Money(e->amount, e->currency)},
                {"custom_id", e->reference}};
    Emit("PAYMENT.AUTHORIZATION.CREATED", auth);
    object o = Order(*e);
    o["purchase_units"].as_array()[0].as_object()["payments"] = object{{"authorizations", array{auth}}};
    return Response::Json(201, json::Dump(o));
  }

  std::optional<LedgerEntry> ByAuth(const std::string& id, std::string_view prefix) {
    if (id.rfind(prefix, 0) != 0) return std::nullopt;
    return Find("ORD-" + id.substr(prefix.size()));
  }

  Response Capture(Request& req, const object& body) {
    std::lock_guard lock(mu_);
    auto e = ByAuth(std::string(*req.PathParam("id")), "AUTH-");
    if (!e) return Error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "authorization not found");
    if (e->status != "authorized")
      return Error(422, "UNPROCESSABLE_ENTITY", "AUTHORIZATION_ALREADY_CAPTURED", "not capturable");
    int64_t amount = e->amount;
    if (auto a = body.if_contains("amount"); a && a->is_object()) {
      auto m = MinorAmount(Str(a->as_object().if_contains("value")), e->currency);
      if (!m.ok()) return Error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", "invalid amount");
      amount = *m;
    }
    if (amount <= 0 || amount > e->amount)
      return Error(422, "UNPROCESSABLE_ENTITY", "AMOUNT_MISMATCH", "invalid amount");
    e->status = "captured";
    e->captured = amount;
    ScheduleFraudDispute(*e);
    if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
    object cap{{"id", "CAP-" + Suffix(e->id)},
               {"status", "COMPLETED"},
               {"amount", Money(amount, e->currency)},
               {"custom_id", e->reference}};
    Emit("PAYMENT.CAPTURE.COMPLETED", cap);
    return Response::Json(201, json::Dump(cap));
  }

  Response Void(Request& req, const object&) {
    std::lock_guard lock(mu_);
    auto e = ByAuth(std::string(*req.PathParam("id")), "AUTH-");
    if (!e) return Error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "authorization not found");
    if (e->status == "voided") return Response{204, {}, "", nullptr};
    if (e->status != "authorized")
      return Error(422, "UNPROCESSABLE_ENTITY", "PREVIOUSLY_CAPTURED", "cannot void");
    e->status = "voided";
    if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
    Emit("PAYMENT.AUTHORIZATION.VOIDED",
         object{{"id", "AUTH-" + Suffix(e->id)}, {"status", "VOIDED"}, {"custom_id", e->reference}});
    return Response{204, {}, "", nullptr};
  }

  Response Refund(Request& req, const object& body) {
    std::lock_guard lock(mu_);
    auto e = ByAuth(std::string(*req.PathParam("id")), "CAP-");
    if (!e) return Error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "capture not found");
    int64_t amount = e->captured - e->refunded;
    if (auto a = body.if_contains("amount"); a && a->is_object()) {
      auto m = MinorAmount(Str(a->as_object().if_contains("value")), e->currency);
      if (!m.ok()) return Error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION", "invalid amount");
      amount = *m;
    }
    if (e->status != "captured" || amount <= 0 || amount > e->captured - e->refunded) {
      return Error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED",
                   "refund exceeds the captured amount");
    }
    e->refunded += amount;
    if (!Put(*e).ok()) return Error(500, "INTERNAL_SERVER_ERROR", "", "ledger unavailable");
    object refund{{"id", NewId("REF-")},
                  {"status", "COMPLETED"},
                  {"amount", Money(amount, e->currency)},
                  {"custom_id", e->reference}};
    Emit("PAYMENT.CAPTURE.REFUNDED", refund);
    return Response::Json(201, json::Dump(refund));
  }
};

}  // namespace

std::unique_ptr<Sandbox> NewWalletSandbox(SandboxOptions options, sql::Database& db, Clock& clock) {
  return std::make_unique<WalletSandbox>(std::move(options), db, clock);
}

}  // namespace emporium::paysim
