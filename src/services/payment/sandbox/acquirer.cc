// Synchronous authorise/capture simulator (acquirer-style JSON API): X-API-Key, resultCode
// Authorised/Refused/Error/RedirectShopper, modifications answer "received", and notification
// webhooks {"live":"false","notificationItems":[{"NotificationRequestItem":{...,
// "additionalData":{"hmacSignature":base64url(HMAC-SHA256(secret, signing string))}}}]};
// a dispute is a CHARGEBACK item with the scheme's reason code.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/crypto/crypto.h"
#include "services/payment/sandbox/protocols.h"

namespace emporium::paysim {
namespace {

using boost::json::object;
using http::Request;
using http::Response;

Response Error(int status, std::string_view code, std::string_view message,
               std::string_view type = "validation") {
  return Response::Json(
      status,
      json::Dump(object{{"status", status}, {"errorCode", code}, {"message", message}, {"errorType", type}}));
}

int64_t IntField(const object& o, std::string_view k) {
  auto v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : -1;
}
std::string StrField(const object& o, std::string_view k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class AcquirerSandbox final : public Sandbox {
 public:
  using Sandbox::Sandbox;
  // Stops first: the dispute timer calls EmitDispute, which must not outlive this class.
  ~AcquirerSandbox() override { Stop(); }

 protected:
  std::string_view IdempotencyHeader() const override { return "Idempotency-Key"; }
  Response InjectedFailure() const override {
    return Error(500, "905", "Payment details are not supported (injected failure)", "internal");
  }
  std::string_view DisputeIdPrefix() const override { return ""; }

  // A CHARGEBACK notification: pspReference the dispute's, originalReference the payment's, the
  // scheme's reason code in additionalData (Visa's for the test cards; Mastercard has the one
  // code for "does not recognize").
  void EmitDispute(const LedgerEntry& e) override {
    struct Code {
      std::string_view reason, code, text, scheme;
    };
    static constexpr Code kCodes[] = {
        {"fraudulent", "10.4", "Other Fraud-Card Absent Environment", "visa"},
        {"unrecognized", "4863", "Cardholder Does Not Recognize - Potential Fraud", "mc"},
        {"product_not_received", "13.1", "Merchandise/Services Not Received", "visa"},
        {"duplicate", "12.6.1", "Duplicate Processing", "visa"},
        {"other", "13.7", "Cancelled Merchandise/Services", "visa"},
    };
    Code c = kCodes[4];
    for (const Code& k : kCodes) {
      if (k.reason == e.dispute_reason) c = k;
    }
    Notify(e, e.dispute_id, e.id, "CHARGEBACK", true, e.disputed, std::string(c.text),
           object{{"chargebackReasonCode", c.code},
                  {"chargebackSchemeCode", c.scheme},
                  {"disputeStatus", "Undefended"}});
  }

  Status AddProtocolRoutes(http::Router& r) override {
    auto api = [this](Response (AcquirerSandbox::*fn)(Request&, const object&)) {
      return [this, fn](Request& req) {
        if (!Authorized(req, "X-API-Key", ""))
          return Error(401, "000", "HTTP Status Response - Unauthorized", "security");
        return Handle(req, [this, fn](Request& q) {
          auto doc = json::Parse(q.body.empty() ? "{}" : q.body);
          if (!doc.ok() || !doc->is_object()) return Error(400, "702", "Unexpected input");
          return (this->*fn)(q, doc->as_object());
        });
      };
    };
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v1/storedPaymentMethods", api(&AcquirerSandbox::Store)));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v1/payments", api(&AcquirerSandbox::Payment)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payments/{psp}/captures", api(&AcquirerSandbox::Capture)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payments/{psp}/cancels", api(&AcquirerSandbox::Cancel)));
    EMP_RETURN_IF_ERROR(
        r.Add(http::Method::kPost, "/v1/payments/{psp}/refunds", api(&AcquirerSandbox::Refund)));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v1/cancels", api(&AcquirerSandbox::CancelByReference)));
    return r.Add(http::Method::kGet, "/redirect/{psp}", [this](Request& req) { return Redirect(req); });
  }

 private:
  void Notify(const LedgerEntry& e, const std::string& psp, const std::string& original,
              const std::string& code, bool success, int64_t value, const std::string& reason = {},
              object additional = {}) {
    std::string date = FormatRfc3339(SystemTime(std::chrono::milliseconds(NowUnixMs())));
    std::string success_s = success ? "true" : "false";
    std::string signing = psp + ":" + original + ":" + "Emporium" + ":" + e.reference + ":" +
                          std::to_string(value) + ":" + e.currency + ":" + code + ":" + success_s + ":" +
                          date;
    object item{{"eventCode", code},
                {"success", success_s},
                {"pspReference", psp},
                {"originalReference", original},
                {"merchantAccountCode", "Emporium"},
                {"merchantReference", e.reference},
                {"amount", object{{"value", value}, {"currency", e.currency}}},
                {"eventDate", date}};
    if (!reason.empty()) item["reason"] = reason;
    additional["hmacSignature"] =
        crypto::Base64UrlEncode(crypto::HmacSha256(options().webhook_secret, signing));
    item["additionalData"] = std::move(additional);
    boost::json::array items{object{{"NotificationRequestItem", item}}};
    SendWebhook(json::Dump(object{{"live", "false"}, {"notificationItems", items}}), {});
  }

  Response Store(Request&, const object& body) {
    auto pm = body.if_contains("paymentMethod");
    if (!pm || !pm->is_object()) return Error(422, "15_001", "paymentMethod missing");
    const object& p = pm->as_object();
    int64_t month = std::atoll(StrField(p, "expiryMonth").c_str());
    int64_t year = std::atoll(StrField(p, "expiryYear").c_str());
    std::lock_guard lock(mu_);
    auto card = Tokenize(StrField(p, "number"), month, year, "");
    if (!card.ok()) return Error(422, "101", "Invalid card number");
    return Response::Json(200,
                          json::Dump(object{{"storedPaymentMethodId", card->token},
                                            {"brand", card->brand},
                                            {"lastFour", card->last4},
                                            {"expiryMonth", (month < 10 ? "0" : "") + std::to_string(month)},
                                            {"expiryYear", std::to_string(year)}}));
  }

  Response Payment(Request&, const object& body) {
    auto amount = body.if_contains("amount");
    auto pm = body.if_contains("paymentMethod");
    if (!amount || !amount->is_object() || !pm || !pm->is_object())
      return Error(422, "100", "Required field missing");
    int64_t value = IntField(amount->as_object(), "value");
    std::string currency = StrField(amount->as_object(), "currency");
    if (value <= 0 || currency.size() != 3) return Error(422, "137", "Invalid amount specified");
    std::optional<StoredCard> card;
    {
      std::lock_guard lock(mu_);
      card = Card(StrField(pm->as_object(), "storedPaymentMethodId"));
    }
    if (!card) return Error(422, "803", "PaymentMethod is not supported");
    if (card->behaviour == CardBehaviour::kSlow) SlowDelay();
    std::lock_guard lock(mu_);
    LedgerEntry e;
    e.id = NewId("");
    e.reference = StrField(body, "reference");
    e.amount = value;
    e.currency = currency;
    e.token = card->token;
    e.return_url = StrField(body, "returnUrl");
    object out{{"pspReference", e.id}, {"merchantReference", e.reference}};
    switch (card->behaviour) {
      case CardBehaviour::kApprove:
      case CardBehaviour::kSlow:
      case CardBehaviour::kFraudDispute:
        e.status = "authorized";
        out["resultCode"] = "Authorised";
        break;
      case CardBehaviour::kStepUp:
        e.status = "requires_action";
        out["resultCode"] = "RedirectShopper";
        out["action"] =
            object{{"type", "redirect"}, {"method", "GET"}, {"url", base_url() + "/redirect/" + e.id}};
        break;
      case CardBehaviour::kDecline:
        e.status = "refused";
        out["resultCode"] = "Refused";
        out["refusalReason"] = "Refused";
        out["refusalReasonCode"] = "2";
        break;
      case CardBehaviour::kInsufficientFunds:
        e.status = "refused";
        out["resultCode"] = "Refused";
        out["refusalReason"] = "Not enough balance";
        out["refusalReasonCode"] = "12";
        break;
      case CardBehaviour::kExpiredCard:
        e.status = "refused";
        out["resultCode"] = "Refused";
        out["refusalReason"] = "Expired Card";
        out["refusalReasonCode"] = "6";
        break;
      case CardBehaviour::kIncorrectCvc:
        e.status = "refused";
        out["resultCode"] = "Refused";
        out["refusalReason"] = "CVC Declined";
        out["refusalReasonCode"] = "24";
        break;
      case CardBehaviour::kProcessingError:
        e.status = "refused";
        out["resultCode"] = "Error";
        out["refusalReason"] = "Acquirer Error";
        out["refusalReasonCode"] = "4";
        break;
    }
    if (!Put(e).ok()) return Error(500, "901", "ledger unavailable", "internal");
    if (e.status == "authorized" || e.status == "refused")
      Notify(e, e.id, "", "AUTHORISATION", e.status == "authorized", value);
    return Response::Json(200, json::Dump(out));
  }

  Response Capture(Request& req, const object& body) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("psp")));
    if (!e) return Error(422, "167", "Original pspReference required for this operation");
    int64_t value = e->amount;
    if (auto a = body.if_contains("amount"); a && a->is_object()) value = IntField(a->as_object(), "value");
    if (e->status != "authorized" || value <= 0 || value > e->amount) {
      return Error(422, "167", "Modification not allowed in the current state");
    }
    e->status = "captured";
    e->captured = value;
    ScheduleFraudDispute(*e);
    if (!Put(*e).ok()) return Error(500, "901", "ledger unavailable", "internal");
    std::string psp = NewId("");
    Notify(*e, psp, e->id, "CAPTURE", true, value);
    return Response::Json(201,
                          json::Dump(object{{"pspReference", psp},
                                            {"paymentPspReference", e->id},
                                            {"amount", object{{"value", value}, {"currency", e->currency}}},
                                            {"status", "received"}}));
  }

  Response Cancel(Request& req, const object&) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("psp")));
    if (!e) return Error(422, "167", "Original pspReference required for this operation");
    if (e->status != "authorized" && e->status != "requires_action" && e->status != "voided") {
      return Error(422, "167", "Modification not allowed in the current state");
    }
    std::string psp = NewId("");
    if (e->status != "voided") {
      e->status = "voided";
      if (!Put(*e).ok()) return Error(500, "901", "ledger unavailable", "internal");
      Notify(*e, psp, e->id, "CANCELLATION", true, e->amount);
    }
    return Response::Json(
        201,
        json::Dump(object{{"pspReference", psp}, {"paymentPspReference", e->id}, {"status", "received"}}));
  }

  Response Refund(Request& req, const object& body) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("psp")));
    if (!e) return Error(422, "167", "Original pspReference required for this operation");
    int64_t value = e->captured - e->refunded;
    if (auto a = body.if_contains("amount"); a && a->is_object()) value = IntField(a->as_object(), "value");
    if (e->status != "captured" || value <= 0 || value > e->captured - e->refunded) {
      return Error(422, "167", "Modification not allowed in the current state");
    }
    e->refunded += value;
    if (!Put(*e).ok()) return Error(500, "901", "ledger unavailable", "internal");
    std::string psp = NewId("");
    Notify(*e, psp, e->id, "REFUND", true, value);
    return Response::Json(201,
                          json::Dump(object{{"pspReference", psp},
                                            {"paymentPspReference", e->id},
                                            {"amount", object{{"value", value}, {"currency", e->currency}}},
                                            {"status", "received"}}));
  }

  // Technical cancel: cancels whatever was authorized under the merchant reference (used when the
  // merchant does not know the pspReference, e.g. after a timeout).
  Response CancelByReference(Request&, const object& body) {
    std::string ref = StrField(body, "paymentReference");
    if (ref.empty()) return Error(422, "100", "paymentReference missing");
    std::lock_guard lock(mu_);
    int cancelled = 0;
    for (LedgerEntry e : ByReference(ref)) {
      if (e.status != "authorized" && e.status != "requires_action") continue;
      e.status = "voided";
      if (!Put(e).ok()) return Error(500, "901", "ledger unavailable", "internal");
      Notify(e, NewId(""), e.id, "CANCELLATION", true, e.amount);
      ++cancelled;
    }
    return Response::Json(
        201, json::Dump(object{{"paymentReference", ref}, {"cancelled", cancelled}, {"status", "received"}}));
  }

  Response Redirect(Request& req) {
    std::lock_guard lock(mu_);
    auto e = Find(std::string(*req.PathParam("psp")));
    if (!e) return Response::Text(404, "unknown payment");
    if (e->status == "requires_action") {
      e->status = "authorized";
      if (!Put(*e).ok()) return Response::Text(500, "ledger unavailable");
      Notify(*e, e->id, "", "AUTHORISATION", true, e->amount);
    }
    if (!e->return_url.empty()) {
      Response r;
      r.status = 302;
      r.headers.Set("Location", e->return_url);
      return r;
    }
    return Response::Text(200, "Authentication complete. You can close this window.");
  }
};

}  // namespace

std::unique_ptr<Sandbox> NewAcquirerSandbox(SandboxOptions options, sql::Database& db, Clock& clock) {
  return std::make_unique<AcquirerSandbox>(std::move(options), db, clock);
}

}  // namespace emporium::paysim
