// The cargoline sandbox's protocol: form-encoded requests and answers, prices in decimal units.
//   POST /api/quote         dest_country, dest_postcode, weight_kg → product, price, currency
//   POST /api/consignments  reference (idempotency), order_ref, product, name, street1, street2,
//                           city, region, postcode, country, weight_kg
//                           → awb, label, product, price, currency, status
// Errors answer a form body "error=<text>". Webhooks: form body event_id, awb, code (LBL, TRN,
// OFD, DLV), text, event_time, signed in X-Cargoline-Timestamp / X-Cargoline-Signature.
#include <cmath>
#include <string>

#include "services/fulfillment/protocol.h"
#include "services/fulfillment/sandbox/server.h"

namespace emporium::fulfillment::sandbox {
namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";

http::Response Form(int status, const FormFields& fields) {
  return http::Response::Text(status, FormEncode(fields), std::string(kFormType));
}

std::string Get(const std::map<std::string, std::string>& f, const char* key) {
  auto it = f.find(key);
  return it == f.end() ? std::string() : it->second;
}

// ECONOMY: 4.49 + 3.00 per kg; weight_kg like "1.5". Negative: malformed.
int64_t Price(const std::string& weight_kg) {
  auto hundredths = ParseDecimalMinor(weight_kg);
  if (!hundredths || *hundredths <= 0) return -1;
  return 449 + *hundredths * 3;
}

std::string_view Code(Stage s) {
  switch (s) {
    case Stage::kLabelCreated: return "LBL";
    case Stage::kInTransit: return "TRN";
    case Stage::kOutForDelivery: return "OFD";
    case Stage::kDelivered: return "DLV";
  }
  return "UNK";
}

}  // namespace

Status AddCargolineRoutes(http::Router& router, Simulator& sim) {
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kPost, "/api/quote", [&sim](http::Request& req) {
    if (sim.InjectFault()) return Form(503, {{"error", "temporarily unavailable"}});
    auto f = FormDecode(req.body);
    int64_t price = Price(Get(f, "weight_kg"));
    if (Get(f, "dest_country").empty() || price < 0)
      return Form(422, {{"error", "dest_country and weight_kg are required"}});
    return Form(200, {{"product", "ECONOMY"}, {"price", FormatDecimalMinor(price)}, {"currency", "USD"}});
  }));
  return router.Add(http::Method::kPost, "/api/consignments", [&sim](http::Request& req) {
    if (sim.InjectFault()) return Form(503, {{"error", "temporarily unavailable"}});
    auto f = FormDecode(req.body);
    std::string reference = Get(f, "reference");
    int64_t price = Price(Get(f, "weight_kg"));
    if (reference.empty()) return Form(400, {{"error", "reference is required"}});
    if (Get(f, "country").empty() || Get(f, "postcode").empty() || price < 0)
      return Form(422, {{"error", "country, postcode and weight_kg are required"}});
    std::string product = Get(f, "product").empty() ? "ECONOMY" : Get(f, "product");
    auto made =
        sim.CreateParcel(reference, Get(f, "order_ref"), IsRemoteArea(Get(f, "postcode")), product, price);
    if (!made.ok()) return Form(503, {{"error", "consignment could not be stored; retry"}});
    const auto& [parcel, created] = *made;
    return Form(created ? 201 : 200, {{"awb", parcel.tracking_number},
                                      {"label", parcel.label_url},
                                      {"product", parcel.service},
                                      {"price", FormatDecimalMinor(parcel.price)},
                                      {"currency", "USD"},
                                      {"status", std::string(Code(parcel.stage))}});
  });
}

http::Request RenderCargolineWebhook(const WebhookEvent& e, int64_t unix_seconds, const std::string& secret) {
  http::Request req;
  req.method = http::Method::kPost;
  req.body = FormEncode({{"event_id", e.event_id},
                         {"awb", e.parcel.tracking_number},
                         {"code", std::string(Code(e.stage))},
                         {"text", std::string(StageDescription(e.stage))},
                         {"event_time", e.occurred_at}});
  std::string ts = std::to_string(unix_seconds);
  req.headers.Set("Content-Type", std::string(kFormType));
  req.headers.Set(kCargolineTimestampHeader, ts);
  req.headers.Set(kCargolineSignatureHeader, CargolineSignature(secret, ts, req.body));
  return req;
}

}  // namespace emporium::fulfillment::sandbox
