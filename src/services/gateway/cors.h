// CORS (https://fetch.spec.whatwg.org/#http-cors-protocol) for the web UI and other browser
// clients: which origins may call the API, the headers added to every routed answer, and the
// preflight (OPTIONS) answer.
//
// Tokens travel in the Authorization header, never in cookies, so credentials mode is not
// enabled. Thread-safety: CorsPolicy is immutable; the middleware and handlers are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/http/router.h"

namespace emporium::gateway {

class CorsPolicy {
 public:
  // Exact origins ("https://shop.example", compared case-insensitively, trailing '/' ignored);
  // "*" allows any origin (the origin is still echoed rather than sending '*').
  explicit CorsPolicy(std::vector<std::string> origins);
  bool Allowed(std::string_view origin) const;

  // Request headers a browser may send cross-origin.
  static constexpr std::string_view kAllowHeaders =
      "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id, traceparent";
  // Response headers a browser script may read.
  static constexpr std::string_view kExposeHeaders = "X-Request-Id, Retry-After";
  static constexpr int kMaxAgeSeconds = 600;

 private:
  std::vector<std::string> origins_;  // normalised
  bool any_ = false;
};

// Adds Access-Control-Allow-Origin (the request's Origin when allowed) and
// Access-Control-Expose-Headers to every routed answer, and Vary: Origin to every answer of a
// request that carried an Origin (caches must not mix answers for different origins). Runs
// before the auth middleware so its 401s carry the headers too.
class CorsMiddleware final : public http::Middleware {
 public:
  explicit CorsMiddleware(CorsPolicy policy);
  std::optional<http::Response> Before(http::Request& req, const http::Route& route) override;
  void After(const http::Request& req, const http::Route& route, http::Response& resp) override;

 private:
  const CorsPolicy policy_;
};

// The OPTIONS handler for a path whose routes accept `methods` ("GET, POST"): a preflight from
// an allowed origin gets 204 with Allow-Methods/Headers/Max-Age; from another origin, 403
// problem+json; a plain OPTIONS (no Origin) gets 204 with Allow.
http::Handler PreflightHandler(CorsPolicy policy, std::string methods);

}  // namespace emporium::gateway
