// PaymentIntents-style simulator: form-encoded POSTs, Bearer secret key, manual capture,
// step-up through next_action.redirect_to_url, asynchronous webhooks signed with
// `Signature: t=...,v1=hex(HMAC-SHA256(secret, t + "." + body))`; a dispute is
// charge.dispute.created with a dp_… dispute object.
#include <boost/json/object.hpp>
#include <charconv>

#include "platform/core/json.h"
#include "platform/crypto/crypto.h"
#include "services/payment/sandbox/protocols.h"

namespace emporium::paysim {
namespace {

using boost::json::object;
using http::Request;
using http::Response;

int64_t ToInt(const std::string& s) {
  int64_t v = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : -1;
}

Response Error(int status, std::string_view type, std::string_view code, std::string_view message,
               std::string_view decline_code = {}, const object* intent = nullptr) {
  object err{{"type", type}, {"code", code}, {"message", message}};
  if (!decline_code.empty()) err["decline_code"] = decline_code;
  if (intent) err["payment_intent"] = *intent;
  return Response::Json(status, json::Dump(object{{"error", err}}));
}

std::string IntentStatus(const std::string& ledger_status) {
  if (ledger_status == "requires_action") return "requires_action";
  if (ledger_status == "authorized") return "requires_capture";
  if (ledger_status == "captured") return "succeeded";
  if (ledger_status == "voided") return "canceled";
  return "requires_payment_method";
}

class IntentsSandbox final : public Sandbox {
 public:
  using Sandbox::Sandbox;
  // Stops first: the dispute timer calls EmitDispute, which must not outlive this class.
  ~IntentsSandbox() override { Stop(); }

 protected:
  std::string_view IdempotencyHeader() const override { return "Idempotency-Key"; }
  Response InjectedFailure() const override {
    return Error(500, "api_error", "internal_error", "An unexpected error occurred (injected).");
  }
  std::string_view DisputeIdPrefix() const override { return "dp_"; }

  // charge.dispute.created with a dispute object; its reason in this protocol's vocabulary
  // ("general" for other).
  void EmitDispute(const LedgerEntry& e) override {
    int64_t created = NowUnixMs() / 1000;
    object dispute{{"id", e.dispute_id},
                   {"object", "dispute"},
                   {"amount", e.disputed},
                   {"currency", e.currency},
                   {"charge", ChargeId(e)},
                   {"payment_intent", e.id},
                   {"reason", e.dispute_reason == "other" ? "general" : e.dispute_reason},
                   {"status", "needs_response"},
                   {"is_charge_refundable", false},
                   {"livemode", false},
                   {"created", created},
                   {"evidence_details", object{{"due_by", created + 7 * 24 * 3600},
                                               {"has_evidence", false},
                                               {"past_due", false},
                                               {"submission_count", 0}}},
                   {"metadata", object{}}};
    Emit("charge.dispute.created", dispute);
  }

  Status AddProtocolRoutes(http::Router& r) override {
    auto api = [this](Response (IntentsSandbox::*fn)(Request&)) {
      return [this, fn](Request& req) {
        if (!Authorized(req, "Authorization", "Bearer ")) {
          return Error(401, "invalid_request_error", "api_key_invalid", "Invalid API Key provided.");
        }
        return Handle(req, [this, fn](Request& q) { return (this->*fn)(q); });
      };
    };
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payment_methods", api(&IntentsSandbox::CreateMethod)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payment_intents", api(&IntentsSandbox::CreateIntent)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kGet, "/v1/payment_intents/search", api(&IntentsSandbox::Search)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kGet, "/v1/payment_intents/{id}", api(&IntentsSandbox::GetIntent)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payment_intents/{id}/capture", api(&IntentsSandbox::Capture)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payment_intents/{id}/cancel", api(&IntentsSandbox::Cancel)));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v1/refunds", api(&IntentsSandbox::Refund)));
    // The challenge page the customer is sent to; in test mode visiting it completes it.
    return r.Add(http::Method::kGet, "/3ds/{id}", [this](Request& req) { return Challenge(req); });
  }

 private:
  object Intent(const LedgerEntry& e) const {
    object o{{"id", e.id},
             {"object", "payment_intent"},
             {"amount", e.amount},
             {"amount_capturable", e.status == "authorized" ? e.amount - e.captured : 0},
             {"amount_received", e.captured},
             {"currency", e.currency},
             {"capture_method", "manual"},
             {"status", IntentStatus(e.status)},
             {"payment_method", e.token},
             {"metadata", object{{"order_id", e.reference}}},
             {"created", e.created_ms / 1000}};
    if (e.status == "requires_action") {
      o["next_action"] = object{
          {"type", "redirect_to_url"},
          {"redirect_to_url", object{{"url", base_url() + "/3ds/" + e.id}, {"return_url", e.return_url}}}};
    }
    return o;
  }

  // The intent's one charge (this sandbox makes one per intent).
  static std::string ChargeId(const LedgerEntry& e) { return "ch_" + e.id.substr(e.id.find('_') + 1); }

  void Emit(const std::string& type, const object& obj) {
    std::string t = std::to_string(NowUnixMs() / 1000);
    std::string body = json::Dump(object{{"id", NewId("evt_")},
                                         {"object", "event"},
                                         {"type", type},
                                         {"created", NowUnixMs() / 1000},
                                         {"data", object{{"object", obj}}}});
    std::string sig = crypto::HexEncode(crypto::HmacSha256(options().webhook_secret, t + "." + body));
    SendWebhook(std::move(body), {{"Signature", "t=" + t + ",v1=" + sig}});
  }

  Response CreateMethod(Request& req) {
    auto f = ParseForm(req.body);
    if (f["type"] != "card")
      return Error(400, "invalid_request_error", "parameter_invalid", "type must be card");
    std::lock_guard lock(mu_);
    auto card = Tokenize(f["card[number]"], ToInt(f["card[exp_month]"]), ToInt(f["card[exp_year]"]), "pm_");
    if (!card.ok()) return Error(402, "card_error", "incorrect_number", card.status().message());
    object o{{"id", card->token},
             {"object", "payment_method"},
             {"type", "card"},
             {"card", object{{"brand", card->brand},
                             {"last4", card->last4},
                             {"exp_month", card->exp_month},
                             {"exp_year", card->exp_year}}}};
    return Response::Json(200, json::Dump(o));
  }

  Response CreateIntent(Request& req) {
    auto f = ParseForm(req.body);
    int64_t amount = ToInt(f["amount"]);
    if (amount <= 0 || f["currency"].size() != 3) {
      return Error(400, "invalid_request_error", "parameter_invalid", "amount and currency are required");
    }
    if (f["confirm"] != "true" || f["capture_method"] != "manual") {
      return Error(400, "invalid_request_error", "parameter_invalid",
                   "this sandbox needs confirm=true, capture_method=manual");
    }
    std::optional<StoredCard> card;
    {
      std::lock_guard lock(mu_);
      card = Card(f["payment_method"]);
    }
    if (!card) return Error(400, "invalid_request_error", "resource_missing", "No such PaymentMethod");
    if (card->behaviour == CardBehaviour::kSlow) SlowDelay();
    std::lock_guard lock(mu_);
    LedgerEntry e;
    e.id = NewId("pi_");
    e.reference = f["metadata[order_id]"];
    e.amount = amount;
    e.currency = f["currency"];
    e.token = card->token;
    e.return_url = f["return_url"];
    switch (card->behaviour) {
      case CardBehaviour::kApprove:
      case CardBehaviour::kSlow:
      case CardBehaviour::kFraudDispute: e.status = "authorized"; break;
      case CardBehaviour::kStepUp: e.status = "requires_action"; break;
      default: e.status = "refused";
    }
    if (Status s = Put(e); !s.ok()) return Error(500, "api_error", "internal_error", "ledger unavailable");
    object intent = Intent(e);
    switch (card->behaviour) {
      case CardBehaviour::kDecline:
        Emit("payment_intent.payment_failed", intent);
        return Error(402, "card_error", "card_declined", "Your card was declined.", "generic_decline",
                     &intent);
      case CardBehaviour::kInsufficientFunds:
        Emit("payment_intent.payment_failed", intent);
        return Error(402, "card_error", "card_declined", "Your card has insufficient funds.",
                     "insufficient_funds", &intent);
      case CardBehaviour::kExpiredCard:
        Emit("payment_intent.payment_failed", intent);
        return Error(402, "card_error", "expired_card", "Your card has expired.", "expired_card", &intent);
      case CardBehaviour::kIncorrectCvc:
        Emit("payment_intent.payment_failed", intent);
        return Error(402, "card_error", "incorrect_cvc", "Your card's security code is incorrect.",
                     "incorrect_cvc", &intent);
      case CardBehaviour::kProcessingError:
        return Error(402, "card_error", "processing_error", "An error occurred while processing your card.",
                     {}, &intent);
      case CardBehaviour::kStepUp: return Response::Json(200, json::Dump(intent));
      default:
        Emit("payment_intent.amount_capturable_updated", intent);
        return Response::Json(200, json::Dump(intent));
    }
  }

  Response GetIntent(Request& req) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("id")));
    if (!e) return Error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    return Response::Json(200, json::Dump(Intent(*e)));
  }

  // query=metadata['order_id']:'<id>' — the one search this sandbox understands.
  Response Search(Request& req) {
    std::string q = req.QueryParam("query").value_or("");
    const std::string prefix = "metadata['order_id']:'";
    if (q.rfind(prefix, 0) != 0 || q.size() < prefix.size() + 1 || q.back() != '\'') {
      return Error(400, "invalid_request_error", "parameter_invalid", "unsupported search query");
    }
    std::string ref = q.substr(prefix.size(), q.size() - prefix.size() - 1);
    std::lock_guard lock(mu_);
    boost::json::array data;
    for (const LedgerEntry& e : ByReference(ref)) data.push_back(Intent(e));
    return Response::Json(200, json::Dump(object{{"object", "search_result"}, {"data", data}}));
  }

  Response Capture(Request& req) {
    auto f = ParseForm(req.body);
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("id")));
    if (!e) return Error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    if (e->status != "authorized") {
      return Error(
          400, "invalid_request_error", "payment_intent_unexpected_state",
          "This PaymentIntent could not be captured because it has a status of " + IntentStatus(e->status));
    }
    int64_t amount = f.count("amount_to_capture") ? ToInt(f["amount_to_capture"]) : e->amount;
    if (amount <= 0 || amount > e->amount) {
      return Error(400, "invalid_request_error", "amount_too_large", "amount_to_capture is invalid");
    }
    e->captured = amount;
    e->status = "captured";
    ScheduleFraudDispute(*e);
    if (Status s = Put(*e); !s.ok()) return Error(500, "api_error", "internal_error", "ledger unavailable");
    object intent = Intent(*e);
    Emit("payment_intent.succeeded", intent);
    return Response::Json(200, json::Dump(intent));
  }

  Response Cancel(Request& req) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("id")));
    if (!e) return Error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    if (e->status == "voided") return Response::Json(200, json::Dump(Intent(*e)));
    if (e->status != "authorized" && e->status != "requires_action" && e->status != "refused") {
      return Error(
          400, "invalid_request_error", "payment_intent_unexpected_state",
          "This PaymentIntent could not be canceled because it has a status of " + IntentStatus(e->status));
    }
    e->status = "voided";
    if (Status s = Put(*e); !s.ok()) return Error(500, "api_error", "internal_error", "ledger unavailable");
    object intent = Intent(*e);
    Emit("payment_intent.canceled", intent);
    return Response::Json(200, json::Dump(intent));
  }

  Response Refund(Request& req) {
    auto f = ParseForm(req.body);
    std::lock_guard lock(mu_);
    auto e = Find(f["payment_intent"]);
    if (!e) return Error(404, "invalid_request_error", "resource_missing", "No such payment_intent");
    if (e->status != "captured") {
      return Error(400, "invalid_request_error", "charge_not_captured",
                   "This PaymentIntent has no captured charge");
    }
    int64_t amount = f.count("amount") ? ToInt(f["amount"]) : e->captured - e->refunded;
    if (amount <= 0 || amount > e->captured - e->refunded) {
      return Error(400, "invalid_request_error", "amount_too_large",
                   "Refund amount is greater than unrefunded amount");
    }
    e->refunded += amount;
    if (Status s = Put(*e); !s.ok()) return Error(500, "api_error", "internal_error", "ledger unavailable");
    object refund{{"id", NewId("re_")},      {"object", "refund"},      {"amount", amount},
                  {"currency", e->currency}, {"payment_intent", e->id}, {"status", "succeeded"}};
    Emit("charge.refunded", Intent(*e));
    return Response::Json(200, json::Dump(refund));
  }

  Response Challenge(Request& req) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("id")));
    if (!e) return Response::Text(404, "unknown payment");
    if (e->status == "requires_action") {
      e->status = "authorized";
      if (Status s = Put(*e); !s.ok()) return Response::Text(500, "ledger unavailable");
      Emit("payment_intent.amount_capturable_updated", Intent(*e));
    }
    if (!e->return_url.empty()) {
      Response r;
      r.status = 302;
      r.headers.Set("Location", e->return_url + (e->return_url.find('?') == std::string::npos ? "?" : "&") +
                                    "payment_intent=" + e->id);
      return r;
    }
    return Response::Text(200, "Authentication complete. You can close this window.");
  }
};

}  // namespace

std::unique_ptr<Sandbox> NewIntentsSandbox(SandboxOptions options, sql::Database& db, Clock& clock) {
  return std::make_unique<IntentsSandbox>(std::move(options), db, clock);
}

}  // namespace emporium::paysim
