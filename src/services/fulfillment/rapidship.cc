// The rapidship adapter: a JSON REST API (POST /v1/rates, POST /v1/shipments with an
// Idempotency-Key header) and JSON webhooks signed in the Rapidship-Signature header.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/http/client.h"
#include "services/fulfillment/carrier.h"
#include "services/fulfillment/protocol.h"

namespace emporium::fulfillment {
namespace {

using boost::json::object;

constexpr int64_t kGramsPerUnit = 500;

using json::Str;

Result<Money> MoneyFrom(const object& o) {
  auto amount = o.if_contains("amount");
  if (!amount || !amount->is_int64()) return Internal("rapidship: price without an integer amount");
  return Money{amount->as_int64(), Str(o, "currency").empty() ? "USD" : Str(o, "currency")};
}

object AddressJson(const Address& a) {
  return object{{"name", a.name},      {"line1", a.line1},   {"line2", a.line2},
                {"city", a.city},      {"region", a.region}, {"postal_code", a.postal_code},
                {"country", a.country}};
}

class Rapidship final : public Carrier {
 public:
  Rapidship(CarrierOptions options, http::HttpClient& http) : options_(std::move(options)), http_(http) {}

  const std::string& name() const override { return name_; }

  Result<RateQuote> Quote(const ShipmentRequest& req) override {
    object body{{"to", object{{"postal_code", req.address.postal_code}, {"country", req.address.country}}},
                {"parcels", boost::json::array{object{{"weight_grams", Units(req.items) * kGramsPerUnit}}}}};
    EMP_ASSIGN_OR_RETURN(object doc, Post("/v1/rates", json::Dump(body), ""));
    auto rates = doc.if_contains("rates");
    if (!rates || !rates->is_array() || rates->as_array().empty())
      return InvalidArgument("rapidship: no rates");
    std::optional<RateQuote> best;
    for (const auto& r : rates->as_array()) {
      if (!r.is_object()) continue;
      auto price = MoneyFrom(r.as_object());
      if (!price.ok()) return price.status();
      if (!best || price->amount < best->price.amount)
        best = RateQuote{name_, Str(r.as_object(), "service"), *price};
    }
    if (!best) return Internal("rapidship: malformed rates");
    return *best;
  }

  Result<Label> CreateShipment(const ShipmentRequest& req, const std::string& service,
                               const std::string& idempotency_key) override {
    object body{{"service", service},
                {"reference", req.order_id},
                {"to", AddressJson(req.address)},
                {"parcels", boost::json::array{object{{"weight_grams", Units(req.items) * kGramsPerUnit}}}}};
    EMP_ASSIGN_OR_RETURN(object doc, Post("/v1/shipments", json::Dump(body), idempotency_key));
    Label label{Str(doc, "tracking_number"), Str(doc, "label_url"), Str(doc, "service"), {}};
    auto rate = doc.if_contains("rate");
    if (label.tracking_number.empty() || !rate || !rate->is_object())
      return Internal("rapidship: malformed shipment response");
    EMP_ASSIGN_OR_RETURN(label.price, MoneyFrom(rate->as_object()));
    return label;
  }

  Result<TrackingUpdate> ParseWebhook(const http::Request& req, SystemTime now) const override {
    auto header = req.headers.Get(kRapidshipSignatureHeader);
    if (!header) return Unauthenticated("missing Rapidship-Signature");
    EMP_RETURN_IF_ERROR(VerifyRapidshipSignature(options_.webhook_secret, *header, req.body,
                                                 UnixMillis(now) / 1000,
                                                 options_.webhook_tolerance.count() / 1000));
    auto doc = json::Parse(req.body);
    if (!doc.ok() || !doc->is_object()) return InvalidArgument("webhook body is not a JSON object");
    const object& o = doc->as_object();
    auto data = o.if_contains("data");
    if (Str(o, "type") != "tracking.updated" || !data || !data->is_object())
      return InvalidArgument("not a tracking.updated event");
    const object& d = data->as_object();
    auto status = ParseStatus(Str(d, "status") == "label_created" ? "booked" : Str(d, "status"));
    if (!status) return InvalidArgument("unknown tracking status");
    TrackingUpdate u{Str(o, "id"), Str(d, "tracking_number"), *status, Str(d, "occurred_at"),
                     Str(d, "description")};
    if (u.event_id.empty() || u.tracking_number.empty())
      return InvalidArgument("event without id or tracking number");
    if (u.at.empty()) u.at = FormatRfc3339(now);
    return u;
  }

 private:
  Result<object> Post(const std::string& path, std::string body, const std::string& idempotency_key) {
    http::Request req;
    req.method = http::Method::kPost;
    req.target = path;
    req.path = path;
    req.body = std::move(body);
    req.headers.Set("Content-Type", "application/json");
    if (!idempotency_key.empty()) req.headers.Set("Idempotency-Key", idempotency_key);
    auto resp = http_.Send(options_.base_url, req, std::chrono::steady_clock::now() + options_.timeout);
    if (!resp.ok()) return Unavailable("rapidship unreachable: " + resp.status().message());
    if (resp->status >= 500 || resp->status == 429)
      return Unavailable("rapidship answered " + std::to_string(resp->status));
    auto doc = json::Parse(resp->body);
    if (resp->status >= 400)
      return InvalidArgument("rapidship refused the request (" + std::to_string(resp->status) + ")");
    if (!doc.ok() || !doc->is_object()) return Internal("rapidship: malformed response");
    return doc->as_object();
  }

  CarrierOptions options_;
  http::HttpClient& http_;
  const std::string name_{kRapidship};
};

}  // namespace

std::unique_ptr<Carrier> NewRapidshipCarrier(CarrierOptions options, http::HttpClient& http) {
  return std::make_unique<Rapidship>(std::move(options), http);
}

}  // namespace emporium::fulfillment
