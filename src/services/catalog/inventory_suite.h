// Reservation tests shared by the SQLite (catalog_test) and PostgreSQL (catalog_postgres_test)
// binaries: the concurrency run that must never oversell and must keep the books balanced.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "platform/core/random.h"
#include "platform/sql/sql.h"
#include "services/catalog/test_env.h"

namespace emporium::catalog::testing {

// 16 threads reserve 1–3 units of one or two products (stock 50 each, spread over two
// warehouses) and then commit, release or keep each reservation.
inline void RunConcurrentReservations(Env& env, int per_thread) {
  std::string c = env.Category({"Concurrency " + NewUuid().substr(0, 8)});
  std::string a = std::string(env.Product(c, "Scarce A", 100)["id"].as_string());
  std::string b = std::string(env.Product(c, "Scarce B", 100)["id"].as_string());
  ASSERT_EQ(env.PutStock(a, 30, 20).status, 200);
  ASSERT_EQ(env.PutStock(b, 10, 40).status, 200);
  const std::map<std::string, int64_t> initial{{a, 50}, {b, 50}};
  const std::string run = NewUuid().substr(0, 8);

  std::atomic<int> ok{0}, conflicts{0}, unavailable{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t * 7919 + 1));
      for (int i = 0; i < per_thread; ++i) {
        boost::json::array items;
        int pick = static_cast<int>(rng() % 3);
        if (pick != 1)
          items.emplace_back(
              boost::json::object{{"product_id", a}, {"quantity", 1 + static_cast<int>(rng() % 3)}});
        if (pick != 0)
          items.emplace_back(
              boost::json::object{{"product_id", b}, {"quantity", 1 + static_cast<int>(rng() % 3)}});
        boost::json::object body{{"order_id", run + "-" + std::to_string(t) + "-" + std::to_string(i)},
                                 {"items", items}};
        auto r = env.Post("/v1/internal/reservations", body, As::kService);
        if (r.status == 409) {
          ++conflicts;
          continue;
        }
        if (r.status == 503) {
          ++unavailable;
          continue;
        }
        if (r.status != 201) {
          ++other;
          ADD_FAILURE() << r.status << " " << r.body;
          continue;
        }
        ++ok;
        std::string id(ParseObject(r.body)["id"].as_string());
        int fate = static_cast<int>(rng() % 10);
        if (fate < 4) {
          auto c1 =
              env.Post("/v1/internal/reservations/" + id + "/commit", boost::json::object{}, As::kService);
          EXPECT_TRUE(c1.status == 200 || c1.status == 503) << c1.body;
        } else if (fate < 7) {
          auto r1 =
              env.Post("/v1/internal/reservations/" + id + "/release", boost::json::object{}, As::kService);
          EXPECT_TRUE(r1.status == 200 || r1.status == 503) << r1.body;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(conflicts.load(), 0) << "the run should exhaust the stock";
  EXPECT_EQ(other.load(), 0);

  auto db = env.rt().Database("catalog");
  ASSERT_TRUE(db.ok());
  for (const auto& [product, start] : initial) {
    auto stock = (*db)->Query(
        "SELECT COALESCE(SUM(on_hand), 0), COALESCE(SUM(reserved), 0), MIN(on_hand - reserved), "
        "MIN(reserved) FROM inventory WHERE product_id = $1",
        {product});
    ASSERT_TRUE(stock.ok()) << stock.status().ToString();
    int64_t on_hand = stock->rows[0].Int(0), reserved = stock->rows[0].Int(1);
    EXPECT_GE(stock->rows[0].Int(2), 0) << "a warehouse row holds more reserved than on hand";
    EXPECT_GE(stock->rows[0].Int(3), 0);
    auto by_state = (*db)->Query(
        "SELECT r.state, COALESCE(SUM(i.quantity), 0) FROM reservation_items i "
        "JOIN reservations r ON r.id = i.reservation_id WHERE i.product_id = $1 "
        "GROUP BY r.state",
        {product});
    ASSERT_TRUE(by_state.ok()) << by_state.status().ToString();
    std::map<std::string, int64_t> units;
    for (const auto& row : by_state->rows) units[row.Text(0)] = row.Int(1);
    EXPECT_EQ(start, on_hand + units["committed"]) << product << ": on_hand_initial = on_hand + committed";
    EXPECT_EQ(reserved, units["held"]) << product << ": reserved = sum of held reservations";
    EXPECT_LE(units["committed"] + units["held"], start) << product << ": oversold";
    auto available = env.Get("/v1/products/" + product);
    EXPECT_EQ(ParseObject(available.body)["availability"].at("available").as_int64(), on_hand - reserved);
  }
}

}  // namespace emporium::catalog::testing
