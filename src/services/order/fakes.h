// Test support: stand-in "payment" and "fulfillment" modules serving the contracts order calls
// (see /tmp brief / docs/order-flow.md), with outcomes the test controls. Cards behave like the
// sandbox test cards: ...0002 declined, ...3155 requires step-up (CompleteAction finishes it),
// anything else authorizes. fail_next makes the next N calls answer 503. Thread-safe.
#pragma once

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <mutex>
#include <string>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/http/problem.h"
#include "platform/module/testing.h"

namespace emporium::order::testing {

inline std::string JStr(const boost::json::object& o, std::string_view k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class FakePayment {
 public:
  struct Payment {
    std::string id, order_id, status, number;
    int64_t amount = 0;
    int captures = 0, voids = 0, refunds = 0;
  };
  std::atomic<int> fail_next{0};
  std::atomic<bool> fail_always{false};
  std::atomic<bool> refuse_refunds{false};  // refunds answer 409, as a provider may

  void CompleteAction(const std::string& order_id) {
    std::lock_guard lock(mu_);
    for (auto& [id, p] : payments_)
      if (p.order_id == order_id && p.status == "requires_action") p.status = "authorized";
  }
  Payment ByOrder(const std::string& order_id) {
    std::lock_guard lock(mu_);
    for (auto& [id, p] : payments_)
      if (p.order_id == order_id) return p;
    return {};
  }
  int authorize_calls() const { return authorize_calls_.load(); }

  ModuleDef Def() {
    return emporium::testing::FakeModule("payment", [this](http::Router& r) -> Status {
      http::RouteOptions user{.access = auth::Access::kUser};
      http::RouteOptions svc{.access = auth::Access::kService};
      EMP_RETURN_IF_ERROR(r.Add(
          http::Method::kPost, "/v1/payments/methods", [this](http::Request& q) { return Tokenize(q); },
          user));
      EMP_RETURN_IF_ERROR(r.Add(
          http::Method::kPost, "/v1/internal/payments/authorize",
          [this](http::Request& q) { return Authorize(q); }, svc));
      EMP_RETURN_IF_ERROR(r.Add(
          http::Method::kGet, "/v1/internal/payments/{id}", [this](http::Request& q) { return Get(q); },
          svc));
      for (std::string op : {"capture", "void", "refund"}) {
        EMP_RETURN_IF_ERROR(r.Add(
            http::Method::kPost, "/v1/internal/payments/{id}/" + op,
            [this, op](http::Request& q) { return Op(q, op); }, svc));
      }
      return Status::Ok();
    });
  }

 private:
  bool Fail() {
    if (fail_always) return true;
    int n = fail_next.load();
    while (n > 0) {
      if (fail_next.compare_exchange_weak(n, n - 1)) return true;
    }
    return false;
  }
  static boost::json::object Json(const Payment& p) {
    boost::json::object o{{"payment_id", p.id},
                          {"order_id", p.order_id},
                          {"status", p.status},
                          {"provider", "fake"},
                          {"amount", boost::json::object{{"amount", p.amount}, {"currency", "USD"}}}};
    if (p.status == "declined") o["decline_code"] = "card_declined";
    if (p.status == "requires_action")
      o["next_action"] =
          boost::json::object{{"type", "redirect"}, {"url", "https://sandbox.test/3ds/" + p.id}};
    return o;
  }
  static boost::json::object Body(const http::Request& r) {
    auto v = json::Parse(r.body);
    return v.ok() && v->is_object() ? v->as_object() : boost::json::object{};
  }

  http::Response Tokenize(http::Request& req) {
    if (Fail()) return http::Problem(503, "down", req.path);
    const boost::json::object body = Body(req);
    auto card = body.if_contains("card");
    if (!card || !card->is_object()) return http::Problem(422, "card required", req.path);
    std::string number = JStr(card->as_object(), "number");
    if (number.size() < 12) return http::Problem(422, "bad card number", req.path);
    std::lock_guard lock(mu_);
    std::string token = "tok_" + RandomHex(8);
    tokens_[token] = number;
    return http::Response::Json(
        201, json::Dump(boost::json::object{
                 {"method_token", token}, {"brand", "visa"}, {"last4", number.substr(number.size() - 4)}}));
  }

  http::Response Authorize(http::Request& req) {
    ++authorize_calls_;
    if (Fail()) return http::Problem(503, "down", req.path);
    auto b = Body(req);
    std::lock_guard lock(mu_);
    std::string order_id = JStr(b, "order_id");
    for (auto& [id, p] : payments_)
      if (p.order_id == order_id) return http::Response::Json(200, json::Dump(Json(p)));
    Payment p;
    p.id = "pay_" + RandomHex(8);
    p.order_id = order_id;
    p.number = tokens_[JStr(b, "method_token")];
    p.amount = b.at("amount").as_object().at("amount").as_int64();
    p.status = p.number == "4000000000000002"   ? "declined"
               : p.number == "4000002500003155" ? "requires_action"
                                                : "authorized";
    payments_[p.id] = p;
    return http::Response::Json(200, json::Dump(Json(p)));
  }

  http::Response Get(http::Request& req) {
    if (Fail()) return http::Problem(503, "down", req.path);
    std::lock_guard lock(mu_);
    auto it = payments_.find(std::string(*req.PathParam("id")));
    if (it == payments_.end()) return http::Problem(404, "no payment", req.path);
    return http::Response::Json(200, json::Dump(Json(it->second)));
  }

  http::Response Op(http::Request& req, const std::string& op) {
    if (Fail()) return http::Problem(503, "down", req.path);
    std::lock_guard lock(mu_);
    auto it = payments_.find(std::string(*req.PathParam("id")));
    if (it == payments_.end()) return http::Problem(404, "no payment", req.path);
    Payment& p = it->second;
    if (op == "capture") {
      if (p.status == "authorized") {
        p.status = "captured";
        ++p.captures;
      } else if (p.status != "captured") {
        return http::Problem(409, "not capturable", req.path);
      }
    } else if (op == "void") {
      if (p.status == "authorized" || p.status == "requires_action") {
        p.status = "voided";
        ++p.voids;
      } else if (p.status != "voided") {
        return http::Problem(409, "not voidable", req.path);
      }
    } else if (refuse_refunds) {
      return http::Problem(409, "refund refused by the provider", req.path);
    } else if (p.status == "captured") {
      p.status = "refunded";
      ++p.refunds;
    } else if (p.status != "refunded") {
      return http::Problem(409, "not refundable", req.path);
    }
    return http::Response::Json(200, json::Dump(Json(p)));
  }

  std::mutex mu_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, Payment> payments_;
  std::atomic<int> authorize_calls_{0};
};

class FakeFulfillment {
 public:
  static constexpr int64_t kShipping = 500;  // every quote, in USD
  std::atomic<int> fail_next{0};
  std::atomic<bool> refuse_bookings{false};  // bookings answer 422 (e.g. the carrier rejects the address)
  int bookings(const std::string& order_id) {
    std::lock_guard lock(mu_);
    return static_cast<int>(shipments_.count(order_id));
  }

  ModuleDef Def() {
    return emporium::testing::FakeModule("fulfillment", [this](http::Router& r) -> Status {
      http::RouteOptions svc{.access = auth::Access::kService};
      EMP_RETURN_IF_ERROR(r.Add(
          http::Method::kPost, "/v1/internal/shipments", [this](http::Request& q) { return Book(q); }, svc));
      EMP_RETURN_IF_ERROR(r.Add(
          http::Method::kPost, "/v1/internal/shipments/quote", [this](http::Request& q) { return Quote(q); },
          svc));
      return r.Add(
          http::Method::kGet, "/v1/internal/shipments", [this](http::Request& q) { return List(q); }, svc);
    });
  }

 private:
  http::Response Quote(http::Request& req) {
    auto v = json::Parse(req.body);
    if (!v.ok() || !v->is_object()) return http::Problem(422, "bad body", req.path);
    auto addr = v->as_object().if_contains("address");
    if (!addr || !addr->is_object() || JStr(addr->as_object(), "country") == "AQ")
      return http::Problem(422, "no carrier serves that address", req.path);
    return http::Response::Json(
        200, json::Dump(boost::json::object{
                 {"carrier", "fastship"},
                 {"service", "ground"},
                 {"price", boost::json::object{{"amount", kShipping}, {"currency", "USD"}}}}));
  }

  http::Response Book(http::Request& req) {
    if (refuse_bookings) return http::Problem(422, "the carrier refused the parcel", req.path);
    if (fail_next > 0) {
      --fail_next;
      return http::Problem(503, "down", req.path);
    }
    auto v = json::Parse(req.body);
    if (!v.ok() || !v->is_object()) return http::Problem(422, "bad body", req.path);
    const auto& b = v->as_object();
    auto addr = b.if_contains("address");
    if (!addr || !addr->is_object() || JStr(addr->as_object(), "line1").empty())
      return http::Problem(422, "address required", req.path);
    std::lock_guard lock(mu_);
    std::string order_id = JStr(b, "order_id");
    auto it = shipments_.find(order_id);
    if (it == shipments_.end()) {
      boost::json::object s{{"shipment_id", "shp_" + RandomHex(6)},
                            {"order_id", order_id},
                            {"carrier", "fastship"},
                            {"tracking_number", "FS" + RandomHex(5)},
                            {"label_url", "https://sandbox.test/label"},
                            {"status", "booked"},
                            {"rate", boost::json::object{{"amount", 500}, {"currency", "USD"}}}};
      it = shipments_.emplace(order_id, s).first;
      return http::Response::Json(201, json::Dump(s));
    }
    return http::Response::Json(200, json::Dump(it->second));
  }

  http::Response List(http::Request& req) {
    std::lock_guard lock(mu_);
    boost::json::array items, events;
    auto it = shipments_.find(req.QueryParam("order_id").value_or(""));
    if (it != shipments_.end()) {
      items.push_back(it->second);
      events.push_back(boost::json::object{
          {"status", "booked"}, {"at", "2024-01-01T00:00:00Z"}, {"description", "label created"}});
    }
    return http::Response::Json(200, json::Dump(boost::json::object{{"items", items}, {"events", events}}));
  }

  std::mutex mu_;
  std::map<std::string, boost::json::object> shipments_;
};

}  // namespace emporium::order::testing
