#include "services/order/http.h"

#include <boost/json/array.hpp>
#include <charconv>

#include "platform/auth/middleware.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "services/order/service.h"

namespace emporium::order {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

object Money(int64_t amount, const std::string& currency) {
  return object{{"amount", amount}, {"currency", currency}};
}

boost::json::value ParseOr(const std::string& text, boost::json::value fallback) {
  auto v = json::Parse(text);
  return v.ok() ? *v : fallback;
}

Response Error(const Request& req, const Status& s) {
  if (s.code() == Code::kInternal) log::Error("order: internal error", {{"error", s.message()}});
  return http::ProblemFrom(s, req.path);
}

Response Fail(const Request& req, const Failure& f) {
  return http::Problem(f.status, f.detail, req.path, f.errors);
}

class Routes {
 public:
  explicit Routes(OrderService& s) : s_(s) {}

  Response Create(Request& req) {
    auto user = auth::RequireUser(req);
    if (!user.ok()) return Error(req, user.status());
    std::string key(req.headers.Get("Idempotency-Key").value_or(""));
    auto r = s_.Checkout(req, user->UserId(), key);
    if (r.failure) return Fail(req, *r.failure);
    if (!r.status.ok()) return Error(req, r.status);
    const Order& o = r.value->order;
    // 200: a replay; 201: the saga settled within the inline budget (CONFIRMED, REVIEW,
    // REJECTED); 202: still PENDING (poll GET /v1/orders/{id}).
    int code = r.value->replayed ? 200 : (o.status == status::kPending ? 202 : 201);
    auto history = s_.History(o.id);
    Response resp = Response::Json(code, json::Dump(OrderJson(o, history.ok() ? &*history : nullptr, false)));
    resp.headers.Set("Location", "/v1/orders/" + o.id);
    return resp;
  }

  Response List(Request& req) {
    auto user = auth::RequireUser(req);
    if (!user.ok()) return Error(req, user.status());
    return ListOf(req, ListFilter{.user_id = user->UserId()}, false);
  }

  Response Get(Request& req) {
    auto o = Own(req);
    if (!o.ok()) return Error(req, o.status());
    auto history = s_.History(o->id);
    if (!history.ok()) return Error(req, history.status());
    return Response::Json(200, json::Dump(OrderJson(*o, &*history, false)));
  }

  Response Cancel(Request& req) {
    auto user = auth::RequireUser(req);
    if (!user.ok()) return Error(req, user.status());
    auto r = s_.Cancel(user->UserId(), std::string(*req.PathParam("id")));
    if (r.failure) return Fail(req, *r.failure);
    if (!r.status.ok()) return Error(req, r.status);
    auto history = s_.History(r.value->id);
    int code = r.value->status == status::kCancelled ? 200 : 202;
    return Response::Json(code, json::Dump(OrderJson(*r.value, history.ok() ? &*history : nullptr, false)));
  }

  Response Tracking(Request& req) {
    auto o = Own(req);
    if (!o.ok()) return Error(req, o.status());
    auto t = s_.Tracking(*o);
    if (!t.ok()) return Error(req, t.status());
    return Response::Json(200, json::Dump(*t));
  }

  Response AdminList(Request& req) {
    ListFilter f;
    f.status = req.QueryParam("status").value_or("");
    f.needs_attention = req.QueryParam("needs_attention").value_or("") == "true";
    return ListOf(req, f, true);
  }

  Response AdminGet(Request& req) {
    auto o = s_.Get(std::string(*req.PathParam("id")));
    if (!o.ok()) return Error(req, o.status());
    if (!*o) return http::Problem(404, "no such order", req.path);
    auto history = s_.History((*o)->id);
    if (!history.ok()) return Error(req, history.status());
    return Response::Json(200, json::Dump(OrderJson(**o, &*history, true)));
  }

  Response Reviews(Request& req) {
    ListFilter f;
    f.status = std::string(status::kReview);
    return ListOf(req, f, true);
  }

  Response Decide(Request& req) {
    auto doc = json::Parse(req.body);
    std::string decision;
    if (doc.ok() && doc->is_object()) {
      if (auto d = doc->as_object().if_contains("decision"); d && d->is_string()) decision = d->as_string();
    }
    auto r = s_.Decide(std::string(*req.PathParam("id")), decision);
    if (r.failure) return Fail(req, *r.failure);
    if (!r.status.ok()) return Error(req, r.status);
    log::Info("order: fraud review decided",
              {{"order_id", r.value->id},
               {"decision", decision},
               {"by", req.principal ? req.principal->subject : std::string()}});
    auto history = s_.History(r.value->id);
    return Response::Json(200, json::Dump(OrderJson(*r.value, history.ok() ? &*history : nullptr, true)));
  }

 private:
  Result<Order> Own(const Request& req) {
    EMP_ASSIGN_OR_RETURN(auth::Principal user, auth::RequireUser(req));
    return s_.GetOwn(user.UserId(), std::string(*req.PathParam("id")));
  }

  // Newest first. The page token is "<created_at ms>.<id>" of the last order of the previous page:
  // orders created in the same millisecond are told apart by id, so none is skipped.
  Response ListOf(const Request& req, ListFilter f, bool admin) {
    if (auto size = req.QueryParam("page_size")) f.limit = std::atoi(size->c_str());
    if (auto token = req.QueryParam("page_token"); token && !token->empty()) {
      const size_t dot = token->find('.');
      const char* end = token->data() + (dot == std::string::npos ? 0 : dot);
      auto [ptr, ec] = std::from_chars(token->data(), end, f.before_ms);
      if (dot == std::string::npos || ec != std::errc() || ptr != end || dot + 1 == token->size())
        return http::Problem(422, "page_token is not one this API returned", req.path,
                             {{"page_token", "use next_page_token of the previous page"}});
      f.before_id = token->substr(dot + 1);
    }
    auto orders = s_.List(f);
    if (!orders.ok()) return Error(req, orders.status());
    array items;
    for (const Order& o : *orders) items.push_back(OrderJson(o, nullptr, admin));
    object body{{"items", items}, {"next_page_token", nullptr}};
    if (!orders->empty() && static_cast<int>(orders->size()) >= f.limit)
      body["next_page_token"] = std::to_string(orders->back().created_ms) + "." + orders->back().id;
    return Response::Json(200, json::Dump(body));
  }

  OrderService& s_;
};

}  // namespace

object OrderJson(const Order& o, const std::vector<HistoryEntry>* history, bool admin) {
  array items;
  for (const Item& i : o.items) {
    items.push_back(object{{"product_id", i.product_id},
                           {"title", i.title},
                           {"quantity", i.quantity},
                           {"unit_price", Money(i.unit_price, o.currency)},
                           {"line_total", Money(i.unit_price * i.quantity, o.currency)}});
  }
  object payment{{"method_token", o.method_token}, {"brand", o.card_brand},
                 {"last4", o.card_last4},          {"payment_id", o.payment_id},
                 {"provider", o.payment_provider}, {"status", o.payment_status}};
  payment["next_action"] =
      o.next_action_json.empty() ? boost::json::value(nullptr) : ParseOr(o.next_action_json, nullptr);
  object out{{"id", o.id},
             {"status", o.status},
             {"reason", o.reason},
             {"reason_detail", o.reason_detail},
             {"items", items},
             {"totals", object{{"subtotal", Money(o.subtotal, o.currency)},
                               {"shipping", Money(o.shipping, o.currency)},
                               {"total", Money(o.total, o.currency)}}},
             {"currency", o.currency},
             {"shipping_address", ParseOr(o.address_json, object{})},
             {"payment", payment},
             {"shipment", object{{"shipment_id", o.shipment_id},
                                 {"carrier", o.carrier},
                                 {"tracking_number", o.tracking_number}}},
             {"created_at", FormatRfc3339UnixMillis(o.created_ms)},
             {"updated_at", FormatRfc3339UnixMillis(o.updated_ms)}};
  if (history) {
    array h;
    for (const auto& e : *history)
      h.push_back(
          object{{"status", e.status}, {"reason", e.reason}, {"at", FormatRfc3339UnixMillis(e.at_ms)}});
    out["history"] = std::move(h);
  }
  if (admin) {
    out["user_id"] = o.user_id;
    out["fraud"] =
        object{{"decision", o.fraud_decision}, {"reasons", ParseOr(o.fraud_reasons_json, array{})}};
    out["saga"] = object{{"step", o.step},
                         {"attempts", o.attempts},
                         {"final_status", o.final_status},
                         {"stock", o.stock_state},
                         {"reservation_id", o.reservation_id},
                         {"cancel_requested", o.cancel_requested}};
    out["client_ip"] = o.client_ip;
    out["client"] = ParseOr(o.client_json, object{});
    // A refund or void the provider refused: money may be held or taken; a person must look.
    out["needs_attention"] = o.payment_status == "refund_failed" || o.payment_status == "void_failed";
  }
  return out;
}

Status AddRoutes(http::Router& router, OrderService& service) {
  using auth::Access;
  using http::Method;
  return http::AddMemberRoutes<Routes>(
      router, std::make_shared<Routes>(service),
      {
          {Method::kPost, "/v1/orders", &Routes::Create, {.access = Access::kUser}},
          {Method::kGet, "/v1/orders", &Routes::List, {.access = Access::kUser}},
          {Method::kGet, "/v1/orders/{id}", &Routes::Get, {.access = Access::kUser}},
          {Method::kPost, "/v1/orders/{id}/cancel", &Routes::Cancel, {.access = Access::kUser}},
          {Method::kGet, "/v1/orders/{id}/tracking", &Routes::Tracking, {.access = Access::kUser}},
          {Method::kGet, "/v1/admin/orders", &Routes::AdminList, {.access = Access::kAdmin}},
          {Method::kGet, "/v1/admin/orders/{id}", &Routes::AdminGet, {.access = Access::kAdmin}},
          {Method::kGet, "/v1/admin/fraud/reviews", &Routes::Reviews, {.access = Access::kSupport}},
          {Method::kPost,
           "/v1/admin/fraud/reviews/{id}/decision",
           &Routes::Decide,
           {.access = Access::kSupport}},
      });
}

}  // namespace emporium::order
