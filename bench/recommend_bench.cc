// Recommendation benchmark, two modes; one JSON line per figure (bench/recommend.sh).
//
// --mode=als: fits ml::AlsModel on MovieLens ratings (--interactions=ratings.csv, every rating an
// implicit interaction of strength 1) or on a synthetic users × items matrix (Zipf over items,
// log-normal activity over users), timing every iteration through the progress callback:
//   {"bench":"recommend_als","impl":"emporium","data":..,"users":..,"items":..,"nnz":..,
//    "factors":..,"threads":..,"iterations":..,"seconds_per_iteration":median,"first_iteration_s":..}
// --write-matrix=PATH saves the matrix the model was fitted on, so that the reference
// (bench/recommend_compare.py) trains on exactly the same one. Little-endian binary:
//   "EMPCSR01", int32 rows, int32 cols, int64 nnz, int64 indptr[rows + 1], int32 indices[nnz],
//   float32 values[nnz] (raw strengths r; the confidence is 1 + alpha r).
//
// --mode=serve: a recommend::Graph with a synthetic catalog (categories, all in stock) and
// synthetic interactions (Zipf items; every user favours two categories, so cooccur and ALS find
// structure), the models of TrainModels(DefaultModelOptions()), then Recommender::Recommend for
// random existing users (home, limit 10; 10% product pages; --strategy fused, ranked or
// popularity, reported as the strategy that served) in an open loop: request i is due at
// start + i / rate, two workers take the requests in order, and latency counts from the due time,
// so time spent queued behind a slow request is measured (no coordinated omission).
//   {"bench":"recommend_serve","strategy":..,"items":..,"users":..,"rate":..,"achieved_rps":..,
//    "p50_ms":..,"p99_ms":..,"p999_ms":..,"max_ms":..,"train_s":..,"ranker_s":..}
// Before the load, --breakdown=N requests one at a time split Recommend's cost into its stages
// ({"bench":"recommend_serve_breakdown",...}, mean microseconds); --latencies-out=CSV keeps every
// request's latency and service time (-1: dropped) to see when the slow ones happened.
//
// Usage:
//   recommend_bench --mode=als (--interactions=FILE | --synthetic-users=N --synthetic-items=M
//                   --synthetic-nnz=K) [--factors=64] [--iterations=10] [--threads=2]
//                   [--regularization=30] [--alpha=3] [--seed=42] [--write-matrix=PATH] [--label=S]
//   recommend_bench --mode=serve [--items=50000] [--users=100000] [--interactions-per-user=20]
//                   [--rate=1000] [--seconds=10] [--seed=42] [--breakdown=300] [--latencies-out=CSV]
//                   [--strategy=fused]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/mf/als.h"
#include "services/recommend/graph.h"
#include "services/recommend/interactions.h"
#include "services/recommend/recommender.h"

namespace emporium::recommend {
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

double SecondsSince(SteadyClock::time_point since) {
  return std::chrono::duration<double>(SteadyClock::now() - since).count();
}

double Unit(Xoshiro256& rng) {
  return static_cast<double>(rng.Next() >> 11) * 0x1.0p-53;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Ranks 0..n-1 with P(rank) ∝ 1 / (rank + 1)^s.
class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t r = 0; r < n; ++r) cdf_[r] = sum += 1.0 / std::pow(static_cast<double>(r + 1), s);
    for (double& c : cdf_) c /= sum;
  }
  size_t Sample(Xoshiro256& rng) const {
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), Unit(rng));
    return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

// A random permutation of 0..n-1: popularity rank → item, so popular items are spread over ids.
std::vector<int32_t> Shuffled(int32_t n, Xoshiro256& rng) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[rng.Next() % i]);
  return p;
}

// A strength as the graph weighs signals: mostly views (1), some carts (3) and purchases (5).
float Strength(Xoshiro256& rng) {
  const double u = Unit(rng);
  return u < 0.85 ? 1.0f : u < 0.95 ? 3.0f : 5.0f;
}

// users × items with about nnz distinct entries: per-user counts log-normal (σ = 1) scaled to the
// total, items Zipf (s = 1) over a shuffled popularity order. Deterministic in seed.
Result<ml::CsrMatrix> SyntheticMatrix(int32_t users, int32_t items, int64_t nnz, uint64_t seed) {
  if (users <= 0 || items <= 0 || nnz <= 0) return InvalidArgument("synthetic sizes must be > 0");
  Xoshiro256 rng(seed);
  const std::vector<int32_t> item_of_rank = Shuffled(items, rng);
  const Zipf zipf(static_cast<size_t>(items), 1.0);
  std::vector<double> activity(static_cast<size_t>(users));
  double total = 0;
  for (double& a : activity) {
    const double z = std::sqrt(-2 * std::log(1 - Unit(rng))) * std::cos(2 * std::numbers::pi * Unit(rng));
    total += a = std::exp(z);
  }
  std::vector<int32_t> rows, cols;
  std::vector<float> values;
  rows.reserve(static_cast<size_t>(nnz) + static_cast<size_t>(users));
  cols.reserve(rows.capacity());
  values.reserve(rows.capacity());
  std::vector<int32_t> seen(static_cast<size_t>(items), -1);
  const int64_t cap = std::max<int64_t>(1, items / 4);
  for (int32_t u = 0; u < users; ++u) {
    const int64_t want = std::clamp<int64_t>(
        std::llround(static_cast<double>(nnz) * activity[static_cast<size_t>(u)] / total), 1, cap);
    int64_t got = 0;
    for (int64_t attempt = 0; got < want && attempt < 50 * want; ++attempt) {
      const int32_t item = item_of_rank[zipf.Sample(rng)];
      if (seen[static_cast<size_t>(item)] == u) continue;
      seen[static_cast<size_t>(item)] = u;
      rows.push_back(u);
      cols.push_back(item);
      values.push_back(Strength(rng));
      ++got;
    }
  }
  return ml::CsrMatrix::FromTriplets(users, items, rows, cols, values);
}

Status WriteMatrix(const std::filesystem::path& path, const ml::CsrMatrix& m) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return InvalidArgument("cannot write " + path.string());
  const int64_t nnz = m.nnz();
  out.write("EMPCSR01", 8);
  out.write(reinterpret_cast<const char*>(&m.rows), sizeof m.rows);
  out.write(reinterpret_cast<const char*>(&m.cols), sizeof m.cols);
  out.write(reinterpret_cast<const char*>(&nnz), sizeof nnz);
  out.write(reinterpret_cast<const char*>(m.indptr.data()),
            static_cast<std::streamsize>(m.indptr.size() * sizeof(int64_t)));
  out.write(reinterpret_cast<const char*>(m.indices.data()),
            static_cast<std::streamsize>(m.indices.size() * sizeof(int32_t)));
  out.write(reinterpret_cast<const char*>(m.values.data()),
            static_cast<std::streamsize>(m.values.size() * sizeof(float)));
  out.close();
  if (!out) return InvalidArgument("cannot write " + path.string());
  return Status::Ok();
}

int RunAls(int argc, char** argv) {
  const std::string file = Flag(argc, argv, "interactions", "");
  const uint64_t seed = std::stoull(Flag(argc, argv, "seed", "42"));
  ml::CsrMatrix m;
  std::string data = Flag(argc, argv, "label", "");
  if (!file.empty()) {
    auto read = ReadInteractionsCsv(file);
    if (!read.ok()) {
      std::fprintf(stderr, "recommend_bench: %s\n", read.status().ToString().c_str());
      return 1;
    }
    auto matrix = UserItemMatrix(read->rows, read->users(), read->items());
    if (!matrix.ok()) {
      std::fprintf(stderr, "recommend_bench: %s\n", matrix.status().ToString().c_str());
      return 1;
    }
    m = std::move(matrix).value();
    if (data.empty()) data = std::filesystem::path(file).parent_path().filename().string();
  } else {
    const int32_t users = std::stoi(Flag(argc, argv, "synthetic-users", "100000"));
    const int32_t items = std::stoi(Flag(argc, argv, "synthetic-items", "50000"));
    const int64_t nnz = std::stoll(Flag(argc, argv, "synthetic-nnz", "5000000"));
    const auto started = SteadyClock::now();
    auto matrix = SyntheticMatrix(users, items, nnz, seed);
    if (!matrix.ok()) {
      std::fprintf(stderr, "recommend_bench: %s\n", matrix.status().ToString().c_str());
      return 1;
    }
    m = std::move(matrix).value();
    std::fprintf(stderr, "recommend_bench: synthetic %d x %d, %lld nonzeros in %.1f s\n", m.rows, m.cols,
                 static_cast<long long>(m.nnz()), SecondsSince(started));
    if (data.empty()) data = "synthetic";
  }
  if (const std::string out = Flag(argc, argv, "write-matrix", ""); !out.empty()) {
    if (Status s = WriteMatrix(out, m); !s.ok()) {
      std::fprintf(stderr, "recommend_bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }

  ml::AlsOptions o;
  o.factors = std::stoi(Flag(argc, argv, "factors", "64"));
  o.iterations = std::stoi(Flag(argc, argv, "iterations", "10"));
  o.threads = std::stoi(Flag(argc, argv, "threads", "2"));
  o.regularization = std::stof(Flag(argc, argv, "regularization", "30"));
  o.alpha = std::stof(Flag(argc, argv, "alpha", "3"));
  o.seed = seed;
  std::vector<double> per_iteration;
  const auto started = SteadyClock::now();
  auto model = ml::AlsModel::Fit(m, o, [&](int, double seconds) { per_iteration.push_back(seconds); });
  const double fit_s = SecondsSince(started);
  if (!model.ok()) {
    std::fprintf(stderr, "recommend_bench: %s\n", model.status().ToString().c_str());
    return 1;
  }
  auto loss = model->Loss(m);
  std::printf(
      "{\"bench\":\"recommend_als\",\"impl\":\"emporium\",\"data\":\"%s\",\"users\":%d,\"items\":%d,"
      "\"nnz\":%lld,\"factors\":%d,\"threads\":%d,\"iterations\":%d,\"seconds_per_iteration\":%.4f,"
      "\"first_iteration_s\":%.4f,\"fit_s\":%.3f,\"loss\":%.6g}\n",
      data.c_str(), m.rows, m.cols, static_cast<long long>(m.nnz()), o.factors, o.threads, o.iterations,
      Median(per_iteration), per_iteration.empty() ? 0.0 : per_iteration.front(), fit_s,
      loss.ok() ? *loss : std::nan(""));
  std::fflush(stdout);
  return 0;
}

constexpr int kCategories = 40;

struct World {
  int32_t items = 0, users = 0;
  std::vector<int32_t> item_of_rank;  // global popularity order
};

std::string ItemId(int32_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p-%06d", i);
  return buf;
}
std::string UserId(int32_t u) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "user:u-%06d", u);
  return buf;
}

// The catalog (item i in category i % kCategories) and every user's interactions: 80% in one of
// the user's two favourite categories (Zipf within it), the rest Zipf over everything; signals
// mostly views, times spread over the last 60 days.
World Populate(Graph& graph, int32_t items, int32_t users, int per_user, uint64_t seed) {
  Xoshiro256 rng(seed);
  World w{items, users, Shuffled(items, rng)};
  for (int32_t i = 0; i < items; ++i) {
    graph.SetFacts(ItemFacts{.id = ItemId(i),
                             .title = "Product " + std::to_string(i),
                             .category = "c-" + std::to_string(i % kCategories),
                             .brand = "brand-" + std::to_string(i % 97),
                             .price = 500 + static_cast<int64_t>(rng.Next() % 50000),
                             .in_stock = true});
  }
  std::vector<std::vector<int32_t>> by_category(kCategories);  // popularity order within
  for (int32_t item : w.item_of_rank) by_category[static_cast<size_t>(item % kCategories)].push_back(item);
  const Zipf global(static_cast<size_t>(items), 1.0);
  const Zipf within(by_category[kCategories - 1].size(), 1.0);
  constexpr int64_t kNowMs = 1'780'000'000'000;
  constexpr int64_t kSpanMs = 60LL * 86'400'000;
  constexpr Signal kSignals[] = {Signal::kView, Signal::kClick, Signal::kWishlist, Signal::kCart,
                                 Signal::kPurchase};
  std::vector<LiveInteraction> batch;
  for (int32_t u = 0; u < users; ++u) {
    const size_t favourite[2] = {rng.Next() % kCategories, rng.Next() % kCategories};
    const std::string subject = UserId(u);
    for (int n = 0; n < per_user; ++n) {
      int32_t item;
      if (Unit(rng) < 0.8) {
        const auto& pool = by_category[favourite[rng.Next() % 2]];
        item = pool[std::min(within.Sample(rng), pool.size() - 1)];
      } else {
        item = w.item_of_rank[global.Sample(rng)];
      }
      const double s = Unit(rng);
      const Signal signal = kSignals[s < 0.8 ? 0 : s < 0.9 ? 1 : s < 0.94 ? 2 : s < 0.98 ? 3 : 4];
      batch.push_back(LiveInteraction{subject, ItemId(item), signal,
                                      kNowMs - static_cast<int64_t>(rng.Next() % kSpanMs)});
    }
    if (batch.size() >= 10000) {
      graph.Add(batch);
      batch.clear();
    }
  }
  graph.Add(batch);
  return w;
}

std::vector<RecommendRequest> Requests(const World& w, size_t n, uint64_t seed, Strategy strategy) {
  Xoshiro256 rng(seed);
  const Zipf popular(static_cast<size_t>(w.items), 1.0);
  std::vector<RecommendRequest> out(n);
  for (RecommendRequest& r : out) {
    r.subject = UserId(static_cast<int32_t>(rng.Next() % static_cast<uint64_t>(w.users)));
    r.limit = 10;
    r.strategy = strategy;
    if (rng.Next() % 10 == 0) {
      r.placement = Placement::kProduct;
      r.product_ids = {ItemId(w.item_of_rank[popular.Sample(rng)])};
    }
  }
  return out;
}

// Recommend's stages one request at a time (home placement): the history, each generator's 100
// candidates, the whole call, and ALS's fold-in and top-k apart on `probe`; with a ranker also
// popularity's 50, the ranker's candidate rows (all its generators) and the trees' scoring of
// them; mean microseconds.
void Breakdown(const Graph& graph, const Models& models, const ml::AlsModel& probe, const Recommender& rec,
               const std::vector<RecommendRequest>& requests, size_t samples) {
  if (!models.cooccur || !models.als) return;
  double history_us = 0, cooccur_us = 0, als_us = 0, foldin_us = 0, topk_us = 0, recommend_us = 0;
  double popularity_us = 0, candidates_us = 0, score_us = 0;
  std::vector<const Generator*> ranked;
  if (models.ranker)
    for (const std::string& name : models.ranker->generators())
      ranked.push_back(name == "cooccur" ? models.cooccur.get()
                       : name == "als"   ? models.als.get()
                                         : models.popularity.get());
  size_t n = 0;
  const auto us = [](SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
  };
  for (const RecommendRequest& r : requests) {
    if (n >= samples) break;
    if (r.placement != Placement::kHome) continue;
    const auto t0 = SteadyClock::now();
    const History h = graph.HistoryOf(r.subject, 30);
    const auto t1 = SteadyClock::now();
    const auto c = models.cooccur->Recommend(h, 100, h.items);
    const auto t2 = SteadyClock::now();
    const auto a = models.als->Recommend(h, 100, h.items);
    const auto t3 = SteadyClock::now();
    const Recommendations out = rec.Recommend(r);
    const auto t4 = SteadyClock::now();
    auto x = probe.FoldIn(h.items, h.weights);
    const auto t5 = SteadyClock::now();
    if (!x.ok()) continue;
    const auto top = probe.TopK(*x, 100, h.items);
    const auto t6 = SteadyClock::now();
    const auto p = models.popularity->Recommend(h, 50, h.items);
    const auto t7 = SteadyClock::now();
    CandidateRows rows;
    if (models.ranker)
      rows = Candidates(ranked, models.ranker->side(), h, {}, models.ranker->candidates(), h.items);
    const auto t8 = SteadyClock::now();
    if (models.ranker && !models.ranker->Score(rows).ok()) continue;
    const auto t9 = SteadyClock::now();
    if (c.empty() || a.empty() || out.items.empty() || top.empty() || p.empty()) continue;
    popularity_us += us(t6, t7);
    candidates_us += us(t7, t8);
    score_us += us(t8, t9);
    history_us += us(t0, t1);
    cooccur_us += us(t1, t2);
    als_us += us(t2, t3);
    recommend_us += us(t3, t4);
    foldin_us += us(t4, t5);
    topk_us += us(t5, t6);
    ++n;
  }
  if (n == 0) return;
  const double k = static_cast<double>(n);
  std::printf(
      "{\"bench\":\"recommend_serve_breakdown\",\"samples\":%zu,\"history_us\":%.0f,\"cooccur_us\":%.0f,"
      "\"als_us\":%.0f,\"als_foldin_us\":%.0f,\"als_topk_us\":%.0f,\"popularity_us\":%.0f,"
      "\"ranker_candidates_us\":%.0f,\"ranker_score_us\":%.0f,\"recommend_us\":%.0f,\"rest_us\":%.0f}\n",
      n, history_us / k, cooccur_us / k, als_us / k, foldin_us / k, topk_us / k, popularity_us / k,
      candidates_us / k, score_us / k, recommend_us / k,
      (recommend_us - history_us - cooccur_us - als_us) / k);
  std::fflush(stdout);
}

int RunServe(int argc, char** argv) {
  const int32_t items = std::stoi(Flag(argc, argv, "items", "50000"));
  const int32_t users = std::stoi(Flag(argc, argv, "users", "100000"));
  const int per_user = std::stoi(Flag(argc, argv, "interactions-per-user", "20"));
  const double rate = std::stod(Flag(argc, argv, "rate", "1000"));
  const double seconds = std::stod(Flag(argc, argv, "seconds", "10"));
  const uint64_t seed = std::stoull(Flag(argc, argv, "seed", "42"));
  const size_t breakdown = std::stoul(Flag(argc, argv, "breakdown", "300"));
  const auto strategy = StrategyOf(Flag(argc, argv, "strategy", "fused"));
  constexpr int kWorkers = 2;
  if (!strategy) {
    std::fprintf(stderr, "recommend_bench: --strategy is fused, ranked or popularity\n");
    return 2;
  }
  if (items < kCategories || users < 1 || per_user < 1 || rate <= 0 || seconds <= 0) {
    std::fprintf(stderr, "recommend_bench: --items must be ≥ %d; users, rate and seconds > 0\n", kCategories);
    return 2;
  }

  Graph graph;
  auto started = SteadyClock::now();
  const World world = Populate(graph, items, users, per_user, seed);
  std::fprintf(stderr, "recommend_bench: graph of %zu interactions in %.1f s; training\n",
               graph.interactions(), SecondsSince(started));
  started = SteadyClock::now();
  auto models = TrainModels(graph.Snapshot(), DefaultModelOptions());
  const double train_wall_s = SecondsSince(started);
  if (!models.ok()) {
    std::fprintf(stderr, "recommend_bench: %s\n", models.status().ToString().c_str());
    return 1;
  }
  Recommender rec(graph);
  rec.Swap(*models);

  const size_t total = static_cast<size_t>(std::llround(rate * seconds));
  const std::vector<RecommendRequest> requests = Requests(world, total, seed + 1, *strategy);
  // What serves them: kRanked is kFused when the models have no ranker.
  const Strategy served = requests.empty() ? *strategy : rec.Recommend(requests.front()).strategy;
  if (breakdown > 0) {
    // ALS's two steps apart, on a model of the same shape (random factors: the cost is the same).
    const GraphSnapshot snapshot = graph.Snapshot();
    ml::AlsOptions probe_options = DefaultModelOptions().als;
    probe_options.iterations = 0;
    if (auto matrix = UserItemMatrix(snapshot.rows, snapshot.users, snapshot.items); matrix.ok())
      if (auto probe = ml::AlsModel::Fit(*matrix, probe_options); probe.ok())
        Breakdown(graph, **models, *probe, rec, requests, breakdown);
  }

  // Open loop: request i is due at start + i / rate; past 3× the planned duration the rest are
  // dropped (counted), so an overloaded run still ends.
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto start = SteadyClock::now() + std::chrono::milliseconds(20);
  const auto give_up = start + std::chrono::duration<double>(3 * seconds);
  std::atomic<size_t> next{0}, dropped{0}, short_lists{0};
  std::vector<std::vector<double>> latency(kWorkers), service(kWorkers);
  // By request, for --latencies-out.
  std::vector<float> request_latency(total, -1), request_service(total, -1);
  std::vector<SteadyClock::time_point> finished(kWorkers, start);
  std::vector<std::thread> pool;
  for (int t = 0; t < kWorkers; ++t) {
    pool.emplace_back([&, t] {
      auto& lat = latency[static_cast<size_t>(t)];
      auto& svc = service[static_cast<size_t>(t)];
      lat.reserve(total / kWorkers + 1);
      svc.reserve(total / kWorkers + 1);
      while (true) {
        const size_t i = next.fetch_add(1);
        if (i >= total) break;
        const auto due =
            start + std::chrono::duration_cast<SteadyClock::duration>(interval * static_cast<double>(i));
        if (SteadyClock::now() < due) std::this_thread::sleep_until(due);
        const auto began = SteadyClock::now();
        if (began > give_up) {
          dropped.fetch_add(1);
          continue;
        }
        const Recommendations r = rec.Recommend(requests[i]);
        const auto done = SteadyClock::now();
        if (r.items.size() < requests[i].limit) short_lists.fetch_add(1);
        lat.push_back(std::chrono::duration<double, std::milli>(done - due).count());
        svc.push_back(std::chrono::duration<double, std::milli>(done - began).count());
        request_latency[i] = static_cast<float>(lat.back());
        request_service[i] = static_cast<float>(svc.back());
        finished[static_cast<size_t>(t)] = done;
      }
    });
  }
  for (auto& th : pool) th.join();
  if (const std::string out = Flag(argc, argv, "latencies-out", ""); !out.empty()) {
    std::ofstream csv(out, std::ios::trunc);
    csv << "request,due_ms,placement,latency_ms,service_ms\n";
    for (size_t i = 0; i < total; ++i)
      csv << i << ',' << static_cast<double>(i) * 1000 / rate << ',' << PlacementName(requests[i].placement)
          << ',' << request_latency[i] << ',' << request_service[i] << '\n';
  }
  const std::vector<double> all = bench::SortedSamples(latency);
  const std::vector<double> work = bench::SortedSamples(service);
  const auto last = *std::max_element(finished.begin(), finished.end());
  const double elapsed = std::chrono::duration<double>(last - start).count();
  std::printf(
      "{\"bench\":\"recommend_serve\",\"strategy\":\"%s\",\"items\":%d,\"users\":%d,\"interactions\":%zu,"
      "\"rate\":%.0f,"
      "\"requests\":%zu,\"dropped\":%zu,\"short_lists\":%zu,\"achieved_rps\":%.0f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"p999_ms\":%.2f,\"max_ms\":%.2f,\"service_p50_ms\":%.2f,\"service_p99_ms\":%.2f,"
      "\"train_s\":%.1f,\"train_wall_s\":%.1f,\"ranker_s\":%.1f}\n",
      std::string(StrategyName(served)).c_str(), items, users, graph.interactions(), rate, all.size(),
      dropped.load(), short_lists.load(), elapsed > 0 ? static_cast<double>(all.size()) / elapsed : 0.0,
      bench::Percentile(all, 0.50), bench::Percentile(all, 0.99), bench::Percentile(all, 0.999),
      all.empty() ? 0.0 : all.back(), bench::Percentile(work, 0.50), bench::Percentile(work, 0.99),
      (*models)->seconds, train_wall_s, (*models)->ranker_seconds);
  std::fflush(stdout);
  return dropped.load() == 0 && !all.empty() ? 0 : 1;
}

}  // namespace
}  // namespace emporium::recommend

int main(int argc, char** argv) {
  const std::string mode = emporium::recommend::Flag(argc, argv, "mode", "");
  if (mode == "als") return emporium::recommend::RunAls(argc, argv);
  if (mode == "serve") return emporium::recommend::RunServe(argc, argv);
  std::fprintf(stderr, "usage: recommend_bench --mode=als|serve [flags] (see bench/recommend_bench.cc)\n");
  return 2;
}
