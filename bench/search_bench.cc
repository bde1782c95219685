// Search benchmark: builds an index of N generated products (Index::Upsert + Commit, as the
// event consumer does), then runs a fixed query mix (text + facets + a page of 20, the work of
// GET /v1/search without HTTP) on all cores for a few seconds. One JSON line per size:
//   {"bench":"search","products":N,"threads":T,"index_s":..,"qps":..,"p50_ms":..,"p99_ms":..}
// Usage: search_bench [--sizes=10000,50000] [--seconds=3] [--threads=0 (all cores)]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/random.h"
#include "services/search/generate.h"
#include "services/search/index.h"

namespace emporium::search {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
  }
  return fallback;
}

// The mix: every query plain, some with a filter, as a storefront sends them.
std::vector<Query> QueryMix() {
  std::vector<Query> out;
  for (const std::string& text : GeneratedQueryMix()) {
    out.push_back(Query{.text = text});
    out.push_back(Query{.text = text, .in_stock_only = true});
    out.push_back(Query{.text = text, .min_price = 1000, .max_price = 20000});
  }
  out.push_back(Query{.category = "c-06"});
  out.push_back(Query{.text = "premium", .brand = "Acme"});
  return out;
}

int Run(size_t n, int seconds, int threads) {
  const auto dir = std::filesystem::temp_directory_path() / ("emporium-search-bench-" + RandomHex(6));
  auto index = Index::Open(dir);
  if (!index.ok()) {
    std::fprintf(stderr, "search_bench: %s\n", index.status().ToString().c_str());
    return 1;
  }
  auto started = SteadyClock::now();
  for (const ProductSpec& spec : GenerateProducts(n, 42)) {
    auto p = ParseProduct(ProductJson(spec));
    if (!p.ok() || !(*index)->Upsert(*p).ok()) {
      std::fprintf(stderr, "search_bench: indexing failed\n");
      return 1;
    }
  }
  if (Status s = (*index)->Commit(); !s.ok()) {
    std::fprintf(stderr, "search_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  const double index_s = std::chrono::duration<double>(SteadyClock::now() - started).count();

  const std::vector<Query> mix = QueryMix();
  BusinessRulesRanker ranker;
  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  const auto deadline = SteadyClock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& lat = latencies[static_cast<size_t>(t)];
      for (size_t i = static_cast<size_t>(t); SteadyClock::now() < deadline; ++i) {
        auto q0 = SteadyClock::now();
        auto r = (*index)->Search(mix[i % mix.size()], std::nullopt, ranker);
        if (!r.ok()) failed = true;
        lat.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - q0).count());
      }
    });
  }
  for (auto& th : pool) th.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  index->reset();
  std::filesystem::remove_all(dir);
  if (failed || all.empty()) {
    std::fprintf(stderr, "search_bench: a query failed\n");
    return 1;
  }
  auto pct = [&](double p) {
    return all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "{\"bench\":\"search\",\"products\":%zu,\"threads\":%d,\"index_s\":%.2f,\"queries\":%zu,\"qps\":%.0f,"
      "\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
      n, threads, index_s, all.size(), static_cast<double>(all.size()) / seconds, pct(0.50), pct(0.99));
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace emporium::search

int main(int argc, char** argv) {
  int seconds = std::stoi(emporium::search::Flag(argc, argv, "seconds", "3"));
  int threads = std::stoi(emporium::search::Flag(argc, argv, "threads", "0"));
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::stringstream sizes(emporium::search::Flag(argc, argv, "sizes", "10000,50000"));
  for (std::string size; std::getline(sizes, size, ',');) {
    if (int rc = emporium::search::Run(std::stoul(size), seconds, threads); rc != 0) return rc;
  }
  return 0;
}
