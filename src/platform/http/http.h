// HTTP message types shared by the server, the router, the client and module calls.
//
// Plain data, no Beast/Asio types: this header is included widely and must stay cheap.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/auth/principal.h"
#include "platform/core/clock.h"

namespace emporium::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view MethodName(Method m);
Method ParseMethod(std::string_view name);

// Ordered header list with case-insensitive lookup (field names are case-insensitive).
class Headers {
 public:
  // First value of name, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  // Replaces every value of name.
  void Set(std::string_view name, std::string value);
  void Add(std::string name, std::string value);
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& all() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// W3C trace context (https://www.w3.org/TR/trace-context/).
struct TraceContext {
  std::string trace_id;   // 32 lowercase hex, not all zero
  std::string span_id;    // 16 lowercase hex: the span of the current operation
  std::string parent_id;  // 16 hex of the caller's span, empty at the root
  bool sampled = true;
  // "00-<trace_id>-<span_id>-01"
  std::string ToTraceparent() const;
};

struct Request {
  Method method = Method::kGet;
  std::string method_name;  // as received, for kOther
  std::string target;       // path and query as received: "/v1/products?page_size=5"
  std::string path;         // decoded path without query: "/v1/products"
  std::string query;        // raw query without '?'
  Headers headers;
  std::string body;
  std::string remote_addr;

  // Filled by the router: values of "{name}" segments, in pattern order.
  std::vector<std::pair<std::string, std::string>> path_params;
  // Filled by the server middleware.
  std::string request_id;
  TraceContext trace;
  SteadyTime deadline = SteadyTime::max();
  // Set by the auth middleware once the bearer token is verified; never from a header.
  std::optional<auth::Principal> principal;

  std::optional<std::string_view> PathParam(std::string_view name) const;
  // Decoded value of the first query parameter `name`.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
};

}  // namespace emporium::http
