// Test helper: both carrier sandboxes on ephemeral ports, the fulfillment module in a Runtime
// over a fresh temp data dir, and an HTTP server on that runtime's router (port 0) for the
// sandboxes' webhooks. Internal routes are driven through Runtime::Dispatch with a service
// principal set directly, as the order module's in-process calls do.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/http/client.h"
#include "platform/http/server.h"
#include "platform/module/testing.h"
#include "services/fulfillment/api.h"
#include "services/fulfillment/sandbox/server.h"

namespace emporium::fulfillment::testing {

using ::emporium::testing::DataDir;
using ::emporium::testing::ParseObject;
using ::emporium::testing::Str;
using ::emporium::testing::TestRuntime;

inline constexpr char kRapidSecret[] = "test-rapidship-secret";
inline constexpr char kCargoSecret[] = "test-cargoline-secret";

// Polls cond every 10 ms until it holds or timeout passes.
inline bool WaitUntil(const std::function<bool()>& cond, Millis timeout = Millis(10'000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(Millis(10));
  }
  return cond();
}

inline std::string ShipmentBody(const std::string& order_id, int units, const std::string& carrier = "") {
  boost::json::object address{
      {"name", "Ada Lovelace"}, {"line1", "1 Analytical St"}, {"line2", ""},    {"city", "London"},
      {"region", "LDN"},        {"postal_code", "N1 9GU"},    {"country", "GB"}};
  boost::json::object o{
      {"order_id", order_id},
      {"address", address},
      {"items", boost::json::array{boost::json::object{{"product_id", "p1"}, {"quantity", units}}}}};
  if (!carrier.empty()) o["carrier"] = carrier;
  return json::Dump(o);
}

class Env {
 public:
  explicit Env(Millis step = Millis(3'600'000)) {
    rapid_ = std::make_unique<sandbox::SandboxServer>(
        sandbox::SandboxOptions{.kind = sandbox::Kind::kRapidship, .step = step, .secret = kRapidSecret});
    cargo_ = std::make_unique<sandbox::SandboxServer>(
        sandbox::SandboxOptions{.kind = sandbox::Kind::kCargoline, .step = step, .secret = kCargoSecret});
    EXPECT_TRUE(rapid_->Start().ok());
    EXPECT_TRUE(cargo_->Start().ok());
    rt_.emplace(
        dir_.path(), std::vector<ModuleDef>{Module()},
        std::vector<std::string>{"--log-level=error", "--fulfillment-rapidship-url=" + rapid_->url(),
                                 "--fulfillment-cargoline-url=" + cargo_->url(),
                                 std::string("--fulfillment-rapidship-webhook-secret=") + kRapidSecret,
                                 std::string("--fulfillment-cargoline-webhook-secret=") + kCargoSecret});
  }
  ~Env() {
    rapid_->Stop();
    cargo_->Stop();
    if (server_) server_->Shutdown();
    rt_->rt().Stop();
  }

  // Starts the module and the webhook server, and points both sandboxes at it.
  Status Start() {
    EMP_RETURN_IF_ERROR(rt_->Start());
    http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.blocking_threads = 4;
    o.access_log = false;
    server_ = std::make_unique<http::Server>(o, rt().router(), rt().metrics());
    EMP_RETURN_IF_ERROR(server_->Start());
    std::string base = "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1/webhooks/carriers/";
    EMP_RETURN_IF_ERROR(
        rapid_->simulator().Control(json::Dump(boost::json::object{{"webhook_url", base + "rapidship"}})));
    return cargo_->simulator().Control(json::Dump(boost::json::object{{"webhook_url", base + "cargoline"}}));
  }

  http::Response Call(http::Method method, const std::string& target, const std::string& body = "",
                      bool service = true) {
    http::Request req = http::NewRequest(method, target, body);
    if (service) req.principal = auth::Principal{.subject = "client:order", .client_id = "order"};
    return rt().Dispatch(req);
  }
  http::Response Book(const std::string& order_id, int units, const std::string& carrier = "") {
    return Call(http::Method::kPost, "/v1/internal/shipments", ShipmentBody(order_id, units, carrier));
  }
  boost::json::object Shipment(const std::string& id) {
    return ParseObject(Call(http::Method::kGet, "/v1/internal/shipments/" + id).body);
  }
  // Sends a webhook request through the router as the network would deliver it.
  http::Response Webhook(const std::string& carrier, http::Request req) {
    req.method = http::Method::kPost;
    req.target = req.path = "/v1/webhooks/carriers/" + carrier;
    return rt().Dispatch(req);
  }

  // Events of topic "fulfillment" for order_id published so far (types, in order).
  std::vector<std::string> EventTypes(const std::string& order_id) {
    if (!consumer_) {
      auto bus = rt().Bus();
      EXPECT_TRUE(bus.ok());
      auto c = (*bus)->Subscribe("test-observer-" + NewUuid(), {"fulfillment"});
      EXPECT_TRUE(c.ok());
      consumer_ = std::move(c).value();
    }
    for (;;) {
      auto records = consumer_->Poll(Millis(20));
      if (!records.ok() || records->empty()) break;
      for (const auto& r : *records) seen_.push_back(r);
    }
    std::vector<std::string> out;
    for (const auto& r : seen_) {
      if (r.key == order_id) out.push_back(r.event.type);
    }
    return out;
  }

  // Publishes an event as another module would (the order module's order.confirmed).
  void PublishOrderEvent(const std::string& type, const std::string& order_id, const std::string& data) {
    auto bus = rt().Bus();
    ASSERT_TRUE(bus.ok());
    ASSERT_TRUE((*bus)->EnsureTopic("order", 8).ok());
    auto producer = (*bus)->NewProducer();
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE((*producer)
                    ->Publish("order", order_id, bus::MakeEvent("/emporium/order", type, order_id, data))
                    .ok());
  }

  std::vector<boost::json::object> Notifications() {
    std::vector<boost::json::object> out;
    std::ifstream in(dir_.path() / "notifications.log");
    for (std::string line; std::getline(in, line);) out.push_back(ParseObject(line));
    return out;
  }

  Runtime& rt() { return rt_->rt(); }
  sandbox::SandboxServer& rapidship() { return *rapid_; }
  sandbox::SandboxServer& cargoline() { return *cargo_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  DataDir dir_{"fulfillment", {}, DataDir::Cleanup::kRemove};
  std::unique_ptr<sandbox::SandboxServer> rapid_;
  std::unique_ptr<sandbox::SandboxServer> cargo_;
  std::optional<TestRuntime> rt_;  // built once the sandboxes listen (the flags carry their URLs)
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<bus::Consumer> consumer_;
  std::vector<bus::Record> seen_;
};

}  // namespace emporium::fulfillment::testing
