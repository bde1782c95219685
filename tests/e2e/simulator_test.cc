// The demo history end to end (issue 10): `emporium up --simulator-demo=true` on an empty data
// directory fills the shop through its own public API — shoppers, behaviour, orders in several
// states, fraud in the review queue and chargebacks — writes the ground truth, and a second start
// keeps what is there.
#include <signal.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "child_process.h"
#include "gtest/gtest.h"
#include "platform/core/random.h"
#include "platform/http/client.h"
#include "platform/http/url.h"
#include "sim/truth.h"

namespace emporium::e2e {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kPassword = "Tr0ub4dor-and-3-horses";
constexpr std::string_view kAdminEmail = "admin@e2e.test";

json::object Parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

std::string Str(const json::object& o, std::string_view k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

class DemoE2eTest : public ::testing::Test {
 protected:
  DemoE2eTest() : dir_(fs::path(::testing::TempDir()) / ("demo-e2e-" + NewUuid())) {
    fs::create_directories(dir_ / "data");
    std::ofstream(dir_ / "admin.password") << kPassword << "\n";
    port_ = FreePort();
    for (const char* p : {"intents", "acquirer", "wallet", "rapidship", "cargoline"}) ports_[p] = FreePort();
  }
  ~DemoE2eTest() override {
    child_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Up(const std::string& name) {
    std::vector<std::string> args{
        "up",
        "--data-dir=" + (dir_ / "data").string(),
        "--http-port=" + std::to_string(port_),
        "--public-url=" + Base(),
        "--access-log=false",
        "--catalog-demo-size=600",
        "--identity-password-ops=1",
        "--identity-password-mem-kib=8192",
        "--identity-bootstrap-admin-email=" + std::string(kAdminEmail),
        "--identity-bootstrap-admin-password-file=" + (dir_ / "admin.password").string(),
        "--simulator-demo=true",
        "--simulator-demo-users=150",
        "--simulator-demo-days=7",
        "--simulator-demo-fraud-rate=0.12",
        "--simulator-demo-seed=2"};
    for (const char* p : {"intents", "acquirer", "wallet"}) {
      args.push_back("--paysim-" + std::string(p) + "-port=" + std::to_string(ports_[p]));
      args.push_back("--payment-" + std::string(p) + "-url=http://127.0.0.1:" + std::to_string(ports_[p]));
    }
    for (const char* c : {"rapidship", "cargoline"}) {
      args.push_back("--" + std::string(c) + "-sandbox-port=" + std::to_string(ports_[c]));
      args.push_back("--" + std::string(c) + "-sandbox-step=100ms");
      args.push_back("--fulfillment-" + std::string(c) +
                     "-url=http://127.0.0.1:" + std::to_string(ports_[c]));
    }
    fs::create_directories(dir_ / name);
    child_ = std::make_unique<Child>(EMPORIUM_BINARY, dir_ / name);
    child_->Spawn(args);
    const auto give_up = std::chrono::steady_clock::now() + seconds(60);
    for (;;) {
      auto r = Get("/readyz");
      if (r.ok() && r->status == 200) break;
      ASSERT_TRUE(child_->running()) << child_->Output();
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << child_->Output();
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  void Down() {
    child_->Signal(SIGTERM);
    ASSERT_TRUE(child_->Wait(seconds(30)).has_value());
  }

  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  Result<http::Response> Get(std::string target, const std::string& token = "") {
    http::Request req = http::NewRequest(http::Method::kGet, std::move(target));
    if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
    return client_.Send(Base(), req, std::chrono::steady_clock::now() + seconds(15));
  }

  std::string AdminToken() {
    http::Request req = http::NewRequest(http::Method::kPost, "/oauth2/token",
                                         http::FormEncode({{"grant_type", "password"},
                                                           {"username", std::string(kAdminEmail)},
                                                           {"password", std::string(kPassword)},
                                                           {"client_id", "storefront"}}),
                                         "application/x-www-form-urlencoded");
    auto r = client_.Send(Base(), req, std::chrono::steady_clock::now() + seconds(15));
    EXPECT_TRUE(r.ok() && r->status == 200);
    return r.ok() ? Str(Parse(r->body), "access_token") : "";
  }

  // Every order, through the admin list's pages: id → status.
  std::map<std::string, std::string> Orders(const std::string& admin) {
    std::map<std::string, std::string> out;
    std::string token;
    for (int page = 0; page < 100; ++page) {
      std::string target = "/v1/admin/orders?page_size=100";
      if (!token.empty()) target += "&page_token=" + http::PercentEncode(token);
      auto r = Get(target, admin);
      EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
      if (!r.ok() || r->status != 200) break;
      json::object body = Parse(r->body);
      for (const auto& o : body["items"].as_array())
        out[Str(o.as_object(), "id")] = Str(o.as_object(), "status");
      token = Str(body, "next_page_token");
      if (token.empty()) break;
    }
    return out;
  }

  fs::path dir_;
  uint16_t port_ = 0;
  std::map<std::string, uint16_t> ports_;
  http::HttpClient client_;
  std::unique_ptr<Child> child_;
};

TEST_F(DemoE2eTest, AnEmptyShopGetsAHistoryOnceAndKeepsIt) {
  Up("first");
  const fs::path done = dir_ / "data" / "simulator" / "demo.done";
  const auto give_up = std::chrono::steady_clock::now() + seconds(180);
  while (!fs::exists(done)) {
    ASSERT_TRUE(child_->running()) << child_->Output();
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "no demo history in 180 s:\n" << child_->Output();
    std::this_thread::sleep_for(milliseconds(200));
  }
  // The history went through the public API without a server error.
  json::object report = Parse(ReadFile(done));
  ASSERT_FALSE(report.empty()) << ReadFile(done);
  for (const auto& [endpoint, stats] : report["endpoints"].as_object()) {
    for (const auto& [kind, n] : stats.as_object().at("errors").as_object())
      EXPECT_FALSE(kind.starts_with("server_")) << endpoint << " " << kind << " x" << n.as_int64();
  }
  EXPECT_GT(report["events_sent"].as_int64(), 500);

  const std::string admin = AdminToken();
  std::this_thread::sleep_for(seconds(2));  // the last parcels move on (carrier steps of 100 ms)
  std::map<std::string, std::string> orders = Orders(admin);
  std::map<std::string, int> by_status;
  for (const auto& [_, status] : orders) ++by_status[status];
  EXPECT_GE(orders.size(), 20u);
  EXPECT_GT(by_status["DELIVERED"] + by_status["SHIPPED"], 0) << orders.size();
  // Fraud screening sent some to review. Rejections and cancellations are too rare in a history
  // of ~40 orders to expect every run (one clean-clone run had none); sim_test checks them on
  // the offline history, where the counts are large.
  EXPECT_GT(by_status["REVIEW"], 0) << json::serialize(report["orders"]);
  auto reviews = Get("/v1/admin/fraud/reviews", admin);
  ASSERT_TRUE(reviews.ok());
  EXPECT_EQ(reviews->status, 200);
  EXPECT_FALSE(Parse(reviews->body)["items"].as_array().empty()) << reviews->body;

  // The ground truth names real orders and real users of this shop.
  auto truth = sim::GroundTruth::Load((dir_ / "data" / "simulator" / "truth.json").string());
  ASSERT_TRUE(truth.ok()) << truth.status().ToString();
  ASSERT_FALSE(truth->fraud_orders().empty());
  for (const auto& [order, kind] : truth->fraud_orders()) EXPECT_TRUE(orders.count(order)) << order;
  std::set<std::string> known_users;
  for (const std::string& u : truth->Users())
    if (u.starts_with("u-") == false) known_users.insert(u);
  EXPECT_GT(known_users.size(), 10u) << "shoppers mapped to the shop's user ids";

  // A second start on the same data keeps what is there.
  Down();
  Up("second");
  std::this_thread::sleep_for(seconds(3));
  EXPECT_NE(child_->Output().find("the demo history is already there"), std::string::npos)
      << child_->Output();
  EXPECT_EQ(Orders(AdminToken()).size(), orders.size());
}

}  // namespace
}  // namespace emporium::e2e
