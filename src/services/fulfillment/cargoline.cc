// The cargoline adapter: a form-encoded API (POST /api/quote, POST /api/consignments; answers
// are form-encoded too, prices in decimal major units, retries de-duplicated by `reference`)
// and form-encoded webhooks with status codes (LBL, TRN, OFD, DLV) signed in
// X-Cargoline-Timestamp / X-Cargoline-Signature.
#include <charconv>

#include "platform/http/client.h"
#include "services/fulfillment/carrier.h"
#include "services/fulfillment/protocol.h"

namespace emporium::fulfillment {

namespace {

std::optional<ShipmentStatus> CargolineStatus(std::string_view code) {
  if (code == "LBL") return ShipmentStatus::kBooked;
  if (code == "TRN") return ShipmentStatus::kInTransit;
  if (code == "OFD") return ShipmentStatus::kOutForDelivery;
  if (code == "DLV") return ShipmentStatus::kDelivered;
  return std::nullopt;
}

// Weight in kilograms with one decimal, as cargoline wants it.
std::string WeightKg(const std::vector<Item>& items) {
  int64_t hectograms = Units(items) * 5;
  return std::to_string(hectograms / 10) + "." + std::to_string(hectograms % 10);
}

std::string Field(const std::map<std::string, std::string>& f, const char* key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

class Cargoline final : public Carrier {
 public:
  Cargoline(CarrierOptions options, http::HttpClient& http) : options_(std::move(options)), http_(http) {}

  const std::string& name() const override { return name_; }

  Result<RateQuote> Quote(const ShipmentRequest& req) override {
    EMP_ASSIGN_OR_RETURN(auto f, Post("/api/quote", {{"dest_country", req.address.country},
                                                     {"dest_postcode", req.address.postal_code},
                                                     {"weight_kg", WeightKg(req.items)}}));
    EMP_ASSIGN_OR_RETURN(Money price, Price(f));
    return RateQuote{name_, Field(f, "product"), price};
  }

  Result<Label> CreateShipment(const ShipmentRequest& req, const std::string& service,
                               const std::string& idempotency_key) override {
    const Address& a = req.address;
    EMP_ASSIGN_OR_RETURN(auto f, Post("/api/consignments", {{"reference", idempotency_key},
                                                            {"order_ref", req.order_id},
                                                            {"product", service},
                                                            {"name", a.name},
                                                            {"street1", a.line1},
                                                            {"street2", a.line2},
                                                            {"city", a.city},
                                                            {"region", a.region},
                                                            {"postcode", a.postal_code},
                                                            {"country", a.country},
                                                            {"weight_kg", WeightKg(req.items)}}));
    EMP_ASSIGN_OR_RETURN(Money price, Price(f));
    Label label{Field(f, "awb"), Field(f, "label"), Field(f, "product"), price};
    if (label.tracking_number.empty()) return Internal("cargoline: consignment without awb");
    return label;
  }

  Result<TrackingUpdate> ParseWebhook(const http::Request& req, SystemTime now) const override {
    auto ts = req.headers.Get(kCargolineTimestampHeader);
    auto sig = req.headers.Get(kCargolineSignatureHeader);
    if (!ts || !sig) return Unauthenticated("missing cargoline signature headers");
    EMP_RETURN_IF_ERROR(VerifyCargolineSignature(options_.webhook_secret, *ts, *sig, req.body,
                                                 UnixMillis(now) / 1000,
                                                 options_.webhook_tolerance.count() / 1000));
    auto f = FormDecode(req.body);
    auto status = CargolineStatus(Field(f, "code"));
    if (!status) return InvalidArgument("unknown cargoline status code");
    TrackingUpdate u{Field(f, "event_id"), Field(f, "awb"), *status, Field(f, "event_time"),
                     Field(f, "text")};
    if (u.event_id.empty() || u.tracking_number.empty()) return InvalidArgument("event without id or awb");
    if (u.at.empty()) u.at = FormatRfc3339(now);
    return u;
  }

 private:
  static Result<Money> Price(const std::map<std::string, std::string>& f) {
    auto minor = ParseDecimalMinor(Field(f, "price"));
    if (!minor) return Internal("cargoline: malformed price");
    std::string currency = Field(f, "currency");
    return Money{*minor, currency.empty() ? "USD" : currency};
  }

  Result<std::map<std::string, std::string>> Post(const std::string& path, const FormFields& fields) {
    http::Request req;
    req.method = http::Method::kPost;
    req.target = path;
    req.path = path;
    req.body = FormEncode(fields);
    req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    auto resp = http_.Send(options_.base_url, req, std::chrono::steady_clock::now() + options_.timeout);
    if (!resp.ok()) return Unavailable("cargoline unreachable: " + resp.status().message());
    if (resp->status >= 500 || resp->status == 429)
      return Unavailable("cargoline answered " + std::to_string(resp->status));
    auto f = FormDecode(resp->body);
    if (resp->status >= 400) return InvalidArgument("cargoline refused the request: " + Field(f, "error"));
    return f;
  }

  CarrierOptions options_;
  http::HttpClient& http_;
  const std::string name_{kCargoline};
};

}  // namespace

std::unique_ptr<Carrier> NewCargolineCarrier(CarrierOptions options, http::HttpClient& http) {
  return std::make_unique<Cargoline>(std::move(options), http);
}

}  // namespace emporium::fulfillment
