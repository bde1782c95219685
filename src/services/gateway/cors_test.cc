#include "services/gateway/cors.h"

#include <gtest/gtest.h>

namespace emporium::gateway {
namespace {

const CorsPolicy kPolicy({"http://localhost:5173", "https://Shop.Example/"});

http::Request WithOrigin(std::string origin) {
  http::Request req;
  req.method = http::Method::kOptions;
  req.path = "/v1/cart";
  if (!origin.empty()) req.headers.Set("Origin", std::move(origin));
  req.headers.Set("Access-Control-Request-Method", "POST");
  return req;
}

TEST(CorsPolicy, MatchesExactOriginsOnly) {
  EXPECT_TRUE(kPolicy.Allowed("http://localhost:5173"));
  EXPECT_TRUE(kPolicy.Allowed("https://shop.example")) << "scheme and host are case-insensitive";
  EXPECT_FALSE(kPolicy.Allowed("http://localhost:5174"));
  EXPECT_FALSE(kPolicy.Allowed("https://shop.example.evil.test"));
  EXPECT_FALSE(kPolicy.Allowed("http://shop.example")) << "the scheme is part of the origin";
  EXPECT_FALSE(kPolicy.Allowed(""));
  EXPECT_FALSE(kPolicy.Allowed("null"));

  const CorsPolicy any({"*"});
  EXPECT_TRUE(any.Allowed("https://anything.test"));
  EXPECT_FALSE(any.Allowed("null")) << "sandboxed documents are never trusted";
}

TEST(CorsMiddleware, EchoesAnAllowedOriginAndExposesHeaders) {
  CorsMiddleware mw(kPolicy);
  const http::Route route{http::Method::kGet, "/v1/info", nullptr, {}};
  http::Request req = WithOrigin("http://localhost:5173");
  http::Response resp = http::Response::Json(200, "{}");
  EXPECT_FALSE(mw.Before(req, route).has_value());
  mw.After(req, route, resp);
  EXPECT_EQ(resp.headers.Get("Access-Control-Allow-Origin").value_or(""), "http://localhost:5173");
  EXPECT_EQ(resp.headers.Get("Vary").value_or(""), "Origin");
  const std::string expose(resp.headers.Get("Access-Control-Expose-Headers").value_or(""));
  EXPECT_NE(expose.find("X-Request-Id"), std::string::npos);
  EXPECT_NE(expose.find("Retry-After"), std::string::npos);
}

TEST(CorsMiddleware, DeniedOriginGetsNoAllowHeaderButVary) {
  CorsMiddleware mw(kPolicy);
  const http::Route route{http::Method::kGet, "/v1/info", nullptr, {}};
  http::Request req = WithOrigin("https://evil.test");
  http::Response resp = http::Response::Json(200, "{}");
  resp.headers.Set("Vary", "Accept-Encoding");
  mw.After(req, route, resp);
  EXPECT_FALSE(resp.headers.Get("Access-Control-Allow-Origin").has_value());
  EXPECT_EQ(resp.headers.Get("Vary").value_or(""), "Accept-Encoding, Origin");

  http::Request same_origin = WithOrigin("");
  http::Response plain = http::Response::Json(200, "{}");
  mw.After(same_origin, route, plain);
  EXPECT_FALSE(plain.headers.Get("Vary").has_value()) << "no Origin, nothing to vary on";
}

TEST(Preflight, AllowedOriginGets204WithTheRouteMethods) {
  http::Handler h = PreflightHandler(kPolicy, "GET, HEAD, POST, OPTIONS");
  http::Request req = WithOrigin("http://localhost:5173");
  http::Response resp = h(req);
  EXPECT_EQ(resp.status, 204);
  EXPECT_TRUE(resp.body.empty());
  EXPECT_EQ(resp.headers.Get("Access-Control-Allow-Origin").value_or(""), "http://localhost:5173");
  EXPECT_EQ(resp.headers.Get("Access-Control-Allow-Methods").value_or(""), "GET, HEAD, POST, OPTIONS");
  const std::string allow_headers(resp.headers.Get("Access-Control-Allow-Headers").value_or(""));
  EXPECT_NE(allow_headers.find("Authorization"), std::string::npos);
  EXPECT_NE(allow_headers.find("Content-Type"), std::string::npos);
  EXPECT_EQ(resp.headers.Get("Access-Control-Max-Age").value_or(""), "600");
}

TEST(Preflight, OtherOriginGets403Problem) {
  http::Handler h = PreflightHandler(kPolicy, "GET, OPTIONS");
  http::Request req = WithOrigin("https://evil.test");
  http::Response resp = h(req);
  EXPECT_EQ(resp.status, 403);
  EXPECT_EQ(resp.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_FALSE(resp.headers.Get("Access-Control-Allow-Origin").has_value());
}

TEST(Preflight, PlainOptionsListsAllow) {
  http::Handler h = PreflightHandler(kPolicy, "GET, OPTIONS");
  http::Request req = WithOrigin("");
  http::Response resp = h(req);
  EXPECT_EQ(resp.status, 204);
  EXPECT_EQ(resp.headers.Get("Allow").value_or(""), "GET, OPTIONS");
}

}  // namespace
}  // namespace emporium::gateway
