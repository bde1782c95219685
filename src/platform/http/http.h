// HTTP message types shared by the server, the router, the client and module calls.
//
// Plain data, no Beast/Asio types: this header is included widely and must stay cheap.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
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
  // The client's address: the socket peer, or the client a trusted proxy names (forwarded.h).
  std::string remote_addr;
  std::string peer_addr;       // the socket peer itself (a proxy, or the client)
  std::string client_country;  // ISO 3166 alpha-2 from a trusted proxy; empty when unknown

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

// A request for `target` as written ("/v1/orders?page_size=5"), for in-process calls and tests:
// path and query split from it (the path is not percent-decoded), and `body` with a Content-Type
// of `content_type` when it is not empty.
Request NewRequest(Method method, std::string target, std::string body = "",
                   std::string_view content_type = "application/json");

// A response body produced over time (server-sent events). The server sends the headers, then
// (chunked) whatever Read() yields each time the stream wakes it, until Read() returns false,
// the client goes away or the server shuts down; then it calls Close().
//
// Thread-safety: Subscribe/Read/Close are called from the connection's I/O thread; the `wake`
// callback may be called from any thread, any number of times.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Called once before the first Read: call wake() whenever new data is ready or the stream ended.
  virtual void Subscribe(std::function<void()> wake) = 0;
  // Appends what is ready to out without blocking; false once the stream has ended (out may
  // still hold a last piece). The server also calls Read every `idle_interval()` so the stream
  // can emit keep-alive data.
  virtual bool Read(std::string& out) = 0;
  virtual Millis idle_interval() const { return Millis(15'000); }
  // The connection is done (client gone, stream ended, or server stopping). Unsubscribe here.
  virtual void Close() = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the body is streamed (Transfer-Encoding: chunked) and `body` is ignored.
  std::shared_ptr<BodyStream> stream;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
};

}  // namespace emporium::http
