// Test helper: the real catalog and cart modules, fake payment and fulfillment modules and the
// order module in one Runtime over a temp data dir (reusable across a simulated restart), driven
// through Runtime::Dispatch with principals set directly as an in-process caller would.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/json.h"
#include "platform/module/testing.h"
#include "services/cart/api.h"
#include "services/catalog/api.h"
#include "services/order/api.h"
#include "services/order/fakes.h"

namespace emporium::order::testing {

using ::emporium::testing::DataDir;
using ::emporium::testing::JoinFlags;
using ::emporium::testing::ParseObject;
using ::emporium::testing::TestRuntime;

inline const std::string kAdmin = "user:admin-1";

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}, std::filesystem::path dir = {})
      : dir_("order", std::move(dir)),
        rt_(dir_.path(), {catalog::Module(), cart::Module(), payment_.Def(), fulfillment_.Def(), Module()},
            JoinFlags({"--log-level=error", "--catalog-seed-demo=false", "--order-saga-poll=50ms"}, flags)) {}

  Status Start() { return rt_.Start(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

  http::Response Call(http::Method method, const std::string& target, const std::string& subject,
                      const std::string& body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req = http::NewRequest(method, target, body);
    req.remote_addr = "198.51.100.7";
    for (auto& [k, v] : headers) req.headers.Set(k, v);
    if (!subject.empty()) {
      auth::Principal p;
      p.subject = subject;
      p.roles = {subject == kAdmin ? "admin" : "customer"};
      p.client_id = "storefront";
      req.principal = p;
    }
    return rt_.rt().Dispatch(req);
  }
  http::Response Post(const std::string& target, const std::string& subject, const boost::json::value& body,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Call(http::Method::kPost, target, subject, json::Dump(body), std::move(headers));
  }
  boost::json::object GetJson(const std::string& target, const std::string& subject) {
    return ParseObject(Call(http::Method::kGet, target, subject).body);
  }

  // A product with `stock` units in one warehouse; returns its id.
  std::string Product(const std::string& title, int64_t price, int64_t stock) {
    if (category_.empty()) {
      auto r = Post("/v1/admin/categories", kAdmin, boost::json::object{{"name", "Things"}});
      EXPECT_EQ(r.status, 201) << r.body;
      category_ = std::string(ParseObject(r.body)["id"].as_string());
    }
    boost::json::object p{{"title", title},
                          {"brand", "Acme"},
                          {"category_id", category_},
                          {"price", boost::json::object{{"amount", price}, {"currency", "USD"}}}};
    auto r = Post("/v1/admin/products", kAdmin, p);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string id(ParseObject(r.body)["id"].as_string());
    SetStock(id, stock);
    return id;
  }
  void SetStock(const std::string& id, int64_t on_hand) {
    boost::json::array whs{boost::json::object{{"warehouse_id", "wh-1"}, {"on_hand", on_hand}}};
    auto r = Call(http::Method::kPut, "/v1/admin/inventory/" + id, kAdmin,
                  json::Dump(boost::json::object{{"warehouses", whs}}));
    EXPECT_EQ(r.status, 200) << r.body;
  }
  // {on_hand, reserved} summed over warehouses.
  std::pair<int64_t, int64_t> Stock(const std::string& id) {
    auto o = GetJson("/v1/admin/inventory/" + id, kAdmin);
    int64_t on_hand = 0, reserved = 0;
    if (auto w = o.if_contains("warehouses"); w && w->is_array()) {
      for (const auto& e : w->as_array()) {
        on_hand += e.as_object().at("on_hand").as_int64();
        reserved += e.as_object().at("reserved").as_int64();
      }
    }
    return {on_hand, reserved};
  }
  void AddToCart(const std::string& user, const std::string& product_id, int quantity) {
    auto r =
        Post("/v1/cart/items", user, boost::json::object{{"product_id", product_id}, {"quantity", quantity}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static boost::json::object Checkout(const std::string& card = "4242424242424242") {
    return boost::json::object{
        {"shipping_address", boost::json::object{{"name", "Ada Lovelace"},
                                                 {"line1", "1 Analytical Way"},
                                                 {"city", "London"},
                                                 {"postal_code", "N1 1AA"},
                                                 {"country", "GB"}}},
        {"payment",
         boost::json::object{
             {"card", boost::json::object{
                          {"number", card}, {"exp_month", 12}, {"exp_year", 2030}, {"cvc", "123"}}}}}};
  }
  http::Response Order(const std::string& user, const boost::json::object& body, const std::string& key) {
    return Post("/v1/orders", user, body, {{"Idempotency-Key", key}});
  }
  // Polls the order until its status is `want` (or 5 s pass); returns the last document.
  boost::json::object WaitFor(const std::string& user, const std::string& id, const std::string& want) {
    boost::json::object o;
    for (int i = 0; i < 250; ++i) {
      o = GetJson("/v1/orders/" + id, user);
      if (JStr(o, "status") == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return o;
  }
  void PublishShipment(const std::string& type, const std::string& order_id) {
    auto bus = rt_.rt().Bus();
    ASSERT_TRUE(bus.ok());
    auto producer = (*bus)->NewProducer();
    ASSERT_TRUE(producer.ok());
    boost::json::object data{{"shipment_id", "shp-x"},
                             {"order_id", order_id},
                             {"carrier", "fastship"},
                             {"tracking_number", "FS1"},
                             {"at", "2024-01-01T00:00:00Z"}};
    auto e = bus::MakeEvent("/emporium/fulfillment", type, order_id, json::Dump(data));
    ASSERT_TRUE((*producer)->Publish(std::string(kFulfillmentTopic), order_id, e).ok());
  }

  Runtime& rt() { return rt_.rt(); }
  FakePayment& payment() { return payment_; }
  FakeFulfillment& fulfillment() { return fulfillment_; }

 private:
  DataDir dir_;
  FakePayment payment_;
  FakeFulfillment fulfillment_;
  TestRuntime rt_;
  std::string category_;
};

}  // namespace emporium::order::testing
