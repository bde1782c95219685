// The demo catalog: deterministic per seed, 20+ categories in a 2–3 level tree, attributes per
// category, prices in range, stock with some items out of stock, seeded once.
#include <boost/json/array.hpp>
#include <set>

#include "platform/core/random.h"
#include "services/catalog/seed.h"
#include "services/catalog/seed_words.h"
#include "services/catalog/test_env.h"

namespace emporium::catalog {
namespace {

using testing::Env;
using testing::ParseObject;

TEST(DemoGenerator, SameSeedSameCatalogOtherSeedOther) {
  DemoGenerator a(42, 1'700'000'000'000), b(42, 1'700'000'000'000), c(7, 1'700'000'000'000);
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    size_t la = 0, lb = 0, lc = 0;
    NewProduct pa = a.Next(&la), pb = b.Next(&lb), pc = c.Next(&lc);
    EXPECT_EQ(pa.title, pb.title);
    EXPECT_EQ(pa.description, pb.description);
    EXPECT_EQ(pa.attributes_json, pb.attributes_json);
    EXPECT_EQ(pa.price.amount, pb.price.amount);
    differ += pa.title != pc.title;
    const seed::Leaf& leaf = seed::Leaves()[la];
    EXPECT_GE(pa.price.amount, 99);
    EXPECT_LE(pa.price.amount, leaf.max_price + 99) << pa.title;
    EXPECT_NE(pa.title.find(pa.brand), std::string::npos);
    EXPECT_GE(pa.rating_average, 0);
    EXPECT_LE(pa.rating_average, 5);
    FieldErrors errors;
    pa.category_id = "c-1";
    ValidateNewProduct(pa, errors);
    EXPECT_TRUE(errors.empty()) << pa.title;
    if (leaf.kind == seed::Kind::kApparel) {
      EXPECT_NE(pa.attributes_json.find("\"size\""), std::string::npos);
    }
    if (leaf.kind == seed::Kind::kAppliance) {
      EXPECT_NE(pa.attributes_json.find("\"wattage_w\""), std::string::npos);
    }
    if (leaf.kind == seed::Kind::kFood) {
      EXPECT_NE(pa.attributes_json.find("\"weight_g\""), std::string::npos);
    }
  }
  EXPECT_GT(differ, 150);
  std::set<std::string> roots;
  for (const auto& leaf : seed::Leaves()) {
    roots.insert(std::string(leaf.path[0]));
    EXPECT_GE(leaf.path.size(), 2u);
    EXPECT_LE(leaf.path.size(), 3u);
  }
  EXPECT_GE(seed::Leaves().size(), 20u);
  EXPECT_GE(roots.size(), 6u);
}

TEST(DemoCatalog, SeedsOnceOnAnEmptyCatalog) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("catalog-seed-" + NewUuid());
  {
    Env env({"--catalog-seed-demo=true", "--catalog-demo-size=1500"}, dir);
    ASSERT_TRUE(env.Start().ok());
    int64_t total = 0, out_of_stock = 0;
    std::string token;
    std::set<std::string> categories;
    for (int page = 0; page < 20; ++page) {
      auto r = env.Get("/v1/products?page_size=100" + (token.empty() ? "" : "&page_token=" + token));
      ASSERT_EQ(r.status, 200);
      auto o = ParseObject(r.body);
      for (const auto& p : o["items"].as_array()) {
        ++total;
        out_of_stock += !p.at("availability").at("in_stock").as_bool();
        categories.insert(std::string(p.at("category").at("id").as_string()));
      }
      if (o["next_page_token"].is_null()) break;
      token = std::string(o["next_page_token"].as_string());
    }
    EXPECT_EQ(total, 1500);
    EXPECT_GE(categories.size(), 20u);
    EXPECT_GT(out_of_stock, 0);
    EXPECT_LT(out_of_stock, 600);
    auto tree = ParseObject(env.Get("/v1/categories").body);
    int64_t sum = 0;
    for (const auto& root : tree["items"].as_array()) sum += root.at("product_count").as_int64();
    EXPECT_EQ(sum, 1500);
    auto first = ParseObject(env.Get("/v1/products/p-000001").body);
    EXPECT_FALSE(first["description"].as_string().empty());
  }
  // A restart over the same data does not seed again.
  Env again({"--catalog-seed-demo=true", "--catalog-demo-size=1500"}, dir);
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(again.Get("/v1/products/p-001501").status, 404);
  EXPECT_EQ(again.Get("/v1/products/p-001500").status, 200);
}

}  // namespace
}  // namespace emporium::catalog
