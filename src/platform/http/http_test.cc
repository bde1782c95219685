#include "platform/http/http.h"

#include <gtest/gtest.h>

namespace emporium::http {
namespace {

TEST(NewRequest, SplitsTheTargetAndTypesOnlyABody) {
  Request get = NewRequest(Method::kGet, "/v1/products?page_size=5&brand=Acme%20Co");
  EXPECT_EQ(get.method, Method::kGet);
  EXPECT_EQ(get.target, "/v1/products?page_size=5&brand=Acme%20Co");
  EXPECT_EQ(get.path, "/v1/products");
  EXPECT_EQ(get.query, "page_size=5&brand=Acme%20Co");
  EXPECT_EQ(get.QueryParam("brand").value_or(""), "Acme Co");
  EXPECT_TRUE(get.body.empty());
  EXPECT_FALSE(get.headers.Get("Content-Type").has_value());

  Request json = NewRequest(Method::kPost, "/v1/orders", R"({"a":1})");
  EXPECT_EQ(json.path, "/v1/orders");
  EXPECT_EQ(json.query, "");
  EXPECT_EQ(json.body, R"({"a":1})");
  EXPECT_EQ(json.headers.Get("Content-Type").value_or(""), "application/json");

  Request form = NewRequest(Method::kPost, "/oauth2/token", "a=1", "application/x-www-form-urlencoded");
  EXPECT_EQ(form.headers.Get("Content-Type").value_or(""), "application/x-www-form-urlencoded");
}

}  // namespace
}  // namespace emporium::http
