// What a module gets from the platform: configuration, the router, metrics, its own storage,
// the event bus, and clients for the other modules (in-process or remote, by configuration).
//
// Storage is opened lazily and shared: Database(m) is module m's own database (a SQLite file
// <data-dir>/<m>.db, or schema m in PostgreSQL when --sql-url is set); Kv() and Bus() are the
// process's key-value store and event bus. Thread-safe after start-up.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/config/config.h"
#include "platform/core/clock.h"
#include "platform/http/router.h"
#include "platform/module/module.h"

namespace emporium::metrics {
class Registry;
}
namespace emporium::sql {
class Database;
}
namespace emporium::kv {
class Store;
}
namespace emporium::bus {
class Bus;
}
namespace emporium::rpc {
class ModuleClient;
}

namespace emporium {

// The runtime's own configuration keys (module keys come from ModuleDef::keys).
std::vector<config::Key> RuntimeKeys();

class Runtime {
 public:
  Runtime(const config::Config& config, metrics::Registry& metrics, Clock& clock = SystemClock::Get());
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const config::Config& config() const { return config_; }
  http::Router& router() { return router_; }
  metrics::Registry& metrics() { return metrics_; }
  Clock& clock() { return clock_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // The public base URL (config public-url, default http://127.0.0.1:<http-port>): the token
  // issuer, and the base of links the API hands out.
  std::string public_url() const;
  // The audience of access tokens for this API.
  static constexpr std::string_view kAudience = "emporium";

  Result<sql::Database*> Database(const std::string& module);
  Result<kv::Store*> Kv();
  Result<bus::Bus*> Bus();
  // A client for `module`: in-process when it runs in this process, over HTTP when
  // --remote names its address. kFailedPrecondition when it is neither.
  Result<rpc::ModuleClient*> Client(const std::string& module);

  // Starts modules in the given order (see ModuleRegistry::Resolve). When one fails, the
  // started ones stop in reverse order and the error names the module.
  Status Start(const std::vector<const ModuleDef*>& modules);
  // Stops started modules in reverse order. Idempotent.
  void Stop();
  bool Ready() const;
  std::vector<std::string> running() const;

  // Routes a request through this process's router without the network (in-process calls).
  http::Response Dispatch(http::Request& req) const;

 private:
  const config::Config& config_;
  metrics::Registry& metrics_;
  Clock& clock_;
  std::filesystem::path data_dir_;
  http::Router router_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<sql::Database>> databases_;
  std::unique_ptr<kv::Store> kv_;
  std::unique_ptr<bus::Bus> bus_;
  std::map<std::string, std::unique_ptr<rpc::ModuleClient>> clients_;
  std::map<std::string, std::string> remotes_;  // module → base URL
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> started_;
};

}  // namespace emporium
