#include "services/fulfillment/http.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"

namespace emporium::fulfillment {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

using json::Str;

array EventsJson(const std::vector<TrackingEvent>& events) {
  array a;
  for (const TrackingEvent& e : events)
    a.push_back(object{{"status", e.status}, {"at", e.at}, {"description", e.description}});
  return a;
}

object ShipmentObject(const Shipment& s) {
  object o{{"shipment_id", s.shipment_id},
           {"order_id", s.order_id},
           {"carrier", s.carrier},
           {"service", s.service},
           {"tracking_number", s.tracking_number},
           {"label_url", s.label_url},
           {"status", StatusName(s.status)},
           {"rate", object{{"amount", s.rate.amount}, {"currency", s.rate.currency}}},
           {"created_at", s.created_at},
           {"events", EventsJson(s.events)}};
  return o;
}

Result<ShipmentRequest> ParseRequest(const std::string& body) {
  auto doc = json::Parse(body);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("body must be a JSON object");
  const object& o = doc->as_object();
  ShipmentRequest req;
  req.order_id = Str(o, "order_id");
  req.carrier = Str(o, "carrier");
  req.user_id = Str(o, "user_id");
  auto addr = o.if_contains("address");
  if (!addr || !addr->is_object()) return InvalidArgument("address is required");
  const object& a = addr->as_object();
  req.address = Address{Str(a, "name"),   Str(a, "line1"),       Str(a, "line2"),  Str(a, "city"),
                        Str(a, "region"), Str(a, "postal_code"), Str(a, "country")};
  auto items = o.if_contains("items");
  if (!items || !items->is_array()) return InvalidArgument("items must be an array");
  for (const auto& i : items->as_array()) {
    if (!i.is_object()) return InvalidArgument("items must be objects");
    auto q = i.as_object().if_contains("quantity");
    if (!q || !q->is_int64()) return InvalidArgument("item quantity must be an integer");
    req.items.push_back(Item{Str(i.as_object(), "product_id"), q->as_int64()});
  }
  return req;
}

Response Fail(const Status& s, const Request& req) {
  if (s.code() == Code::kInternal) log::Error("fulfillment: request failed", {{"error", s.ToString()}});
  return http::ProblemFrom(s, req.path);
}

const http::RouteOptions kService{.access = auth::Access::kService};

}  // namespace

std::string ShipmentJson(const Shipment& s) {
  return json::Dump(ShipmentObject(s));
}

Status AddRoutes(http::Router& router, ShipmentService& service) {
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kPost, "/v1/internal/shipments",
      [&service](Request& req) {
        auto parsed = ParseRequest(req.body);
        if (!parsed.ok()) return Fail(parsed.status(), req);
        auto s = service.Book(*parsed);
        if (!s.ok()) return Fail(s.status(), req);
        // The same answer for a repeated order id: callers retry blindly.
        return Response::Json(201, ShipmentJson(*s));
      },
      kService));
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kPost, "/v1/internal/shipments/quote",
      [&service](Request& req) {
        auto parsed = ParseRequest(req.body);
        if (!parsed.ok()) return Fail(parsed.status(), req);
        auto q = service.Quote(*parsed);
        if (!q.ok()) return Fail(q.status(), req);
        return Response::Json(200, json::Dump(object{{"carrier", q->carrier},
                                                     {"service", q->service},
                                                     {"price", object{{"amount", q->price.amount},
                                                                      {"currency", q->price.currency}}}}));
      },
      kService));
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kGet, "/v1/internal/shipments/{id}",
      [&service](Request& req) {
        auto s = service.Get(std::string(req.PathParam("id").value_or("")));
        if (!s.ok()) return Fail(s.status(), req);
        return Response::Json(200, ShipmentJson(*s));
      },
      kService));
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kGet, "/v1/internal/shipments",
      [&service](Request& req) {
        auto order_id = req.QueryParam("order_id");
        if (!order_id || order_id->empty()) return Fail(InvalidArgument("order_id is required"), req);
        auto list = service.ByOrder(*order_id);
        if (!list.ok()) return Fail(list.status(), req);
        array items;
        array events;
        for (const Shipment& s : *list) {
          items.push_back(ShipmentObject(s));
          for (const auto& e : EventsJson(s.events)) events.push_back(e);
        }
        return Response::Json(200,
                              json::Dump(object{{"items", std::move(items)}, {"events", std::move(events)}}));
      },
      kService));
  return router.Add(http::Method::kPost, "/v1/webhooks/carriers/{carrier}", [&service](Request& req) {
    auto out = service.HandleWebhook(std::string(req.PathParam("carrier").value_or("")), req);
    if (!out.ok()) {
      if (out.status().code() == Code::kUnauthenticated)
        log::Warn("fulfillment: rejected carrier webhook", {{"reason", out.status().message()}});
      return Fail(out.status(), req);
    }
    object body{{"received", true}, {"duplicate", out->duplicate}};
    if (!out->duplicate) body["status"] = StatusName(out->status);
    return Response::Json(200, json::Dump(body));
  });
}

}  // namespace emporium::fulfillment
