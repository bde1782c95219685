// Search benchmark: builds an index of N generated products (Index::Upsert + Commit, as the
// event consumer does), then runs a fixed query mix (text + facets + a page of 20, the work of
// GET /v1/search without HTTP) on all cores for a few seconds. One JSON line per size and mode:
//   {"bench":"search","mode":"keyword","products":N,"threads":T,"index_s":..,"qps":..,"p50_ms":..,"p99_ms":..}
// Mode hybrid embeds every product with the sentence encoder (saved under --vectors-dir, so a
// second run reuses them), and each query is embedded, fused with BM25 and reordered by a
// learned ranker, as GET /v1/search does by default. The ranker is a stand-in with the most trees
// training may keep (RankerTrainParams().rounds, full depth) over random rows: its cost is the
// worst a trained model has; its order means nothing.
// Usage: search_bench [--sizes=10000,50000] [--modes=keyword,hybrid] [--seconds=3]
//                     [--threads=0 (all cores)] [--vectors-dir=DIR]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "platform/core/random.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/encoder/encoder.h"
#include "services/search/generate.h"
#include "services/search/index.h"
#include "services/search/ltr.h"
#include "services/search/vectors.h"

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

// A ranker as costly as a trained one can be: every round kept, every tree full depth.
std::shared_ptr<const RankerModel> StandInRanker() {
  ml::Dataset d;
  d.cols = RankFeatureNames().size();
  Xoshiro256 rng(9);
  for (int g = 0; g < 200; ++g) {
    for (int i = 0; i < 50; ++i) {
      std::vector<float> row(d.cols);
      for (float& v : row) v = static_cast<float>(rng.Next() % 10000) / 10000.0f;
      if (!d.AddRow(row, static_cast<float>(rng.Next() % 7)).ok()) return nullptr;
    }
    d.groups.push_back(50);
  }
  ml::TrainParams p = RankerTrainParams();
  p.early_stopping_rounds = 0;
  p.min_child_weight = 0;
  auto trained = ml::Booster::Train(d, nullptr, p);
  if (!trained.ok()) return nullptr;
  auto bytes = (*trained)->Save();
  auto loaded = ml::Booster::Load(*bytes, 1);  // as search serves it: one thread per request
  if (!loaded.ok()) return nullptr;
  auto model = std::make_shared<RankerModel>();
  model->version = "bench-stand-in";
  model->booster = std::move(loaded).value();
  return model;
}

struct Vectors {
  std::unique_ptr<ProductVectors> vectors;
  double embed_s = 0;
};

Result<Vectors> Embed(Index& index, const std::filesystem::path& dir) {
  EMP_ASSIGN_OR_RETURN(auto encoder, ml::SharedEncoder(ml::DefaultModelRoot() / ml::kMiniLmDirName));
  Vectors v;
  EMP_ASSIGN_OR_RETURN(v.vectors, ProductVectors::Open(encoder, VectorsOptions{.dir = dir}));
  EMP_ASSIGN_OR_RETURN(auto products, index.Products());
  v.vectors->Reconcile(products);
  auto started = SteadyClock::now();
  EMP_RETURN_IF_ERROR(v.vectors->Drain([&](size_t done, size_t total) {
    if (done % 2048 < 32 || done == total)
      std::fprintf(stderr, "\rsearch_bench: embedded %zu / %zu", done, total);
  }));
  std::fprintf(stderr, "\n");
  v.embed_s = std::chrono::duration<double>(SteadyClock::now() - started).count();
  return v;
}

int Run(size_t n, const std::vector<std::string>& modes, int seconds, int threads,
        const std::filesystem::path& vectors_root) {
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

  std::vector<Query> mix = QueryMix();
  int rc = 0;
  for (const std::string& mode : modes) {
    Vectors vectors;
    LearnedRanker ranker;
    if (mode == "hybrid") {
      auto v = Embed(**index, vectors_root / ("vectors-" + std::to_string(n)));
      if (!v.ok()) {
        std::fprintf(stderr, "search_bench: hybrid skipped: %s\n", v.status().ToString().c_str());
        rc = 1;
        continue;
      }
      vectors = std::move(v).value();
      auto model = StandInRanker();
      if (!model) {
        std::fprintf(stderr, "search_bench: cannot train the stand-in ranker\n");
        rc = 1;
        continue;
      }
      ranker.Swap(model);
    } else if (mode != "keyword") {
      std::fprintf(stderr, "search_bench: unknown mode %s\n", mode.c_str());
      rc = 2;
      continue;
    }
    for (Query& q : mix) q.mode = mode == "hybrid" ? SearchMode::kHybrid : SearchMode::kKeyword;
    std::atomic<bool> failed{false};
    std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
    std::string answered;
    std::mutex answered_mu;
    const auto deadline = SteadyClock::now() + std::chrono::seconds(seconds);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        auto& lat = latencies[static_cast<size_t>(t)];
        for (size_t i = static_cast<size_t>(t); SteadyClock::now() < deadline; ++i) {
          const Query& q = mix[i % mix.size()];
          auto q0 = SteadyClock::now();
          SemanticCandidates semantic;
          if (vectors.vectors && !q.text.empty()) semantic = vectors.vectors->Candidates(q.text);
          auto r = (*index)->Search(q, std::nullopt, ranker, {}, vectors.vectors ? &semantic : nullptr);
          lat.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - q0).count());
          if (!r.ok()) {
            failed = true;
          } else if (!q.text.empty()) {
            std::lock_guard lock(answered_mu);
            answered = r->ranker;
          }
        }
      });
    }
    for (auto& th : pool) th.join();
    const std::vector<double> all = bench::SortedSamples(latencies);
    if (failed || all.empty()) {
      std::fprintf(stderr, "search_bench: a query failed\n");
      rc = 1;
      continue;
    }
    auto pct = [&](double p) { return bench::Percentile(all, p); };
    std::printf(
        "{\"bench\":\"search\",\"mode\":\"%s\",\"ranker\":\"%s\",\"products\":%zu,\"threads\":%d,"
        "\"index_s\":%.2f,\"embed_s\":%.1f,\"queries\":%zu,\"qps\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
        mode.c_str(), answered.c_str(), n, threads, index_s, vectors.embed_s, all.size(),
        static_cast<double>(all.size()) / seconds, pct(0.50), pct(0.99));
    std::fflush(stdout);
  }
  index->reset();
  std::filesystem::remove_all(dir);
  return rc;
}

}  // namespace
}  // namespace emporium::search

int main(int argc, char** argv) {
  int seconds = std::stoi(emporium::search::Flag(argc, argv, "seconds", "3"));
  int threads = std::stoi(emporium::search::Flag(argc, argv, "threads", "0"));
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> modes;
  std::stringstream mode_list(emporium::search::Flag(argc, argv, "modes", "keyword,hybrid"));
  for (std::string m; std::getline(mode_list, m, ',');) modes.push_back(m);
  const std::filesystem::path vectors_root = emporium::search::Flag(
      argc, argv, "vectors-dir",
      (std::filesystem::temp_directory_path() / "emporium-search-bench-vectors").string());
  std::stringstream sizes(emporium::search::Flag(argc, argv, "sizes", "10000,50000"));
  int rc = 0;
  for (std::string size; std::getline(sizes, size, ',');) {
    rc = std::max(rc, emporium::search::Run(std::stoul(size), modes, seconds, threads, vectors_root));
  }
  return rc;
}
