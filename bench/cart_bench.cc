// Cart adds/s: the cart module in a Runtime (SQLite in a temp dir, embedded event log, outbox
// relay running) with a fake in-process catalog, driven through Runtime::Dispatch by several
// threads over many subjects. Each add is a full request: catalog lookup, one SQL transaction
// (line, version, change log, outbox event), broadcast, and the priced cart in the response.
//   cart_bench [--seconds=S] [--threads=T] [--subjects=N per thread] [--dir=PARENT] [--label=L]
// --dir picks where the temp data dir goes (e.g. /dev/shm to take fsync out of the figure).
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
#include "platform/core/random.h"
#include "platform/log/log.h"
#include "platform/metrics/metrics.h"
#include "platform/module/runtime.h"
#include "services/cart/api.h"
#include "services/cart/fake_catalog.h"

namespace emporium {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kProductsPerCart = 10;

std::string Arg(int argc, char** argv, const std::string& name, std::string def) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--" + name + "=")) return a.substr(name.size() + 3);
  }
  return def;
}

http::Response Call(Runtime& rt, http::Method method, std::string path, const std::string& subject,
                    std::string body) {
  http::Request req;
  req.method = method;
  req.path = req.target = std::move(path);
  req.body = std::move(body);
  if (!req.body.empty()) req.headers.Set("Content-Type", "application/json");
  auth::Principal p;
  p.subject = subject;
  req.principal = p;
  return rt.Dispatch(req);
}

int Run(int argc, char** argv) {
  const double seconds = std::stod(Arg(argc, argv, "seconds", "5"));
  const int threads = std::stoi(Arg(argc, argv, "threads", "2"));
  const int subjects = std::stoi(Arg(argc, argv, "subjects", "64"));
  log::SetLevel(log::Level::kWarn);

  const std::string label = Arg(argc, argv, "label", "disk");
  std::filesystem::path parent = Arg(argc, argv, "dir", std::filesystem::temp_directory_path().string());
  auto dir = parent / ("cart-bench-" + NewUuid());
  std::filesystem::create_directories(dir);
  auto schema = RuntimeKeys();
  for (auto& k : cart::ConfigKeys()) schema.push_back(k);
  auto config = config::Config::Load(schema, {"--data-dir=" + dir.string(), "--access-log=false"}, {});
  if (!config.ok()) {
    std::fprintf(stderr, "cart_bench: %s\n", config.status().ToString().c_str());
    return 1;
  }
  metrics::Registry metrics;
  cart::testing::FakeCatalog catalog;
  for (int i = 0; i < kProductsPerCart; ++i) catalog.Set("p-" + std::to_string(i), 999 + i, 1'000'000);
  int code = 0;
  {
    Runtime rt(*config, metrics);
    ModuleDef catalog_def = catalog.Def();
    ModuleDef cart_def = cart::Module();
    if (Status s = rt.Start({&catalog_def, &cart_def}); !s.ok()) {
      std::fprintf(stderr, "cart_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::atomic<int64_t> adds{0}, errors{0};
    std::vector<std::vector<double>> latencies(threads);
    const auto deadline = SteadyClock::now() + std::chrono::duration<double>(seconds);
    auto start = SteadyClock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int64_t n = 0; SteadyClock::now() < deadline; ++n) {
          std::string subject = "user:bench-" + std::to_string(t) + "-" + std::to_string(n % subjects);
          std::string product = "p-" + std::to_string((n / subjects) % kProductsPerCart);
          auto t0 = SteadyClock::now();
          auto r = Call(rt, http::Method::kPost, "/v1/cart/items", subject,
                        R"({"product_id":")" + product + R"(","quantity":1})");
          if (r.status == 200) {
            latencies[t].push_back(
                std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count());
            ++adds;
          } else if (r.status == 422) {
            // The line reached 99: empty it (not counted) and go on.
            Call(rt, http::Method::kDelete, "/v1/cart/items/" + product, subject, "");
          } else {
            ++errors;
          }
        }
      });
    }
    for (auto& th : pool) th.join();
    double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const std::vector<double> all = bench::SortedSamples(latencies);
    const double p50 = bench::Percentile(all, 0.50);
    const double p99 = bench::Percentile(all, 0.99);
    std::printf(
        "{\"bench\":\"cart\",\"storage\":\"%s\",\"adds_per_s\":%.0f,\"threads\":%d,\"subjects\":%d,\"p50_"
        "us\":%.0f,\"p99_us\":%.0f,"
        "\"errors\":%lld}\n",
        label.c_str(), static_cast<double>(adds.load()) / elapsed, threads, subjects * threads, p50, p99,
        static_cast<long long>(errors.load()));
    code = errors.load() == 0 && adds.load() > 0 ? 0 : 1;
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
