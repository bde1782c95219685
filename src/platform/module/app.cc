#include "platform/module/app.h"

#include <algorithm>
#include <csignal>
#include <iostream>

#include "platform/http/server.h"
#include "platform/log/log.h"
#include "platform/metrics/metrics.h"
#include "platform/module/ops_routes.h"
#include "platform/module/runtime.h"
#include "platform/trace/otlp_exporter.h"

namespace emporium {
namespace {

std::vector<config::Key> Schema(const ModuleRegistry& registry) {
  std::vector<config::Key> keys = RuntimeKeys();
  for (const auto& def : registry.defs()) keys.insert(keys.end(), def.keys.begin(), def.keys.end());
  return keys;
}

// Loads config, sets the log level and resolves the targets; prints the error and returns
// nullopt on failure.
struct Loaded {
  config::Config config;
  std::vector<const ModuleDef*> modules;
};

std::optional<Loaded> Load(const ModuleRegistry& registry, const std::vector<std::string>& args,
                           const std::vector<std::string>& env) {
  auto schema = Schema(registry);
  auto cfg = config::Config::Load(schema, args, env);
  if (!cfg.ok()) {
    std::cerr << "emporium: configuration error: " << cfg.status().message() << "\n";
    return std::nullopt;
  }
  log::Level level = log::Level::kInfo;
  log::ParseLevel(cfg->Get("log-level"), &level);
  log::SetLevel(level);
  auto modules = registry.Resolve(cfg->List("target"));
  if (!modules.ok()) {
    std::cerr << "emporium: " << modules.status().message() << "\n";
    return std::nullopt;
  }
  return Loaded{std::move(cfg).value(), std::move(modules).value()};
}

http::ServerOptions ServerOptionsFrom(const config::Config& c) {
  http::ServerOptions o;
  o.host = c.Get("http-host");
  o.port = static_cast<uint16_t>(c.Int("http-port"));
  o.threads = static_cast<int>(c.Int("threads"));
  o.blocking_threads = static_cast<int>(c.Int("blocking-threads"));
  o.max_body_bytes = static_cast<size_t>(c.Int("max-body-bytes"));
  o.max_header_bytes = static_cast<size_t>(c.Int("max-header-bytes"));
  o.idle_timeout = c.Duration("idle-timeout");
  o.body_timeout = c.Duration("body-timeout");
  o.request_timeout = c.Duration("request-timeout");
  o.shutdown_grace = c.Duration("shutdown-grace");
  o.max_inflight = static_cast<size_t>(c.Int("max-inflight"));
  o.access_log = c.Bool("access-log");
  // Validated with the configuration (RuntimeKeys), so it parses here.
  if (auto trusted = http::TrustedProxies::Parse(c.Get("trusted-proxies")); trusted.ok())
    o.trusted_proxies = std::move(trusted).value();
  return o;
}

}  // namespace

std::string ConfigUsage(const ModuleRegistry& registry) {
  return config::Config::Usage(Schema(registry));
}

int Serve(const ModuleRegistry& registry, const std::vector<std::string>& args,
          const std::vector<std::string>& env) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto loaded = Load(registry, args, env);
  if (!loaded) return 2;
  const config::Config& cfg = loaded->config;

  metrics::Registry& metrics = metrics::Registry::Default();
  metrics::RegisterProcessMetrics(metrics);
  Runtime runtime(cfg, metrics);
  if (Status s = AddOpsRoutes(runtime); !s.ok()) {
    std::cerr << "emporium: " << s.ToString() << "\n";
    return 1;
  }
  std::unique_ptr<trace::Exporter> exporter =
      trace::NewExporter(trace::OtlpOptions{.endpoint = cfg.Get("otlp-endpoint")});

  if (Status s = runtime.Start(loaded->modules); !s.ok()) {
    std::cerr << "emporium: " << s.message() << "\n";
    log::Flush();
    return 1;
  }
  const bool tracing = !cfg.Get("otlp-endpoint").empty();
  http::Server server(ServerOptionsFrom(cfg), runtime.router(), metrics, tracing ? exporter.get() : nullptr);
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "emporium: " << s.message() << "\n";
    runtime.Stop();
    log::Flush();
    return 1;
  }
  std::string names;
  for (const auto& m : runtime.running()) names += (names.empty() ? "" : ",") + m;
  log::Info("emporium is serving", {{"port", int64_t{server.port()}}, {"modules", names}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info("stop signal received; draining", {{"signal", sig}});
  server.Shutdown();
  runtime.Stop();
  exporter->Shutdown();
  log::Info("stopped cleanly", {});
  log::Flush();
  return 0;
}

int Migrate(const ModuleRegistry& registry, const std::vector<std::string>& args,
            const std::vector<std::string>& env) {
  auto loaded = Load(registry, args, env);
  if (!loaded) return 2;
  Runtime runtime(loaded->config, metrics::Registry::Default());
  for (const ModuleDef* def : loaded->modules) {
    std::unique_ptr<Module> m = def->make(runtime);
    if (Status s = m->Migrate(); !s.ok()) {
      std::cerr << "emporium: migrating module '" << def->name << "' failed: " << s.ToString() << "\n";
      return 1;
    }
    std::cout << "migrated " << def->name << "\n";
  }
  log::Flush();
  return 0;
}

std::optional<int> RunCommand(const ModuleRegistry& registry, const std::vector<std::string>& args,
                              const std::vector<std::string>& env) {
  for (const auto& def : registry.defs()) {
    for (const Command& cmd : def.commands) {
      std::vector<std::string> words;
      for (size_t i = 0, j; i < cmd.words.size(); i = j + 1) {
        j = cmd.words.find(' ', i);
        if (j == std::string::npos) j = cmd.words.size();
        words.push_back(cmd.words.substr(i, j - i));
      }
      if (args.size() < words.size() || !std::equal(words.begin(), words.end(), args.begin())) continue;
      std::vector<config::Key> schema = Schema(registry);
      schema.insert(schema.end(), cmd.keys.begin(), cmd.keys.end());
      std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(words.size()), args.end());
      std::vector<std::string> positional;
      auto cfg = config::Config::Load(schema, rest, env, &positional);
      if (!cfg.ok()) {
        std::cerr << "emporium " << cmd.words << ": " << cfg.status().message() << "\n";
        return 2;
      }
      Runtime runtime(*cfg, metrics::Registry::Default());
      int code = cmd.run(runtime, positional);
      log::Flush();
      return code;
    }
  }
  return std::nullopt;
}

}  // namespace emporium
