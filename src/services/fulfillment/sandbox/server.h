// A carrier sandbox as a standalone HTTP server on its own port: the protocol's API routes,
// /labels/{file}, /control, and a Simulator pushing signed webhooks. Used by the sandbox modules
// and directly by tests (port 0); the modules make their parcels persistent.
//
// Thread-safety: Start/Stop from one thread; the server and simulator are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "services/fulfillment/sandbox/simulator.h"

namespace emporium::metrics {
class Registry;
}
namespace emporium::http {
class Server;
}

namespace emporium::fulfillment::sandbox {

enum class Kind { kRapidship, kCargoline };

struct SandboxOptions {
  Kind kind = Kind::kRapidship;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  Millis step{3000};
  std::string webhook_url;
  std::string secret;
  bool access_log = false;
  // Optional (must outlive the server): keeps the parcels across restarts (see Simulator).
  sql::Database* database = nullptr;
};

class SandboxServer {
 public:
  explicit SandboxServer(SandboxOptions options);
  ~SandboxServer();
  SandboxServer(const SandboxServer&) = delete;
  SandboxServer& operator=(const SandboxServer&) = delete;

  // Binds and starts serving and simulating; kUnavailable when the port is taken.
  Status Start();
  void Stop();
  uint16_t port() const;
  // "http://127.0.0.1:<port>"
  std::string url() const;
  Simulator& simulator() { return *sim_; }

 private:
  SandboxOptions options_;
  std::unique_ptr<metrics::Registry> metrics_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<http::Server> server_;
};

// Protocol front ends (rapidship_api.cc, cargoline_api.cc).
Status AddRapidshipRoutes(http::Router& router, Simulator& sim);
http::Request RenderRapidshipWebhook(const WebhookEvent& e, int64_t unix_seconds, const std::string& secret);
Status AddCargolineRoutes(http::Router& router, Simulator& sim);
http::Request RenderCargolineWebhook(const WebhookEvent& e, int64_t unix_seconds, const std::string& secret);
// A label "document" for GET /labels/{file} (plain text stands in for the PDF).
http::Response LabelResponse(Simulator& sim, const std::string& carrier, std::string_view file);

}  // namespace emporium::fulfillment::sandbox
