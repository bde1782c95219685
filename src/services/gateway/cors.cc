#include "services/gateway/cors.h"

#include <algorithm>
#include <cctype>

#include "platform/http/problem.h"

namespace emporium::gateway {
namespace {

std::string Normalise(std::string_view origin) {
  while (!origin.empty() && (origin.back() == '/' || origin.back() == ' ')) origin.remove_suffix(1);
  while (!origin.empty() && origin.front() == ' ') origin.remove_prefix(1);
  std::string out(origin);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

void AddVaryOrigin(http::Response& resp) {
  auto vary = resp.headers.Get("Vary");
  if (!vary) {
    resp.headers.Set("Vary", "Origin");
  } else if (Normalise(*vary).find("origin") == std::string::npos) {
    resp.headers.Set("Vary", std::string(*vary) + ", Origin");
  }
}

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> origins) {
  for (const auto& o : origins) {
    std::string n = Normalise(o);
    if (n == "*") {
      any_ = true;
    } else if (!n.empty()) {
      origins_.push_back(std::move(n));
    }
  }
}

bool CorsPolicy::Allowed(std::string_view origin) const {
  // "null" is what sandboxed frames and file:// pages send: never trust it, even with "*".
  std::string n = Normalise(origin);
  if (n.empty() || n == "null") return false;
  return any_ || std::find(origins_.begin(), origins_.end(), n) != origins_.end();
}

CorsMiddleware::CorsMiddleware(CorsPolicy policy) : policy_(std::move(policy)) {}

std::optional<http::Response> CorsMiddleware::Before(http::Request&, const http::Route&) {
  return std::nullopt;
}

void CorsMiddleware::After(const http::Request& req, const http::Route&, http::Response& resp) {
  auto origin = req.headers.Get("Origin");
  if (!origin) return;
  AddVaryOrigin(resp);
  if (!policy_.Allowed(*origin)) return;
  resp.headers.Set("Access-Control-Allow-Origin", std::string(*origin));
  resp.headers.Set("Access-Control-Expose-Headers", std::string(CorsPolicy::kExposeHeaders));
}

http::Handler PreflightHandler(CorsPolicy policy, std::string methods) {
  return [policy = std::move(policy), methods = std::move(methods)](http::Request& req) {
    auto origin = req.headers.Get("Origin");
    if (!origin) {
      http::Response resp;
      resp.status = 204;
      resp.headers.Set("Allow", methods);
      return resp;
    }
    if (!policy.Allowed(*origin)) {
      return http::Problem(403, "Origin " + std::string(*origin) + " may not call this API.", req.path);
    }
    http::Response resp;
    resp.status = 204;
    resp.headers.Set("Access-Control-Allow-Origin", std::string(*origin));
    resp.headers.Set("Access-Control-Allow-Methods", methods);
    resp.headers.Set("Access-Control-Allow-Headers", std::string(CorsPolicy::kAllowHeaders));
    resp.headers.Set("Access-Control-Max-Age", std::to_string(CorsPolicy::kMaxAgeSeconds));
    return resp;
  };
}

}  // namespace emporium::gateway
