#include "platform/module/runtime.h"

#include "platform/auth/middleware.h"
#include "platform/bus/bus.h"
#include "platform/http/forwarded.h"
#include "platform/http/problem.h"
#include "platform/kv/kv.h"
#include "platform/log/log.h"
#include "platform/rpc/rpc.h"
#include "platform/sql/sql.h"

namespace emporium {

std::vector<config::Key> RuntimeKeys() {
  using config::Type;
  auto port_check = [](std::string_view v) -> std::string {
    int p = std::atoi(std::string(v).c_str());
    return p >= 0 && p <= 65535 ? "" : "expected a TCP port (0-65535)";
  };
  return {
      {"target", Type::kList, "all", "Modules to run: 'all' or a comma-separated list (see --list-targets)."},
      {"http-host", Type::kString, "127.0.0.1", "Address the HTTP server listens on."},
      {"http-port", Type::kInt, "8080", "Port the HTTP server listens on (0: any free port).", port_check},
      {"threads", Type::kInt, "0", "HTTP I/O threads (0: one per core)."},
      {"blocking-threads", Type::kInt, "16", "Worker threads for handlers that block (SQL, remote calls)."},
      {"trusted-proxies", Type::kString, "127.0.0.0/8,::1",
       "Peers (CIDRs) whose X-Forwarded-For and X-Client-Country/CF-IPCountry headers name the client.",
       [](std::string_view v) -> std::string {
         auto parsed = http::TrustedProxies::Parse(v);
         return parsed.ok() ? "" : parsed.status().message();
       }},
      {"public-url", Type::kString, "",
       "Public base URL of the API, the token issuer (empty: http://127.0.0.1:<http-port>)."},
      {"data-dir", Type::kString, "./var", "Directory for embedded storage (SQLite files, event log, KV)."},
      {"sql-url", Type::kString, "",
       "PostgreSQL URL (postgres://...); empty: a SQLite file per module in the data dir."},
      {"kv-url", Type::kString, "",
       "Key-value store URL (redis://host:port); empty: embedded store in the data dir."},
      {"bus-url", Type::kString, "",
       "Event bus URL (kafka://host:port); empty: embedded log in the data dir."},
      {"remote", Type::kList, "", "Modules served by other processes: name=http://host:port,..."},
      {"log-level", Type::kString, "info", "debug, info, warn or error.",
       [](std::string_view v) -> std::string {
         log::Level l;
         return log::ParseLevel(v, &l) ? "" : "expected debug, info, warn or error";
       }},
      {"access-log", Type::kBool, "true", "Log one line per HTTP request."},
      {"token-leeway", Type::kDuration, "30s", "Clock skew tolerated on access tokens' exp and nbf."},
      {"otlp-endpoint", Type::kString, "",
       "OTLP/HTTP collector base URL for spans (empty: tracing export off)."},
      {"request-timeout", Type::kDuration, "30s", "Default deadline of a request."},
      {"idle-timeout", Type::kDuration, "30s",
       "How long a connection may take to send the next request's headers."},
      {"body-timeout", Type::kDuration, "30s", "How long a client may take to send a request body."},
      {"shutdown-grace", Type::kDuration, "8s", "How long SIGTERM waits for requests in flight."},
      {"max-body-bytes", Type::kInt, "1048576", "Largest accepted request body."},
      {"max-header-bytes", Type::kInt, "16384", "Largest accepted request header block."},
      {"max-inflight", Type::kInt, "4096", "Requests in flight before new ones get 503 (load shedding)."},
      {"model-dir", Type::kString, "",
       "Root of the pretrained models (scripts/fetch-model.sh; empty: ~/.cache/emporium/models)."},
  };
}

Runtime::Runtime(const config::Config& config, metrics::Registry& metrics, Clock& clock)
    : config_(config), metrics_(metrics), clock_(clock), data_dir_(config.Get("data-dir")) {
  for (const std::string& entry : config.List("remote")) {
    size_t eq = entry.find('=');
    if (eq != std::string::npos) remotes_[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  // Every process verifies bearer tokens against identity's published keys, wherever identity
  // runs; routes declare what they require (RouteOptions::access).
  auth::AuthOptions auth_options;
  auth_options.verify.issuer = public_url();
  auth_options.verify.audience = std::string(kAudience);
  auth_options.verify.leeway =
      std::chrono::duration_cast<std::chrono::seconds>(config.Duration("token-leeway"));
  router_.Use(auth::NewAuthMiddleware(
      [this]() -> Result<std::string> {
        EMP_ASSIGN_OR_RETURN(rpc::ModuleClient * identity, Client("identity"));
        http::Request req;
        req.method = http::Method::kGet;
        req.path = req.target = "/.well-known/jwks.json";
        EMP_ASSIGN_OR_RETURN(
            http::Response resp,
            identity->Call(std::move(req), rpc::CallOptions{.timeout = Millis(2000), .idempotent = true}));
        if (resp.status != 200)
          return Unavailable("identity answered " + std::to_string(resp.status) + " for its JWKS");
        return std::move(resp.body);
      },
      auth_options, clock_));
}

std::string Runtime::public_url() const {
  const std::string& url = config_.Get("public-url");
  if (!url.empty()) return url;
  return "http://127.0.0.1:" + config_.Get("http-port");
}

Runtime::~Runtime() {
  Stop();
}

Result<sql::Database*> Runtime::Database(const std::string& module) {
  std::lock_guard lock(mu_);
  auto& slot = databases_[module];
  if (!slot) {
    const std::string& pg = config_.Get("sql-url");
    std::string url;
    if (pg.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(data_dir_, ec);
      url = "sqlite://" + std::filesystem::absolute(data_dir_ / (module + ".db")).string();
    } else {
      url = pg + (pg.find('?') == std::string::npos ? "?" : "&") + "schema=" + module;
    }
    EMP_ASSIGN_OR_RETURN(slot, sql::Open(url));
  }
  return slot.get();
}

Result<kv::Store*> Runtime::Kv() {
  std::lock_guard lock(mu_);
  if (!kv_) {
    std::string url = config_.Get("kv-url");
    if (url.empty()) url = "file://" + std::filesystem::absolute(data_dir_ / "kv").string();
    EMP_ASSIGN_OR_RETURN(kv_, kv::Open(url, clock_));
  }
  return kv_.get();
}

Result<bus::Bus*> Runtime::Bus() {
  std::lock_guard lock(mu_);
  if (!bus_) {
    std::string url = config_.Get("bus-url");
    if (url.empty()) url = "log://" + std::filesystem::absolute(data_dir_ / "events").string();
    EMP_ASSIGN_OR_RETURN(bus_, bus::Open(url));
  }
  return bus_.get();
}

Result<rpc::ModuleClient*> Runtime::Client(const std::string& module) {
  std::lock_guard lock(mu_);
  auto& slot = clients_[module];
  if (slot) return slot.get();
  bool local = false;
  for (const auto& [name, m] : started_) local = local || name == module;
  if (local) {
    slot = rpc::NewLocalClient(module, [this](http::Request& req) { return Dispatch(req); });
  } else if (auto it = remotes_.find(module); it != remotes_.end()) {
    slot = rpc::NewRemoteClient(module, it->second, rpc::RemoteOptions{}, clock_);
  } else {
    clients_.erase(module);
    return FailedPrecondition("module '" + module +
                              "' is not running in this process and --remote does not name its address");
  }
  return slot.get();
}

http::Response Runtime::Dispatch(http::Request& req) const {
  http::Match m = router_.Find(req.method, req.path);
  if (!m.route) {
    if (!m.allow.empty()) {
      http::Response r = http::Problem(405, "Method not allowed.", req.path);
      r.headers.Set("Allow", m.allow);
      return r;
    }
    return http::Problem(404, "No resource at " + req.path + ".", req.path);
  }
  req.path_params = std::move(m.params);
  return router_.Invoke(*m.route, req);
}

Status Runtime::Start(const std::vector<const ModuleDef*>& modules) {
  for (const ModuleDef* def : modules) {
    log::Info("starting module", {{"module", def->name}});
    std::unique_ptr<Module> m = def->make(*this);
    Status s = m->Start();
    if (!s.ok()) {
      log::Error("module failed to start", {{"module", def->name}, {"error", s.ToString()}});
      Stop();
      return Status(s.code(), "module '" + def->name + "' failed to start: " + s.message());
    }
    std::lock_guard lock(mu_);
    started_.emplace_back(def->name, std::move(m));
  }
  return Status::Ok();
}

void Runtime::Stop() {
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> started;
  {
    std::lock_guard lock(mu_);
    started.swap(started_);
  }
  for (auto it = started.rbegin(); it != started.rend(); ++it) {
    log::Info("stopping module", {{"module", it->first}});
    it->second->Stop();
  }
}

bool Runtime::Ready() const {
  for (const auto& [name, m] : started_) {
    if (!m->Ready()) return false;
  }
  return true;
}

std::vector<std::string> Runtime::running() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : started_) out.push_back(name);
  return out;
}

}  // namespace emporium
