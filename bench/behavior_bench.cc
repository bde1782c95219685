// Behaviour ingest: the behavior module in a Runtime (SQLite in a temp dir, embedded event log,
// outbox relay running), driven through Runtime::Dispatch by several threads over many users.
// Each request is a full POST /v1/events of --batch events (a mix of views, searches with 10
// results, recommendation impressions and cart actions): validation, one SQL transaction (the
// events and one outbox row each), 202. The relay publishes concurrently; the backlog it had
// left when the load stopped and the time it took to drain are reported too.
//   behavior_bench [--seconds=S] [--threads=T] [--batch=N] [--users=U] [--dir=PARENT] [--label=L]
// Prints one JSON line.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/log/log.h"
#include "platform/metrics/metrics.h"
#include "platform/module/runtime.h"
#include "platform/sql/sql.h"
#include "services/behavior/api.h"

namespace emporium {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Arg(int argc, char** argv, const std::string& name, std::string def) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--" + name + "=")) return a.substr(name.size() + 3);
  }
  return def;
}

// A batch of n events with ids unique to (thread, request).
std::string Batch(int n, const std::string& prefix) {
  std::string out = R"({"events":[)";
  for (int i = 0; i < n; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    const std::string product = "p-" + std::to_string(i * 37 % 10000);
    if (i) out += ",";
    switch (i % 5) {
      case 0:
        out += R"({"id":")" + id + R"(","type":"product_view","product_id":")" + product +
               R"(","session_id":"s-1","device_id":"web-1"})";
        break;
      case 1: {
        out += R"({"id":")" + id + R"(","type":"search","search_id":"q-)" + id +
               R"(","query":"trail running shoe","filters":{"size":42},"results":[)";
        for (int r = 1; r <= 10; ++r) {
          out += (r > 1 ? "," : "") + std::string(R"({"product_id":"p-)") + std::to_string(r * 11) +
                 R"(","position":)" + std::to_string(r) + "}";
        }
        out += "]}";
        break;
      }
      case 2:
        out += R"({"id":")" + id + R"(","type":"recommendation_view","recommendation_id":"r-)" + id +
               R"(","placement":"home","model_version":"als-3","items":[{"product_id":"p-1","position":1},)"
               R"({"product_id":"p-2","position":2},{"product_id":"p-3","position":3}]})";
        break;
      case 3: out += R"({"id":")" + id + R"(","type":"page_view","page":"/c/shoes?page=2"})"; break;
      default:
        out +=
            R"({"id":")" + id + R"(","type":"add_to_cart","product_id":")" + product + R"(","quantity":1})";
    }
  }
  return out + "]}";
}

int64_t Backlog(sql::Database& db) {
  auto rs = db.Query("SELECT COUNT(*) FROM outbox");
  return rs.ok() && !rs->rows.empty() ? rs->rows[0].Int(0) : -1;
}

int Run(int argc, char** argv) {
  const double seconds = std::stod(Arg(argc, argv, "seconds", "5"));
  const int threads = std::stoi(Arg(argc, argv, "threads", "2"));
  const int batch = std::stoi(Arg(argc, argv, "batch", "20"));
  const int users = std::stoi(Arg(argc, argv, "users", "1000"));
  const std::string label = Arg(argc, argv, "label", "disk");
  log::SetLevel(log::Level::kWarn);

  std::filesystem::path parent = Arg(argc, argv, "dir", std::filesystem::temp_directory_path().string());
  auto dir = parent / ("behavior-bench-" + NewUuid());
  std::filesystem::create_directories(dir);
  auto schema = RuntimeKeys();
  for (auto& k : behavior::ConfigKeys()) schema.push_back(k);
  auto config = config::Config::Load(schema, {"--data-dir=" + dir.string(), "--access-log=false"}, {});
  if (!config.ok()) {
    std::fprintf(stderr, "behavior_bench: %s\n", config.status().ToString().c_str());
    return 1;
  }
  metrics::Registry metrics;
  int code = 0;
  {
    Runtime rt(*config, metrics);
    ModuleDef def = behavior::Module();
    if (Status s = rt.Start({&def}); !s.ok()) {
      std::fprintf(stderr, "behavior_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::atomic<int64_t> batches{0}, errors{0};
    std::vector<std::vector<double>> latencies(threads);
    const auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
    const auto start = SteadyClock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int64_t n = 0; SteadyClock::now() < deadline; ++n) {
          // Bodies are built outside the timed part: the figure is the server's work.
          http::Request req =
              http::NewRequest(http::Method::kPost, "/v1/events",
                               Batch(batch, "t" + std::to_string(t) + "-" + std::to_string(n)));
          req.remote_addr = "127.0.0.1";
          req.headers.Set("User-Agent", "behavior_bench");
          auth::Principal p;
          p.subject = "user:bench-" + std::to_string((n * threads + t) % users);
          req.principal = p;
          auto t0 = SteadyClock::now();
          auto r = rt.Dispatch(req);
          if (r.status == 202) {
            latencies[t].push_back(
                std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count());
            ++batches;
          } else {
            if (errors++ == 0) std::fprintf(stderr, "behavior_bench: %d %s\n", r.status, r.body.c_str());
          }
        }
      });
    }
    for (auto& th : pool) th.join();
    const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
    auto db = rt.Database("behavior");
    const int64_t backlog = db.ok() ? Backlog(**db) : -1;
    const auto drain_start = SteadyClock::now();
    while (db.ok() && Backlog(**db) > 0 && SteadyClock::now() - drain_start < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const double drain_s = std::chrono::duration<double>(SteadyClock::now() - drain_start).count();
    const std::vector<double> all = bench::SortedSamples(latencies);
    const double p50 = bench::Percentile(all, 0.50);
    const double p99 = bench::Percentile(all, 0.99);
    const double bps = static_cast<double>(batches.load()) / elapsed;
    std::printf(
        "{\"bench\":\"behavior\",\"storage\":\"%s\",\"batches_per_s\":%.0f,\"events_per_s\":%.0f,\"batch\":%"
        "d,"
        "\"threads\":%d,\"p50_us\":%.0f,\"p99_us\":%.0f,\"outbox_backlog_at_end\":%lld,\"drain_s\":%.2f,"
        "\"errors\":%lld}\n",
        label.c_str(), bps, bps * batch, batch, threads, p50, p99, static_cast<long long>(backlog), drain_s,
        static_cast<long long>(errors.load()));
    code = errors.load() == 0 && batches.load() > 0 ? 0 : 1;
    rt.Stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return code;
}

}  // namespace
}  // namespace emporium

int main(int argc, char** argv) {
  return emporium::Run(argc, argv);
}
