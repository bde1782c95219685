// Routes of stock (admin) and reservations (services).
#include <boost/json/array.hpp>
#include <memory>

#include "platform/core/rfc3339.h"
#include "services/catalog/http.h"
#include "services/catalog/http_util.h"
#include "services/catalog/product_json.h"

namespace emporium::catalog {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

object StockJson(const std::string& product_id, const StockView& v) {
  array warehouses;
  for (const auto& l : v.warehouses) {
    warehouses.emplace_back(object{{"warehouse_id", l.warehouse_id},
                                   {"on_hand", l.on_hand},
                                   {"reserved", l.reserved},
                                   {"available", l.on_hand - l.reserved}});
  }
  return object{{"product_id", product_id},
                {"warehouses", std::move(warehouses)},
                {"available", v.available},
                {"in_stock", v.available > 0}};
}

object ReservationJson(const Reservation& r) {
  array items;
  for (const auto& i : r.items)
    items.emplace_back(object{{"product_id", i.product_id}, {"quantity", i.quantity}});
  return object{{"id", r.id},
                {"order_id", r.order_id},
                {"items", std::move(items)},
                {"state", r.state},
                {"expires_at", FormatRfc3339UnixMillis(r.expires_at)},
                {"created_at", FormatRfc3339UnixMillis(r.created_at)}};
}

class Routes {
 public:
  explicit Routes(Inventory& inventory) : inventory_(inventory) {}

  Response GetStock(Request& req) {
    std::string id(*req.PathParam("product_id"));
    auto v = inventory_.Stock(id);
    if (!v.ok()) return Failure(req, v.status());
    return JsonResponse(200, StockJson(id, *v));
  }

  Response PutStock(Request& req) {
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    std::vector<StockLevel> levels;
    auto list = body->if_contains("warehouses");
    if (!list || !list->is_array()) {
      errors.push_back({"warehouses", "is required: a list of {warehouse_id, on_hand}"});
    } else {
      const array& a = list->as_array();
      for (size_t i = 0; i < a.size(); ++i) {
        std::string prefix = "warehouses[" + std::to_string(i) + "].";
        if (!a[i].is_object()) {
          errors.push_back({"warehouses[" + std::to_string(i) + "]", "must be an object"});
          continue;
        }
        auto wh = StringField(a[i].as_object(), "warehouse_id", errors, prefix);
        auto on_hand = IntField(a[i].as_object(), "on_hand", errors, prefix);
        if (!wh || wh->empty()) errors.push_back({prefix + "warehouse_id", "is required"});
        if (!on_hand) errors.push_back({prefix + "on_hand", "is required"});
        levels.push_back({wh.value_or(""), on_hand.value_or(0), 0});
      }
    }
    if (!errors.empty()) return Failure(req, InvalidArgument("invalid stock"), errors);
    std::string id(*req.PathParam("product_id"));
    auto v = inventory_.SetStock(id, levels, &errors);
    if (!v.ok()) return Failure(req, v.status(), errors);
    return JsonResponse(200, StockJson(id, *v));
  }

  Response Reserve(Request& req) {
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    ReserveRequest in;
    in.order_id = StringField(*body, "order_id", errors).value_or("");
    in.ttl_seconds = IntField(*body, "ttl_seconds", errors).value_or(900);
    auto list = body->if_contains("items");
    if (!list || !list->is_array()) {
      errors.push_back({"items", "is required: a list of {product_id, quantity}"});
    } else {
      const array& a = list->as_array();
      for (size_t i = 0; i < a.size(); ++i) {
        std::string prefix = "items[" + std::to_string(i) + "].";
        if (!a[i].is_object()) {
          errors.push_back({"items[" + std::to_string(i) + "]", "must be an object"});
          continue;
        }
        auto product = StringField(a[i].as_object(), "product_id", errors, prefix);
        auto quantity = IntField(a[i].as_object(), "quantity", errors, prefix);
        in.items.push_back({product.value_or(""), quantity.value_or(0)});
      }
    }
    if (!errors.empty()) return Failure(req, InvalidArgument("invalid reservation"), errors);
    bool created = false;
    auto r = inventory_.Reserve(in, &errors, &created);
    if (!r.ok()) return Failure(req, r.status(), errors);
    Response resp = JsonResponse(created ? 201 : 200, ReservationJson(*r));
    resp.headers.Set("Location", "/v1/internal/reservations/" + r->id);
    return resp;
  }

  Response Get(Request& req) {
    auto r = inventory_.Find(std::string(*req.PathParam("id")));
    if (!r.ok()) return Failure(req, r.status());
    if (!*r) return Failure(req, NotFound("reservation does not exist"));
    return JsonResponse(200, ReservationJson(**r));
  }

  Response Commit(Request& req) {
    auto r = inventory_.Commit(std::string(*req.PathParam("id")));
    if (!r.ok()) return Failure(req, r.status());
    return JsonResponse(200, ReservationJson(*r));
  }

  Response Release(Request& req) {
    auto r = inventory_.Release(std::string(*req.PathParam("id")));
    if (!r.ok()) return Failure(req, r.status());
    return JsonResponse(200, ReservationJson(*r));
  }

 private:
  Inventory& inventory_;
};

}  // namespace

Status AddInventoryRoutes(http::Router& router, Inventory& inventory) {
  using auth::Access;
  using http::Method;
  return http::AddMemberRoutes<Routes>(
      router, std::make_shared<Routes>(inventory),
      {
          {Method::kGet, "/v1/admin/inventory/{product_id}", &Routes::GetStock, {.access = Access::kAdmin}},
          {Method::kPut, "/v1/admin/inventory/{product_id}", &Routes::PutStock, {.access = Access::kAdmin}},
          {Method::kPost, "/v1/internal/reservations", &Routes::Reserve, {.access = Access::kService}},
          {Method::kGet, "/v1/internal/reservations/{id}", &Routes::Get, {.access = Access::kService}},
          {Method::kPost,
           "/v1/internal/reservations/{id}/commit",
           &Routes::Commit,
           {.access = Access::kService}},
          {Method::kPost,
           "/v1/internal/reservations/{id}/release",
           &Routes::Release,
           {.access = Access::kService}},
      });
}

}  // namespace emporium::catalog
