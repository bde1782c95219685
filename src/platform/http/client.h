// Synchronous HTTP/1.1 client (plain TCP) with a per-host keep-alive connection pool.
//
// Used for module-to-module calls (rpc) and for exporting telemetry. Every Send honours an
// absolute deadline for connect, write and read. Boost.Beast stays inside client.cc.
//
// Thread-safety: HttpClient is thread-safe; concurrent Sends use different connections (a
// connection is owned by one Send at a time and goes back to the pool when the exchange ends
// cleanly with keep-alive).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"

namespace emporium::http {

struct ClientOptions {
  // Larger response bodies fail the call with kInternal and close the connection.
  size_t max_body_bytes = 8u << 20;
  // Idle connections kept per host:port; extra ones are closed when released.
  size_t max_idle_per_host = 16;
  // Pooled connections idle longer than this are closed instead of reused: servers close idle
  // keep-alive connections on their own schedule, and a stale one costs a retry.
  Millis max_idle_time{30'000};
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends req to base_url ("http://127.0.0.1:8081", optionally with a path prefix that is put
  // before req.target; req.target falls back to path + "?" + query when empty) and reads the
  // response. Any HTTP status is a successful result. Content-Length and Host are set here.
  //
  // Errors: kDeadlineExceeded when the deadline passes (before or during the exchange);
  // kUnavailable when the host cannot be resolved or connected to, or the connection breaks;
  // kInvalidArgument for a malformed or non-http base_url; kInternal for an unparsable or
  // oversized response. A pooled connection that turns out to be closed by the peer before any
  // response byte arrives is retried once on a fresh connection.
  Result<Response> Send(std::string_view base_url, const Request& req, SteadyTime deadline);

  // Connections opened since construction (for tests and metrics).
  uint64_t connections_opened() const;
  // Idle connections currently pooled, all hosts.
  size_t idle_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace emporium::http
