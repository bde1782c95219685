// The rapidship sandbox's protocol: JSON REST.
//   POST /v1/rates      {"to":{"postal_code","country"},"parcels":[{"weight_grams"}]}
//                       → {"rates":[{"service":"ground"|"express","amount","currency"}]}
//   POST /v1/shipments  Idempotency-Key header, {"service","reference","to":{...},"parcels":[...]}
//                       → 201 (200 for a repeated key) {"id","tracking_number","label_url","service",
//                          "rate":{"amount","currency"},"status"}
//   GET  /v1/shipments/{tracking_number}
// Webhooks: {"id","type":"tracking.updated","created","data":{"tracking_number","status",
// "description","occurred_at"}} signed in Rapidship-Signature (see protocol.h).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "services/fulfillment/protocol.h"
#include "services/fulfillment/sandbox/server.h"

namespace emporium::fulfillment::sandbox {
namespace {

using boost::json::object;

// Ground: 5.99 + 1.00 per 500 g; express: twice that.
int64_t GroundPrice(int64_t grams) {
  return 599 + grams / 5;
}

int64_t Weight(const object& o) {
  int64_t grams = 0;
  auto parcels = o.if_contains("parcels");
  if (!parcels || !parcels->is_array()) return 0;
  for (const auto& p : parcels->as_array()) {
    if (!p.is_object()) continue;
    auto w = p.as_object().if_contains("weight_grams");
    if (w && w->is_int64() && w->as_int64() > 0) grams += w->as_int64();
  }
  return grams;
}

std::string PostalCode(const object& o) {
  auto to = o.if_contains("to");
  if (!to || !to->is_object()) return "";
  auto c = to->as_object().if_contains("postal_code");
  return c && c->is_string() ? std::string(c->as_string()) : "";
}

std::string Country(const object& o) {
  auto to = o.if_contains("to");
  if (!to || !to->is_object()) return "";
  auto c = to->as_object().if_contains("country");
  return c && c->is_string() ? std::string(c->as_string()) : "";
}

object ParcelJson(const Parcel& p) {
  return object{{"id", p.id},
                {"tracking_number", p.tracking_number},
                {"label_url", p.label_url},
                {"service", p.service},
                {"reference", p.reference},
                {"rate", object{{"amount", p.price}, {"currency", "USD"}}},
                {"status", StageName(p.stage)}};
}

http::Response Unavailable() {
  return http::Problem(503, "sandbox told to fail (control fail_next)");
}

}  // namespace

Status AddRapidshipRoutes(http::Router& router, Simulator& sim) {
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kPost, "/v1/rates", [&sim](http::Request& req) {
    if (sim.InjectFault()) return Unavailable();
    auto doc = json::Parse(req.body);
    if (!doc.ok() || !doc->is_object()) return http::Problem(400, "body must be a JSON object");
    const object& o = doc->as_object();
    int64_t grams = Weight(o);
    if (Country(o).empty() || grams <= 0)
      return http::Problem(422, "to.country and parcel weights are required");
    int64_t ground = GroundPrice(grams);
    boost::json::array rates{object{{"service", "ground"}, {"amount", ground}, {"currency", "USD"}},
                             object{{"service", "express"}, {"amount", ground * 2}, {"currency", "USD"}}};
    return http::Response::Json(200, json::Dump(object{{"rates", std::move(rates)}}));
  }));
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kPost, "/v1/shipments", [&sim](http::Request& req) {
    if (sim.InjectFault()) return Unavailable();
    auto key = req.headers.Get("Idempotency-Key");
    if (!key || key->empty()) return http::Problem(400, "Idempotency-Key header is required");
    auto doc = json::Parse(req.body);
    if (!doc.ok() || !doc->is_object()) return http::Problem(400, "body must be a JSON object");
    const object& o = doc->as_object();
    auto service = o.if_contains("service");
    std::string svc = service && service->is_string() ? std::string(service->as_string()) : "";
    int64_t grams = Weight(o);
    if ((svc != "ground" && svc != "express") || Country(o).empty() || grams <= 0)
      return http::Problem(422, "service (ground|express), to.country and parcel weights are required");
    auto ref = o.if_contains("reference");
    int64_t price = GroundPrice(grams) * (svc == "express" ? 2 : 1);
    auto made =
        sim.CreateParcel(std::string(*key), ref && ref->is_string() ? std::string(ref->as_string()) : "",
                         IsRemoteArea(PostalCode(o)), svc, price);
    if (!made.ok()) return http::Problem(503, "shipment could not be stored; retry with the same key");
    const auto& [parcel, created] = *made;
    return http::Response::Json(created ? 201 : 200, json::Dump(ParcelJson(parcel)));
  }));
  return router.Add(http::Method::kGet, "/v1/shipments/{tracking}", [&sim](http::Request& req) {
    auto parcel = sim.Find(std::string(req.PathParam("tracking").value_or("")));
    if (!parcel) return http::Problem(404, "no such shipment");
    return http::Response::Json(200, json::Dump(ParcelJson(*parcel)));
  });
}

http::Request RenderRapidshipWebhook(const WebhookEvent& e, int64_t unix_seconds, const std::string& secret) {
  object data{{"tracking_number", e.parcel.tracking_number},
              {"status", StageName(e.stage)},
              {"description", StageDescription(e.stage)},
              {"occurred_at", e.occurred_at}};
  object body{
      {"id", e.event_id}, {"type", "tracking.updated"}, {"created", unix_seconds}, {"data", std::move(data)}};
  http::Request req;
  req.method = http::Method::kPost;
  req.body = json::Dump(body);
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set(kRapidshipSignatureHeader, "t=" + std::to_string(unix_seconds) +
                                                 ",v1=" + RapidshipSignature(secret, unix_seconds, req.body));
  return req;
}

}  // namespace emporium::fulfillment::sandbox
