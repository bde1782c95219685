// The HTTP/1.1 server every module's routes are served by.
//
// One io_context and one acceptor per thread, all bound to the same port with SO_REUSEPORT so
// the kernel spreads connections across cores. Requests run through the middleware in this
// order: load shedding (max in flight → 503 + Retry-After), request id (X-Request-Id echoed when
// the client sent a sane one), W3C trace context (child span of an incoming traceparent), deadline
// (server default, shortened by X-Emporium-Deadline-Ms), body/header limits (413/431), media
// type (415), routing (404/405 with Allow), the handler (inline or on the blocking pool), then
// metrics, span export and the access log. Every error is problem+json. Malformed requests get
// 400 and the connection is closed.
//
// Shutdown() drains: stops accepting, closes idle keep-alive connections, lets requests in flight
// finish (up to the grace period), then stops. Thread-safe: Start/Shutdown from one thread.
// Beast/Asio are confined to server.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/forwarded.h"
#include "platform/http/router.h"

namespace emporium::metrics {
class Registry;
}
namespace emporium::trace {
class Exporter;
}

namespace emporium::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Server::port())
  int threads = 0;       // I/O threads; 0: one per core
  int blocking_threads = 16;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  Millis idle_timeout{30'000};     // waiting for (and reading) the next request's headers
  Millis body_timeout{30'000};     // reading a request body
  Millis request_timeout{30'000};  // default deadline of a request
  Millis shutdown_grace{8'000};
  size_t max_inflight = 4096;
  bool access_log = true;
  std::string service_name = "emporium";
  // Peers whose X-Forwarded-For / X-Client-Country (or CF-IPCountry) headers are believed.
  TrustedProxies trusted_proxies;
};

class Server {
 public:
  // router, registry and exporter (may be null) must outlive the server.
  Server(ServerOptions options, const Router& router, metrics::Registry& registry,
         trace::Exporter* exporter = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; kUnavailable when the address is taken.
  Status Start();
  uint16_t port() const;
  // Graceful stop (see above). Idempotent.
  void Shutdown();
  // Requests currently being handled.
  size_t inflight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace emporium::http
