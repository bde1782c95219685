#include "services/gateway/proxy.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "platform/rpc/rpc.h"

namespace emporium::gateway {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Hop-by-hop fields (RFC 9110 §7.6.1) and the ones the transport, rpc or our server sets itself
// (forwarding those would duplicate them).
constexpr std::array<std::string_view, 14> kNotForwarded = {
    "Connection",          "Keep-Alive",  "Proxy-Connection",
    "Proxy-Authorization", "TE",          "Trailer",
    "Transfer-Encoding",   "Upgrade",     "Host",
    "Content-Length",      "Date",        "X-Emporium-Deadline-Ms",
    "traceparent",         "X-Request-Id"};

bool Forwarded(std::string_view name) {
  return std::none_of(kNotForwarded.begin(), kNotForwarded.end(),
                      [&](std::string_view n) { return EqualsNoCase(n, name); });
}

http::Response Failure(const Status& s, const rpc::ModuleClient& client, std::string_view instance) {
  const std::string owner(client.module());
  if (s.code() == Code::kDeadlineExceeded) {
    return http::Problem(504, "The " + owner + " service did not answer in time.", instance);
  }
  bool open = s.message().find("circuit open") != std::string::npos;
  if (auto b = client.breaker(); b && b->state == resilience::BreakerState::kOpen) open = true;
  if (open || s.code() == Code::kResourceExhausted) {
    http::Response r = http::Problem(503, "The " + owner + " service is unavailable; retry later.", instance);
    const auto wait = open ? std::chrono::duration_cast<std::chrono::seconds>(
                                 resilience::CircuitBreakerOptions{}.open_interval)
                                 .count()
                           : 1;
    r.headers.Set("Retry-After", std::to_string(std::max<int64_t>(1, wait)));
    return r;
  }
  return http::Problem(502, "The " + owner + " service could not be reached.", instance);
}

}  // namespace

Result<std::vector<ProxyRoute>> ParseProxyRoutes(const std::vector<std::string>& entries) {
  std::vector<ProxyRoute> out;
  for (const std::string& e : entries) {
    size_t eq = e.find('=');
    if (eq == std::string::npos) return InvalidArgument("gateway route '" + e + "' is not prefix=module");
    ProxyRoute r{e.substr(0, eq), e.substr(eq + 1)};
    while (r.prefix.size() > 1 && r.prefix.back() == '/') r.prefix.pop_back();
    if (r.prefix.empty() || r.prefix[0] != '/' || r.prefix.find_first_of("{}") != std::string::npos) {
      return InvalidArgument("gateway route '" + e + "': the prefix must be a path like /v1/users");
    }
    if (r.owner.empty()) return InvalidArgument("gateway route '" + e + "' names no module");
    out.push_back(std::move(r));
  }
  return out;
}

bool IsIdempotent(http::Method method) {
  switch (method) {
    case http::Method::kGet:
    case http::Method::kHead:
    case http::Method::kPut:
    case http::Method::kDelete:
    case http::Method::kOptions: return true;
    default: return false;
  }
}

http::Handler ProxyHandler(rpc::ModuleClient& client, Millis timeout) {
  return [&client, timeout](http::Request& req) {
    http::Request out;
    out.method = req.method;
    out.method_name = req.method_name;
    out.target = req.target;
    out.path = req.path;
    out.query = req.query;
    out.body = req.body;
    for (const auto& [name, value] : req.headers.all()) {
      if (Forwarded(name)) out.headers.Add(name, value);
    }
    std::string xff(req.headers.Get("X-Forwarded-For").value_or(""));
    // The chain gets the hop this process saw (the socket peer), as any proxy appends it; the
    // country is what this process believed (client-sent values from untrusted peers are dropped).
    const std::string& hop = req.peer_addr.empty() ? req.remote_addr : req.peer_addr;
    out.headers.Set("X-Forwarded-For", xff.empty() ? hop : xff + ", " + hop);
    out.headers.Remove("CF-IPCountry");
    if (req.client_country.empty()) {
      out.headers.Remove("X-Client-Country");
    } else {
      out.headers.Set("X-Client-Country", req.client_country);
    }
    if (auto host = req.headers.Get("Host")) out.headers.Set("X-Forwarded-Host", std::string(*host));
    out.headers.Set("X-Forwarded-Proto", "http");

    rpc::CallOptions options{.timeout = timeout, .idempotent = IsIdempotent(req.method), .parent = &req};
    Result<http::Response> answer = client.Call(std::move(out), options);
    if (!answer.ok()) {
      log::Warn("proxied call failed", {{"module", std::string(client.module())},
                                        {"path", req.path},
                                        {"error", answer.status().ToString()},
                                        {"request_id", req.request_id}});
      return Failure(answer.status(), client, req.path);
    }
    http::Response resp;
    resp.status = answer->status;
    resp.body = std::move(answer->body);
    for (const auto& [name, value] : answer->headers.all()) {
      if (Forwarded(name)) resp.headers.Add(name, value);
    }
    return resp;
  };
}

Status AddProxyRoutes(http::Router& router, const ProxyRoute& route, rpc::ModuleClient& client,
                      Millis timeout) {
  const http::RouteOptions options{.blocking = true, .timeout = timeout};
  const std::string tail = (route.prefix == "/" ? "" : route.prefix) + "/{*rest}";
  for (http::Method m : {http::Method::kGet, http::Method::kPost, http::Method::kPut, http::Method::kPatch,
                         http::Method::kDelete}) {
    if (route.prefix != "/")
      EMP_RETURN_IF_ERROR(router.Add(m, route.prefix, ProxyHandler(client, timeout), options));
    EMP_RETURN_IF_ERROR(router.Add(m, tail, ProxyHandler(client, timeout), options));
  }
  return Status::Ok();
}

}  // namespace emporium::gateway
