#include "services/recommend/offline.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>

#include "platform/ml/metrics/metrics.h"
#include "platform/ml/metrics/report.h"

namespace emporium::recommend {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

std::unique_ptr<Generator> MakeGenerator(const std::string& name, const OfflineOptions& o) {
  if (name == "popularity") return MakePopularity();
  if (name == "cooccur") return MakeCooccur(o.cooccur);
  if (name == "als") return MakeAls(o.als);
  if (name == "ease") return MakeEase(o.ease);
  if (name == "walk") return MakeWalk(o.walk);
  return nullptr;
}

OfflineOptions DefaultOfflineOptions() {
  OfflineOptions o;
  o.hybrid = DefaultHybridOptions();
  o.half_life_days = 0;
  o.cooccur.neighbours = 30;
  o.als.factors = 64;
  o.als.regularization = 30.0f;
  o.als.alpha = 3.0f;
  o.als.iterations = 15;
  o.als.threads = static_cast<int>(std::max(1u, std::min(std::thread::hardware_concurrency(), 8u)));
  return o;
}

Result<OfflineResult> EvaluateOffline(const Interactions& data, const OfflineOptions& options) {
  if (options.k < 1 || options.k > 1000) return InvalidArgument("k must be between 1 and 1000");
  if (!(options.train_share > 0 && options.train_share < 1))
    return InvalidArgument("train share must be in (0, 1)");
  std::vector<std::string> names = options.generators;
  if (names.empty()) names = {"popularity", "cooccur", "als", "ease", "walk"};
  for (const std::string& n : names)
    if (!MakeGenerator(n, options))
      return InvalidArgument("unknown generator '" + n + "' (popularity, cooccur, als, ease, walk)");

  const Split split = SplitPerUser(data, options.train_share, options.seed);
  EMP_ASSIGN_OR_RETURN(TrainingSet train,
                       MakeTrainingSet(split.train, data.users(), data.items(), options.half_life_days));
  std::vector<std::unordered_set<int64_t>> relevant(static_cast<size_t>(data.users()));
  for (const Interaction& r : split.test) relevant[static_cast<size_t>(r.user)].insert(r.item);
  std::vector<int32_t> scored;
  for (int32_t u = 0; u < data.users(); ++u)
    if (!relevant[static_cast<size_t>(u)].empty()) scored.push_back(u);

  OfflineResult result;
  result.users = static_cast<size_t>(data.users());
  result.items = static_cast<size_t>(data.items());
  result.train_rows = split.train.size();
  result.test_rows = split.test.size();
  result.scored_users = scored.size();
  const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  // Scores one recommender over the scored users (in parallel: Recommend is thread-safe).
  auto score = [&](GeneratorResult row, const auto& recommend) {
    std::vector<std::vector<int64_t>> ranked(scored.size());
    const auto rec_start = Clock::now();
    {
      std::vector<std::jthread> pool;
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t n; (n = next.fetch_add(1)) < scored.size();) {
          const History& h = train.histories[static_cast<size_t>(scored[n])];
          for (const Scored& s : recommend(h)) ranked[n].push_back(s.item);
        }
      };
      for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
      work();
    }
    row.recommend_ms =
        scored.empty() ? 0 : Seconds(rec_start) * 1000.0 * threads / static_cast<double>(scored.size());
    ml::RankingMetrics m(options.k, result.items);
    for (size_t n = 0; n < scored.size(); ++n) m.Add(ranked[n], relevant[static_cast<size_t>(scored[n])]);
    row.ndcg = m.ndcg();
    row.precision = m.precision();
    row.recall = m.recall();
    row.map = m.map();
    row.coverage = m.coverage();
    result.generators.push_back(std::move(row));
  };
  for (const std::string& name : names) {
    std::unique_ptr<Generator> g = MakeGenerator(name, options);
    const auto fit_start = Clock::now();
    if (Status s = g->Fit(train); !s.ok()) return Status(s.code(), name + ": " + s.message());
    score(GeneratorResult{.name = name, .fit_seconds = Seconds(fit_start)},
          [&](const History& h) { return g->Recommend(h, options.k, h.items); });
  }
  if (options.with_hybrid) {
    const auto fit_start = Clock::now();
    EMP_ASSIGN_OR_RETURN(
        auto hybrid, Hybrid::Fit(
                         split.train, data.users(), data.items(), options.half_life_days, names,
                         [&](const std::string& n) { return MakeGenerator(n, options); }, options.hybrid));
    result.hybrid_rows = hybrid->training_rows();
    result.hybrid_groups = hybrid->training_groups();
    score(GeneratorResult{.name = "hybrid", .fit_seconds = Seconds(fit_start)},
          [&](const History& h) { return hybrid->Recommend(h, options.k, h.items); });
  }
  return result;
}

Status RunOfflineEvalCommand(const std::filesystem::path& file, const OfflineOptions& options, bool json,
                             std::ostream& out) {
  EMP_ASSIGN_OR_RETURN(Interactions data, ReadInteractionsCsv(file));
  EMP_ASSIGN_OR_RETURN(OfflineResult r, EvaluateOffline(data, options));
  const std::string k = std::to_string(options.k);
  ml::Report report("recommend", file.filename().string() +
                                     ": every interaction as implicit feedback, seeded " +
                                     std::to_string(static_cast<int>(options.train_share * 100)) + "/" +
                                     std::to_string(100 - static_cast<int>(options.train_share * 100)) +
                                     " per-user split, top " + k + " without the user's training items");
  report.AddNote("users", std::to_string(r.users));
  report.AddNote("items", std::to_string(r.items));
  report.AddNote("train interactions", std::to_string(r.train_rows));
  report.AddNote("test interactions", std::to_string(r.test_rows));
  report.AddNote("scored users", std::to_string(r.scored_users));
  report.AddNote("seed", std::to_string(options.seed));
  if (options.with_hybrid) {
    report.AddNote("hybrid", "rank:ndcg trees over the top " + std::to_string(options.hybrid.candidates) +
                                 " of each generator, trained on an inner split of the train side (" +
                                 std::to_string(r.hybrid_groups) + " users, " +
                                 std::to_string(r.hybrid_rows) + " candidates)");
  }
  report.SetColumns({"NDCG@" + k, "P@" + k, "R@" + k, "MAP@" + k, "coverage", "fit s", "ms/user"});
  for (const GeneratorResult& g : r.generators)
    report.AddRow(g.name, {g.ndcg, g.precision, g.recall, g.map, g.coverage, g.fit_seconds, g.recommend_ms});
  report.Print(out, json);
  return Status::Ok();
}

}  // namespace emporium::recommend
