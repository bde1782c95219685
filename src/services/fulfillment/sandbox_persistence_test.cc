// A carrier sandbox given a database keeps its parcels across a restart: the idempotency key
// still finds the parcel, it advances from its stored stage to delivered, the webhook that was
// never acknowledged is sent again under its first event id, and acknowledged ones are not.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "platform/http/problem.h"
#include "platform/http/router.h"
#include "platform/http/server.h"
#include "platform/metrics/metrics.h"
#include "platform/sql/sql.h"
#include "services/fulfillment/test_env.h"

namespace emporium::fulfillment {
namespace {

using testing::DataDir;
using testing::ParseObject;
using testing::Str;
using testing::WaitUntil;

struct Hook {
  std::string id;
  std::string tracking_number;
  std::string status;
  bool accepted;
};

// Records every rapidship webhook POSTed to /hook; answers 503 while `accept` is false.
class Receiver {
 public:
  Receiver() {
    EXPECT_TRUE(
        router_
            .Add(http::Method::kPost, "/hook",
                 [this](http::Request& req) {
                   auto body = ParseObject(req.body);
                   auto data = body["data"].is_object() ? body["data"].as_object() : boost::json::object{};
                   std::lock_guard lock(mu_);
                   hooks_.push_back(
                       Hook{Str(body, "id"), Str(data, "tracking_number"), Str(data, "status"), accept_});
                   return accept_ ? http::Response::Json(200, "{}") : http::Problem(503, "receiver down");
                 })
            .ok());
    http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.blocking_threads = 2;
    o.access_log = false;
    server_ = std::make_unique<http::Server>(o, router_, metrics_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Receiver() { server_->Shutdown(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook"; }
  void set_accept(bool accept) {
    std::lock_guard lock(mu_);
    accept_ = accept;
  }
  std::vector<Hook> Hooks(const std::string& tracking_number, bool accepted) {
    std::lock_guard lock(mu_);
    std::vector<Hook> out;
    for (const Hook& h : hooks_) {
      if (h.tracking_number == tracking_number && h.accepted == accepted) out.push_back(h);
    }
    return out;
  }
  bool Accepted(const std::string& tracking_number, const std::string& status) {
    for (const Hook& h : Hooks(tracking_number, true)) {
      if (h.status == status) return true;
    }
    return false;
  }

 private:
  http::Router router_;
  metrics::Registry metrics_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::vector<Hook> hooks_;
  bool accept_ = true;
};

TEST(SandboxPersistence, ParcelsSurviveARestartAndReachDelivered) {
  DataDir dir("carrier-sandbox", {}, DataDir::Cleanup::kRemove);
  auto db = sql::Open("sqlite://" + (dir.path() / "carrier_rapidship.db").string());
  ASSERT_TRUE(db.ok());
  Receiver rx;
  rx.set_accept(false);
  sandbox::SandboxOptions o{.kind = sandbox::Kind::kRapidship,
                            .step = Millis(3'600'000),
                            .webhook_url = rx.url(),
                            .secret = "s",
                            .database = db->get()};

  // First life: the parcel is created; its label_created webhook is refused, then the sandbox stops.
  std::string tracking;
  std::string refused_id;
  {
    sandbox::SandboxServer first(o);
    ASSERT_TRUE(first.Start().ok());
    auto made = first.simulator().CreateParcel("key-1", "order-1", false, "ground", 699);
    ASSERT_TRUE(made.ok());
    ASSERT_TRUE(made->second);
    tracking = made->first.tracking_number;
    ASSERT_TRUE(WaitUntil([&] { return !rx.Hooks(tracking, false).empty(); }));
    refused_id = rx.Hooks(tracking, false).front().id;
    EXPECT_EQ(rx.Hooks(tracking, false).front().status, "label_created");
    first.Stop();
  }

  // Second life on the same database, fast steps, receiver up.
  rx.set_accept(true);
  o.step = Millis(40);
  std::string other;
  {
    sandbox::SandboxServer second(o);
    ASSERT_TRUE(second.Start().ok());
    auto again = second.simulator().CreateParcel("key-1", "order-1", false, "ground", 699);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->second);
    EXPECT_EQ(again->first.tracking_number, tracking);
    auto fresh = second.simulator().CreateParcel("key-2", "order-2", false, "ground", 699);
    ASSERT_TRUE(fresh.ok());
    EXPECT_TRUE(fresh->second);
    other = fresh->first.tracking_number;
    EXPECT_NE(other, tracking);
    ASSERT_TRUE(
        WaitUntil([&] { return rx.Accepted(tracking, "delivered") && rx.Accepted(other, "delivered"); }));
    second.Stop();
  }
  auto accepted = rx.Hooks(tracking, true);
  std::vector<std::string> statuses;
  std::set<std::string> ids;
  for (const Hook& h : accepted) {
    statuses.push_back(h.status);
    ids.insert(h.id);
  }
  EXPECT_EQ(statuses,
            (std::vector<std::string>{"label_created", "in_transit", "out_for_delivery", "delivered"}));
  EXPECT_EQ(ids.size(), 4u);
  ASSERT_FALSE(accepted.empty());
  EXPECT_EQ(accepted.front().id, refused_id);  // the re-sent webhook keeps its first event id

  // Third life: both parcels are delivered and every webhook acknowledged, so none is queued.
  sandbox::SandboxServer third(o);
  ASSERT_TRUE(third.simulator().Control(R"({"mode":"paused"})").ok());
  ASSERT_TRUE(third.Start().ok());
  auto state = ParseObject(third.simulator().ControlState());
  EXPECT_EQ(state.at("parcels").as_int64(), 2);
  EXPECT_EQ(state.at("webhooks_pending").as_int64(), 0);
  auto parcel = third.simulator().Find(tracking);
  ASSERT_TRUE(parcel.has_value());
  EXPECT_EQ(parcel->stage, sandbox::Stage::kDelivered);
  EXPECT_EQ(parcel->reference, "order-1");
  third.Stop();
}

TEST(SandboxPersistence, RemoteAreaParcelsTravelSlowlyAndStaySlowAfterARestart) {
  DataDir dir("carrier-remote", {}, DataDir::Cleanup::kRemove);
  auto db = sql::Open("sqlite://" + (dir.path() / "carrier_rapidship.db").string());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Receiver rx;
  sandbox::SandboxOptions o{.kind = sandbox::Kind::kRapidship,
                            .step = Millis(40),
                            .webhook_url = rx.url(),
                            .secret = "s",
                            .database = db->get()};
  std::string near, remote;
  {
    sandbox::SandboxServer first(o);
    ASSERT_TRUE(first.Start().ok());
    near = first.simulator()
               .CreateParcel("k-near", "order-near", sandbox::IsRemoteArea("10115"), "ground", 699)
               ->first.tracking_number;
    auto far =
        first.simulator().CreateParcel("k-far", "order-far", sandbox::IsRemoteArea("99701"), "ground", 699);
    ASSERT_TRUE(far.ok());
    EXPECT_TRUE(far->first.remote_area);
    remote = far->first.tracking_number;
    ASSERT_TRUE(WaitUntil([&] { return rx.Accepted(near, "delivered"); }));
    EXPECT_EQ(first.simulator().Find(remote)->stage, sandbox::Stage::kLabelCreated);
    first.Stop();
  }
  sandbox::SandboxServer second(o);
  ASSERT_TRUE(second.Start().ok());
  auto parcel = second.simulator().Find(remote);
  ASSERT_TRUE(parcel.has_value());
  EXPECT_TRUE(parcel->remote_area);
  std::this_thread::sleep_for(Millis(200));
  EXPECT_EQ(second.simulator().Find(remote)->stage, sandbox::Stage::kLabelCreated);
  second.Stop();
}

TEST(SandboxPersistence, WithoutADatabaseParcelsAreInMemory) {
  sandbox::SandboxOptions o{.kind = sandbox::Kind::kCargoline, .secret = "s"};
  std::string tracking;
  {
    sandbox::SandboxServer first(o);
    ASSERT_TRUE(first.Start().ok());
    auto made = first.simulator().CreateParcel("key-1", "order-1", false, "ECONOMY", 500);
    ASSERT_TRUE(made.ok());
    tracking = made->first.tracking_number;
    EXPECT_TRUE(first.simulator().Find(tracking).has_value());
  }
  sandbox::SandboxServer second(o);
  ASSERT_TRUE(second.Start().ok());
  EXPECT_FALSE(second.simulator().Find(tracking).has_value());
}

}  // namespace
}  // namespace emporium::fulfillment
