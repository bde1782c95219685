// Products, categories, admin CRUD, validation, images and events through the module's routes.
#include <boost/json/array.hpp>
#include <set>

#include "platform/bus/bus.h"
#include "services/catalog/test_env.h"

namespace emporium::catalog {
namespace {

using boost::json::array;
using boost::json::object;
using http::Method;
using testing::As;
using testing::Env;
using testing::ParseObject;

std::string Str(const object& o, const char* k) {
  return std::string(o.at(k).as_string());
}

std::vector<std::string> Ids(const http::Response& r) {
  std::vector<std::string> out;
  object o = ParseObject(r.body);
  for (const auto& p : o["items"].as_array()) out.push_back(std::string(p.at("id").as_string()));
  return out;
}

class CatalogHttp : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.Start().ok()); }
  Env env_;
};

TEST_F(CatalogHttp, CreateGetAndTheProductShape) {
  std::string shoes = env_.Category({"Clothing & Shoes", "Shoes", "Running Shoes"});
  object created = env_.Product(shoes, "Acme Trail Runner", 5999);
  EXPECT_EQ(Str(created, "id"), "p-000001");
  auto r = env_.Get("/v1/products/p-000001");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("ETag").value_or(""), "\"1\"");
  object p = ParseObject(r.body);
  EXPECT_EQ(Str(p, "title"), "Acme Trail Runner");
  EXPECT_EQ(p["price"].at("amount").as_int64(), 5999);
  EXPECT_EQ(Str(p["price"].as_object(), "currency"), "USD");
  EXPECT_EQ(Str(p["category"].as_object(), "id"), shoes);
  EXPECT_EQ(p["category"].at("path").as_array().size(), 3u);
  EXPECT_EQ(p["category"].at("path").as_array()[2].as_string(), "Running Shoes");
  EXPECT_EQ(p["images"].as_array()[0].at("url").as_string(), "/v1/products/p-000001/image.svg");
  EXPECT_FALSE(p["availability"].at("in_stock").as_bool());
  EXPECT_EQ(p["version"].as_int64(), 1);
  EXPECT_TRUE(p.contains("rating") && p.contains("attributes") && p.contains("created_at"));

  auto missing = env_.Get("/v1/products/p-999999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.Get("Content-Type").value_or(""), "application/problem+json");
}

TEST_F(CatalogHttp, AdminRoutesNeedAnAdmin) {
  std::string c = env_.Category({"Books"});
  object body{{"title", "x"}, {"category_id", c}, {"price", object{{"amount", 1}, {"currency", "USD"}}}};
  EXPECT_EQ(env_.Post("/v1/admin/products", body, As::kAnonymous).status, 401);
  EXPECT_EQ(env_.Post("/v1/admin/products", body, As::kCustomer).status, 403);
  EXPECT_EQ(env_.Post("/v1/admin/products", body, As::kAdmin).status, 201);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/admin/products/p-000001", "", As::kCustomer).status, 403);
  EXPECT_EQ(env_.PutStock("p-000001", 1, 1).status, 200);
}

TEST_F(CatalogHttp, ValidationAnswers422WithFieldErrors) {
  std::string c = env_.Category({"Books"});
  object body{{"title", ""},
              {"category_id", "c-404"},
              {"sku", "bad sku!"},
              {"price", object{{"amount", -5}, {"currency", "usd"}}},
              {"attributes", object{{"nested", object{{"a", 1}}}}}};
  auto r = env_.Post("/v1/admin/products", body, As::kAdmin);
  ASSERT_EQ(r.status, 422) << r.body;
  std::set<std::string> fields;
  object problem = ParseObject(r.body);
  for (const auto& e : problem["errors"].as_array()) fields.insert(std::string(e.at("field").as_string()));
  for (const char* f : {"title", "sku", "price.amount", "price.currency", "attributes.nested"}) {
    EXPECT_TRUE(fields.count(f)) << f << " in " << r.body;
  }
  // Unknown category is reported once the shape is valid.
  body = object{
      {"title", "Ok"}, {"category_id", "c-404"}, {"price", object{{"amount", 5}, {"currency", "USD"}}}};
  r = env_.Post("/v1/admin/products", body, As::kAdmin);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("category_id"), std::string::npos);
  EXPECT_EQ(env_.Call(Method::kPost, "/v1/admin/products", "[1]", As::kAdmin).status, 400);
  // Duplicate SKU: 409 naming the field.
  body = object{{"title", "A"},
                {"sku", "SKU-1"},
                {"category_id", c},
                {"price", object{{"amount", 5}, {"currency", "USD"}}}};
  EXPECT_EQ(env_.Post("/v1/admin/products", body, As::kAdmin).status, 201);
  r = env_.Post("/v1/admin/products", body, As::kAdmin);
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("\"sku\""), std::string::npos);
  // Stock validation.
  r = env_.PutStock("p-000001", -1, 3);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("warehouses[0].on_hand"), std::string::npos);
  r = env_.Call(Method::kPut, "/v1/admin/inventory/p-000001",
                R"({"warehouses":[{"warehouse_id":"wh-9","on_hand":3}]})", As::kAdmin);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("warehouses[0].warehouse_id"), std::string::npos);
  EXPECT_EQ(env_.PutStock("p-424242", 1, 1).status, 404);
}

TEST_F(CatalogHttp, PatchIsVersionedAndDeleteHides) {
  std::string c = env_.Category({"Books"});
  env_.Product(c, "First title", 1000);
  auto r = env_.Call(Method::kPatch, "/v1/admin/products/p-000001", R"({"title":"Second title"})", As::kAdmin,
                     "\"1\"");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseObject(r.body)["version"].as_int64(), 2);
  r = env_.Call(Method::kPatch, "/v1/admin/products/p-000001", R"({"title":"Stale"})", As::kAdmin, "\"1\"");
  EXPECT_EQ(r.status, 412) << r.body;
  r = env_.Call(Method::kPatch, "/v1/admin/products/p-000001",
                R"({"price":{"amount":1500,"currency":"EUR"},"attributes":{"pages":320}})", As::kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  object p = ParseObject(r.body);
  EXPECT_EQ(Str(p, "title"), "Second title");
  EXPECT_EQ(p["price"].at("amount").as_int64(), 1500);
  EXPECT_EQ(p["attributes"].at("pages").as_int64(), 320);
  EXPECT_EQ(env_.Call(Method::kPatch, "/v1/admin/products/p-000001", R"({"title":""})", As::kAdmin).status,
            422);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/admin/products/p-000001", "", As::kAdmin).status, 204);
  EXPECT_EQ(env_.Get("/v1/products/p-000001").status, 404);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/admin/products/p-000001", "", As::kAdmin).status, 404);
  EXPECT_TRUE(Ids(env_.Get("/v1/products")).empty());
}

TEST_F(CatalogHttp, ListFiltersSortsAndPages) {
  std::string shoes = env_.Category({"Clothing", "Shoes"});
  std::string boots = env_.Category({"Clothing", "Shoes", "Boots"});
  std::string shirts = env_.Category({"Clothing", "Shirts"});
  std::string clothing = env_.Category({"Clothing"});
  env_.Product(shoes, "Runner", 5000, "Acme");      // p1
  env_.Product(boots, "Boot", 9000, "Bolt");        // p2
  env_.Product(shirts, "Shirt", 2000, "Acme");      // p3
  env_.Product(boots, "Boot Two", 9000, "Acme");    // p4
  env_.Product(shirts, "Shirt Two", 1000, "Bolt");  // p5

  EXPECT_EQ(Ids(env_.Get("/v1/products?category=" + shoes)),
            (std::vector<std::string>{"p-000001", "p-000002", "p-000004"}));
  EXPECT_EQ(Ids(env_.Get("/v1/products?category=" + clothing)).size(), 5u);
  EXPECT_EQ(Ids(env_.Get("/v1/products?brand=Bolt")), (std::vector<std::string>{"p-000002", "p-000005"}));
  EXPECT_EQ(Ids(env_.Get("/v1/products?min_price=2000&max_price=5000")),
            (std::vector<std::string>{"p-000001", "p-000003"}));
  EXPECT_EQ(Ids(env_.Get("/v1/products?ids=p-000005,p-000002,p-000404")),
            (std::vector<std::string>{"p-000002", "p-000005"}));
  EXPECT_EQ(Ids(env_.Get("/v1/products?sort=price_desc")),
            (std::vector<std::string>{"p-000002", "p-000004", "p-000001", "p-000003", "p-000005"}));

  // Keyset pages of 2 over price_asc visit every product once, in order.
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 5; ++page) {
    auto r =
        env_.Get("/v1/products?sort=price_asc&page_size=2" + (token.empty() ? "" : "&page_token=" + token));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& id : Ids(r)) seen.push_back(id);
    object o = ParseObject(r.body);
    if (o["next_page_token"].is_null()) break;
    token = Str(o, "next_page_token");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"p-000005", "p-000003", "p-000001", "p-000002", "p-000004"}));

  EXPECT_EQ(env_.Get("/v1/products?sort=cheapest").status, 422);
  EXPECT_EQ(env_.Get("/v1/products?page_size=0").status, 422);
  EXPECT_EQ(env_.Get("/v1/products?min_price=abc").status, 422);
  EXPECT_EQ(env_.Get("/v1/products?page_token=garbage").status, 422);
  EXPECT_EQ(env_.Get("/v1/products?category=c-999").status, 422);
  std::string many = "p-1";
  for (int i = 2; i <= 101; ++i) many += ",p-" + std::to_string(i);
  EXPECT_EQ(env_.Get("/v1/products?ids=" + many).status, 422);

  auto tree = ParseObject(env_.Get("/v1/categories").body);
  const array& roots = tree["items"].as_array();
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0].at("name").as_string(), "Clothing");
  EXPECT_EQ(roots[0].at("product_count").as_int64(), 5);
  EXPECT_EQ(roots[0].at("children").as_array().size(), 2u);
}

TEST_F(CatalogHttp, PlaceholderImageIsDeterministicAndEscaped) {
  std::string c = env_.Category({"Toys"});
  env_.Product(c, "<script>alert(1)</script> & \"Robot\"", 1999, "Bolt & Co");
  auto a = env_.Get("/v1/products/p-000001/image.svg");
  auto b = env_.Get("/v1/products/p-000001/image.svg");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.headers.Get("Content-Type").value_or(""), "image/svg+xml");
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.body.find("<script"), std::string::npos);
  EXPECT_NE(a.body.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(a.body.find("Bolt &amp; Co"), std::string::npos);
  EXPECT_NE(a.body.find("hsl("), std::string::npos);
  EXPECT_EQ(env_.Get("/v1/products/p-000404/image.svg").status, 404);
}

TEST_F(CatalogHttp, ProductEventsGoThroughTheOutbox) {
  std::string c = env_.Category({"Books"});
  env_.Product(c, "Evented", 700);
  ASSERT_EQ(env_.Call(Method::kPatch, "/v1/admin/products/p-000001", R"({"brand":"New"})", As::kAdmin).status,
            200);
  ASSERT_EQ(env_.PutStock("p-000001", 3, 4).status, 200);
  ASSERT_EQ(env_.Call(Method::kDelete, "/v1/admin/products/p-000001", "", As::kAdmin).status, 204);
  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto consumer = (*bus)->Subscribe("test", {std::string(kProductTopic), std::string(kInventoryTopic)});
  ASSERT_TRUE(consumer.ok());
  std::vector<std::string> types;
  for (int i = 0; i < 50 && types.size() < 4; ++i) {
    auto recs = (*consumer)->Poll(Millis(100));
    ASSERT_TRUE(recs.ok());
    for (const auto& r : *recs) types.push_back(r.event.type);
  }
  std::multiset<std::string> got(types.begin(), types.end());
  EXPECT_EQ(got, (std::multiset<std::string>{"catalog.product.created", "catalog.product.updated",
                                             "inventory.changed", "catalog.product.deleted"}));
}

}  // namespace
}  // namespace emporium::catalog
