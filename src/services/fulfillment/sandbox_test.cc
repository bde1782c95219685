// End to end with the sandboxes over real HTTP: parcels reach delivered on their own (fast
// steps), events are published, webhooks are retried until accepted, notifications are
// written; and the sandboxes' control endpoint.
#include <gtest/gtest.h>

#include <algorithm>

#include "platform/http/client.h"
#include "services/fulfillment/test_env.h"

namespace emporium::fulfillment {
namespace {

using testing::Env;
using testing::ParseObject;
using testing::Str;
using testing::WaitUntil;

constexpr Millis kFastStep{40};

std::vector<std::string> Statuses(const boost::json::object& shipment) {
  std::vector<std::string> out;
  for (const auto& e : shipment.at("events").as_array()) out.push_back(Str(e.as_object(), "status"));
  return out;
}

TEST(Sandbox, ParcelsOfBothCarriersReachDeliveredWithEventsAndNotifications) {
  Env env(kFastStep);
  ASSERT_TRUE(env.Start().ok());
  env.PublishOrderEvent(
      "order.confirmed", "order-e2e-1",
      R"({"order_id":"order-e2e-1","user_id":"u-42","total":{"amount":2500,"currency":"USD"}})");
  // Order 2 only has order.created (which names the user); order 3 has no order events at all.
  env.PublishOrderEvent("order.created", "order-e2e-2", R"({"order_id":"order-e2e-2","user_id":"u-7"})");
  auto small = ParseObject(env.Book("order-e2e-1", 1).body);  // cargoline
  auto large = ParseObject(env.Book("order-e2e-2", 5).body);  // rapidship
  auto other = ParseObject(env.Book("order-e2e-3", 2).body);  // cargoline
  ASSERT_EQ(Str(small, "carrier"), "cargoline");
  ASSERT_EQ(Str(large, "carrier"), "rapidship");

  for (const auto* s : {&small, &large, &other}) {
    std::string id = Str(*s, "shipment_id");
    ASSERT_TRUE(WaitUntil([&] { return Str(env.Shipment(id), "status") == "delivered"; })) << id;
    auto statuses = Statuses(env.Shipment(id));
    for (const char* want : {"booked", "in_transit", "out_for_delivery", "delivered"})
      EXPECT_EQ(std::count(statuses.begin(), statuses.end(), want), 1) << want;
  }
  for (const char* order : {"order-e2e-1", "order-e2e-2", "order-e2e-3"}) {
    ASSERT_TRUE(WaitUntil([&] { return env.EventTypes(order).size() >= 3; })) << order;
    EXPECT_EQ(env.EventTypes(order),
              (std::vector<std::string>{"shipment.booked", "shipment.shipped", "shipment.delivered"}));
  }

  // Confirmation (from order.confirmed), shipped and delivered for order 1; orders 2 and 3 had
  // no order.confirmed, so no confirmation; order 3's user is unknown.
  ASSERT_TRUE(WaitUntil([&] { return env.Notifications().size() >= 7; }));
  std::this_thread::sleep_for(Millis(200));
  auto lines = env.Notifications();
  ASSERT_EQ(lines.size(), 7u);
  std::map<std::string, boost::json::object> by_id;
  for (const auto& l : lines) by_id[Str(l, "id")] = l;
  ASSERT_EQ(by_id.size(), 7u);
  auto confirmed = by_id.at("order_confirmed:order-e2e-1");
  EXPECT_EQ(Str(confirmed, "user_id"), "u-42");
  EXPECT_EQ(confirmed.at("total").as_object().at("amount").as_int64(), 2500);
  auto shipped = by_id.at("order_shipped:order-e2e-1");
  EXPECT_EQ(Str(shipped, "user_id"), "u-42");
  EXPECT_EQ(Str(shipped, "carrier"), "cargoline");
  EXPECT_EQ(Str(shipped, "tracking_number"), Str(small, "tracking_number"));
  EXPECT_EQ(Str(by_id.at("order_delivered:order-e2e-1"), "kind"), "order_delivered");
  EXPECT_EQ(Str(by_id.at("order_delivered:order-e2e-2"), "user_id"), "u-7");
  EXPECT_FALSE(by_id.contains("order_confirmed:order-e2e-2"));
  EXPECT_TRUE(by_id.at("order_delivered:order-e2e-3").at("user_id").is_null());
  EXPECT_EQ(Str(by_id.at("order_shipped:order-e2e-2"), "channel"), "email");
}

TEST(Sandbox, RejectedWebhooksAreRetriedUntilAccepted) {
  Env env(kFastStep);
  ASSERT_TRUE(env.Start().ok());
  // Signed with the wrong key: fulfillment answers 401 and the sandbox keeps retrying.
  ASSERT_TRUE(env.cargoline().simulator().Control(R"({"mode":"bad_signature"})").ok());
  auto s = ParseObject(env.Book("order-retry", 1, "cargoline").body);
  std::string id = Str(s, "shipment_id");
  ASSERT_TRUE(WaitUntil([&] { return env.cargoline().simulator().webhook_failures() >= 3; }));
  EXPECT_EQ(Str(env.Shipment(id), "status"), "booked");
  ASSERT_TRUE(env.cargoline().simulator().Control(R"({"mode":"normal"})").ok());
  ASSERT_TRUE(WaitUntil([&] { return Str(env.Shipment(id), "status") == "delivered"; }));
  ASSERT_TRUE(WaitUntil([&] { return env.EventTypes("order-retry").size() >= 3; }));
  std::this_thread::sleep_for(Millis(100));
  EXPECT_EQ(env.EventTypes("order-retry"),
            (std::vector<std::string>{"shipment.booked", "shipment.shipped", "shipment.delivered"}));
}

TEST(Sandbox, ControlEndpointOverHttp) {
  sandbox::SandboxServer server(sandbox::SandboxOptions{.kind = sandbox::Kind::kRapidship, .secret = "s"});
  ASSERT_TRUE(server.Start().ok());
  http::HttpClient client;
  auto post = [&](const std::string& path, const std::string& body,
                  const std::string& type = "application/json") {
    http::Request req;
    req.method = http::Method::kPost;
    req.target = path;
    req.body = body;
    req.headers.Set("Content-Type", type);
    auto r = client.Send(server.url(), req, std::chrono::steady_clock::now() + Millis(5000));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::Response{};
  };
  EXPECT_EQ(post("/control", R"({"mode":"sideways"})").status, 422);
  EXPECT_EQ(post("/control", R"({"fail_next":-1})").status, 422);
  auto ok = post("/control", R"({"fail_next":1,"step_ms":250})");
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(ParseObject(ok.body).at("step_ms").as_int64(), 250);
  std::string rates = R"({"to":{"postal_code":"1","country":"US"},"parcels":[{"weight_grams":500}]})";
  EXPECT_EQ(post("/v1/rates", rates).status, 503);
  auto quoted = post("/v1/rates", rates);
  ASSERT_EQ(quoted.status, 200);
  EXPECT_EQ(ParseObject(quoted.body).at("rates").as_array()[0].as_object().at("amount").as_int64(), 699);
  // A shipment without an Idempotency-Key is refused; with one, a repeat returns the same parcel.
  std::string shipment = R"({"service":"ground","to":{"country":"US"},"parcels":[{"weight_grams":500}]})";
  EXPECT_EQ(post("/v1/shipments", shipment).status, 400);
  http::Request req;
  req.method = http::Method::kPost;
  req.target = "/v1/shipments";
  req.body = shipment;
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set("Idempotency-Key", "k1");
  auto a = client.Send(server.url(), req, std::chrono::steady_clock::now() + Millis(5000));
  auto b = client.Send(server.url(), req, std::chrono::steady_clock::now() + Millis(5000));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->status, 201);
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(Str(ParseObject(a->body), "tracking_number"), Str(ParseObject(b->body), "tracking_number"));
  // The label URL resolves on the sandbox.
  std::string label = Str(ParseObject(a->body), "label_url");
  http::Request get;
  get.target = label.substr(server.url().size());
  auto doc = client.Send(server.url(), get, std::chrono::steady_clock::now() + Millis(5000));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->status, 200);
  EXPECT_NE(doc->body.find(Str(ParseObject(a->body), "tracking_number")), std::string::npos);
  server.Stop();
}

}  // namespace
}  // namespace emporium::fulfillment
