// Stock, reservations (all-or-nothing, split across warehouses, idempotent commit/release),
// the expiry sweeper, and the no-oversell concurrency run on SQLite.
#include <chrono>
#include <thread>

#include "services/catalog/inventory_suite.h"

namespace emporium::catalog {
namespace {

using boost::json::array;
using boost::json::object;
using testing::As;
using testing::Env;
using testing::ParseObject;

object Items(std::initializer_list<std::pair<const char*, int>> items, const std::string& order = "o-1",
             int ttl = 900) {
  array a;
  for (const auto& [p, q] : items) a.emplace_back(object{{"product_id", p}, {"quantity", q}});
  return object{{"order_id", order}, {"items", a}, {"ttl_seconds", ttl}};
}

int64_t Available(Env& env, const std::string& id) {
  return ParseObject(env.Get("/v1/products/" + id).body)["availability"].at("available").as_int64();
}

class Reservations : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.Start().ok());
    std::string c = env_.Category({"Stock"});
    env_.Product(c, "A", 100);  // p-000001
    env_.Product(c, "B", 100);  // p-000002
    ASSERT_EQ(env_.PutStock("p-000001", 2, 3).status, 200);
    ASSERT_EQ(env_.PutStock("p-000002", 1, 0).status, 200);
  }
  Env env_{{"--catalog-reservation-sweep=20ms"}};
};

TEST_F(Reservations, ReserveSpreadsOverWarehousesAndIsAllOrNothing) {
  EXPECT_EQ(Available(env_, "p-000001"), 5);
  auto r = env_.Post("/v1/internal/reservations", Items({{"p-000001", 4}, {"p-000002", 1}}), As::kService);
  ASSERT_EQ(r.status, 201) << r.body;
  object res = ParseObject(r.body);
  EXPECT_EQ(res["state"].as_string(), "held");
  EXPECT_EQ(Available(env_, "p-000001"), 1);
  EXPECT_EQ(Available(env_, "p-000002"), 0);
  auto stock = ParseObject(env_.Get("/v1/admin/inventory/p-000001", As::kAdmin).body);
  // The warehouse with the most available goes first: wh-2 gives 3 of 3, wh-1 the last 1 of 2.
  EXPECT_EQ(stock["warehouses"].as_array()[0].at("reserved").as_int64(), 1);
  EXPECT_EQ(stock["warehouses"].as_array()[1].at("reserved").as_int64(), 3);

  // Short on the second item: nothing at all is reserved.
  auto short_r =
      env_.Post("/v1/internal/reservations", Items({{"p-000001", 1}, {"p-000002", 1}}, "o-2"), As::kService);
  ASSERT_EQ(short_r.status, 409) << short_r.body;
  auto errors = ParseObject(short_r.body)["errors"].as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("field").as_string(), "items[1].quantity");
  EXPECT_EQ(errors[0].at("message").as_string(), "only 0 available");
  EXPECT_EQ(Available(env_, "p-000001"), 1);

  // The same order again returns its reservation instead of reserving twice.
  auto again =
      env_.Post("/v1/internal/reservations", Items({{"p-000001", 4}, {"p-000002", 1}}), As::kService);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(ParseObject(again.body)["id"], res["id"]);

  EXPECT_EQ(env_.Post("/v1/internal/reservations", Items({{"p-000404", 1}}, "o-3"), As::kService).status,
            422);
  EXPECT_EQ(env_.Post("/v1/internal/reservations", Items({{"p-000001", 0}}, "o-4"), As::kService).status,
            422);
  EXPECT_EQ(env_.Post("/v1/internal/reservations", Items({{"p-000001", 1}}, "o-5"), As::kCustomer).status,
            403);
  // Stock cannot be set below what is reserved.
  auto below = env_.PutStock("p-000001", 0, 3);
  EXPECT_EQ(below.status, 409);
  EXPECT_NE(below.body.find("warehouses[0].on_hand"), std::string::npos) << below.body;
}

TEST_F(Reservations, CommitAndReleaseAreIdempotent) {
  auto r = env_.Post("/v1/internal/reservations", Items({{"p-000001", 3}}), As::kService);
  ASSERT_EQ(r.status, 201);
  std::string id(ParseObject(r.body)["id"].as_string());
  for (int i = 0; i < 2; ++i) {
    auto c = env_.Post("/v1/internal/reservations/" + id + "/commit", object{}, As::kService);
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(ParseObject(c.body)["state"].as_string(), "committed");
  }
  auto stock = ParseObject(env_.Get("/v1/admin/inventory/p-000001", As::kAdmin).body);
  EXPECT_EQ(stock["available"].as_int64(), 2);
  int64_t on_hand = 0;
  for (const auto& w : stock["warehouses"].as_array()) on_hand += w.at("on_hand").as_int64();
  EXPECT_EQ(on_hand, 2);
  EXPECT_EQ(env_.Post("/v1/internal/reservations/" + id + "/release", object{}, As::kService).status, 409);

  auto r2 = env_.Post("/v1/internal/reservations", Items({{"p-000001", 2}}, "o-2"), As::kService);
  ASSERT_EQ(r2.status, 201) << r2.body;
  std::string id2(ParseObject(r2.body)["id"].as_string());
  EXPECT_EQ(Available(env_, "p-000001"), 0);
  for (int i = 0; i < 2; ++i) {
    auto rel = env_.Post("/v1/internal/reservations/" + id2 + "/release", object{}, As::kService);
    ASSERT_EQ(rel.status, 200);
    EXPECT_EQ(ParseObject(rel.body)["state"].as_string(), "released");
  }
  EXPECT_EQ(Available(env_, "p-000001"), 2);
  EXPECT_EQ(env_.Post("/v1/internal/reservations/" + id2 + "/commit", object{}, As::kService).status, 409);
  EXPECT_EQ(env_.Post("/v1/internal/reservations/nope/commit", object{}, As::kService).status, 404);
}

TEST_F(Reservations, TheSweeperReleasesExpiredReservations) {
  auto r = env_.Post("/v1/internal/reservations", Items({{"p-000001", 5}}, "o-1", 60), As::kService);
  ASSERT_EQ(r.status, 201);
  std::string id(ParseObject(r.body)["id"].as_string());
  EXPECT_EQ(Available(env_, "p-000001"), 0);
  env_.clock().Advance(std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Available(env_, "p-000001"), 0) << "not expired yet";
  env_.clock().Advance(std::chrono::seconds(31));
  std::string state;
  for (int i = 0; i < 200 && state != "expired"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    state = std::string(
        ParseObject(env_.Get("/v1/internal/reservations/" + id, As::kService).body)["state"].as_string());
  }
  EXPECT_EQ(state, "expired");
  EXPECT_EQ(Available(env_, "p-000001"), 5);
  EXPECT_EQ(env_.Post("/v1/internal/reservations/" + id + "/commit", object{}, As::kService).status, 409);
  EXPECT_EQ(env_.Post("/v1/internal/reservations/" + id + "/release", object{}, As::kService).status, 200);
}

TEST(ReservationConcurrency, SixteenThreadsNeverOversellOnSqlite) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  testing::RunConcurrentReservations(env, 40);
}

}  // namespace
}  // namespace emporium::catalog
