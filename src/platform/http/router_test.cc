#include "platform/http/router.h"

#include <gtest/gtest.h>

namespace emporium::http {
namespace {

Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string Call(const Router& r, Method m, std::string_view path) {
  Match match = r.Find(m, path);
  if (!match.route) return match.allow.empty() ? "404" : "405:" + match.allow;
  Request req;
  return match.route->handler(req).body;
}

TEST(Router, LiteralAndParameterRoutes) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/products", Named("list")).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/products/{id}", Named("one")).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/products/{id}/similar", Named("similar")).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/products/search", Named("literal")).ok());
  EXPECT_EQ(Call(r, Method::kGet, "/v1/products"), "list");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/products/42"), "one");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/products/42/similar"), "similar");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/products/search"), "literal");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/products/search/similar"), "similar");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/products/42/other"), "404");
  EXPECT_EQ(Call(r, Method::kGet, "/nope"), "404");
}

TEST(Router, CapturesParameters) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kDelete, "/v1/me/addresses/{address_id}", Named("x")).ok());
  Match m = r.Find(Method::kDelete, "/v1/me/addresses/a-1");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "address_id");
  EXPECT_EQ(m.params[0].second, "a-1");
}

TEST(Router, MethodNotAllowedListsAllow) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/cart", Named("get")).ok());
  ASSERT_TRUE(r.Add(Method::kPost, "/v1/cart", Named("post")).ok());
  EXPECT_EQ(Call(r, Method::kDelete, "/v1/cart"), "405:GET, HEAD, POST");
  EXPECT_EQ(Call(r, Method::kHead, "/v1/cart"), "get");
}

TEST(Router, RejectsDuplicatesAndBadPatterns) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/a/{id}", Named("a")).ok());
  EXPECT_EQ(r.Add(Method::kGet, "/a/{id}", Named("b")).code(), Code::kAlreadyExists);
  EXPECT_EQ(r.Add(Method::kGet, "/a/{other}/x", Named("c")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add(Method::kGet, "no-slash", Named("d")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add(Method::kGet, "/x{y}", Named("e")).code(), Code::kInvalidArgument);
}

TEST(Router, TrailingAndDoubleSlashesMatchTheSameRoute) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/info", Named("info")).ok());
  EXPECT_EQ(Call(r, Method::kGet, "/v1/info/"), "info");
  EXPECT_EQ(Call(r, Method::kGet, "//v1//info"), "info");
}

TEST(Router, TailWildcardMatchesTheRestAndLosesToLiteralsAndParameters) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/users/{*rest}", Named("tail")).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/users/me", Named("literal")).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/users/{id}/addresses", Named("param")).ok());
  EXPECT_EQ(Call(r, Method::kGet, "/v1/users/me"), "literal");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/users/42/addresses"), "param");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/users/42"), "tail");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/users/42/orders/7"), "tail");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/users"), "404") << "the wildcard needs at least one segment";
  EXPECT_EQ(Call(r, Method::kPost, "/v1/users/42/x"), "405:GET, HEAD");

  Match m = r.Find(Method::kGet, "/v1/users/42//orders/7/");
  ASSERT_NE(m.route, nullptr);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "rest");
  EXPECT_EQ(m.params[0].second, "42/orders/7");
}

TEST(Router, TailWildcardCatchesADeadEndUnderALiteral) {
  Router r;
  ASSERT_TRUE(r.Add(Method::kGet, "/{*path}", Named("any")).ok());
  ASSERT_TRUE(r.Add(Method::kGet, "/v1/info", Named("info")).ok());
  EXPECT_EQ(Call(r, Method::kGet, "/v1/info"), "info");
  EXPECT_EQ(Call(r, Method::kGet, "/v1/info/more"), "any");
  EXPECT_EQ(Call(r, Method::kGet, "/v1"), "any");
  EXPECT_EQ(Call(r, Method::kGet, "/"), "404");
}

TEST(Router, TailWildcardMustBeLastAndNamed) {
  Router r;
  EXPECT_EQ(r.Add(Method::kGet, "/a/{*rest}/b", Named("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add(Method::kGet, "/a/{*}", Named("x")).code(), Code::kInvalidArgument);
  ASSERT_TRUE(r.Add(Method::kGet, "/a/{*rest}", Named("x")).ok());
  EXPECT_EQ(r.Add(Method::kPost, "/a/{*other}", Named("y")).code(), Code::kInvalidArgument);
  EXPECT_EQ(r.Add(Method::kGet, "/a/{*rest}", Named("z")).code(), Code::kAlreadyExists);
}

class Recorder final : public Middleware {
 public:
  Recorder(std::string name, std::string* log) : name_(std::move(name)), log_(log) {}
  std::optional<Response> Before(Request&, const Route&) override {
    *log_ += name_;
    return std::nullopt;
  }

 private:
  std::string name_;
  std::string* log_;
};

TEST(Router, MiddlewaresRunInOrderThenInsertion) {
  Router r;
  std::string log;
  ASSERT_TRUE(r.Add(Method::kGet, "/x", Named("x")).ok());
  r.Use(std::make_unique<Recorder>("a", &log));
  r.Use(std::make_unique<Recorder>("b", &log), -10);
  r.Use(std::make_unique<Recorder>("c", &log), 10);
  r.Use(std::make_unique<Recorder>("d", &log));
  Match m = r.Find(Method::kGet, "/x");
  ASSERT_NE(m.route, nullptr);
  Request req;
  EXPECT_EQ(r.Invoke(*m.route, req).body, "x");
  EXPECT_EQ(log, "badc");
}

}  // namespace
}  // namespace emporium::http
