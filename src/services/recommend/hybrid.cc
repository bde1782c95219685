#include "services/recommend/hybrid.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "platform/core/pod_bytes.h"

namespace emporium::recommend {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

std::vector<float> LogPopularity(const TrainingSet& t) {
  std::vector<float> out(static_cast<size_t>(t.items));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = std::log1p(static_cast<float>(t.item_users.indptr[i + 1] - t.item_users.indptr[i]));
  return out;
}

Result<std::vector<std::unique_ptr<Generator>>> FitAll(const std::vector<std::string>& names,
                                                       const GeneratorFactory& make, const TrainingSet& t) {
  std::vector<std::unique_ptr<Generator>> out;
  for (const std::string& n : names) {
    std::unique_ptr<Generator> g = make(n);
    if (!g) return InvalidArgument("unknown generator '" + n + "'");
    if (Status s = g->Fit(t); !s.ok()) return Status(s.code(), n + ": " + s.message());
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<const Generator*> Pointers(const std::vector<std::unique_ptr<Generator>>& generators) {
  std::vector<const Generator*> out;
  for (const auto& g : generators) out.push_back(g.get());
  return out;
}

// Little-endian fields of a saved ranker.
constexpr std::string_view kRankerMagic = "EMPRANK1";
using bytes::Put;
using bytes::Take;

// A booster whose predictions run on the calling thread: Train's predict on its training
// threads, which would be a thread team per request in serving.
Result<std::unique_ptr<ml::Booster>> SingleThreaded(const ml::Booster& b) {
  EMP_ASSIGN_OR_RETURN(std::string bytes, b.Save());
  return ml::Booster::Load(bytes, 1);
}

}  // namespace

// Shallow, heavily regularised trees: on MovieLens (579 training users) depth 6 and 150 rounds
// overfit (NDCG@10 0.355 against 0.387 with these; docs/recommend.md).
HybridOptions DefaultHybridOptions() {
  HybridOptions o;
  o.trees.objective = "rank:ndcg";
  o.trees.eval_metric = "ndcg@10";
  o.trees.rounds = 100;
  o.trees.max_depth = 2;
  o.trees.eta = 0.1;
  o.trees.subsample = 0.8;
  o.trees.colsample_bytree = 0.9;
  o.trees.min_child_weight = 50;
  o.trees.extra = {{"tree_method", "hist"}};
  return o;
}

std::vector<std::string> HybridFeatureNames(const std::vector<std::string>& generators) {
  std::vector<std::string> out;
  for (const std::string& g : generators) {
    out.push_back(g + "_rank");
    out.push_back(g + "_score");
  }
  out.insert(out.end(), {"proposed_by", "item_popularity", "user_history"});
  return out;
}

CandidateRows Candidates(std::span<const Generator* const> generators, std::span<const float> popularity,
                         const History& h, size_t per_generator, std::span<const int32_t> exclude) {
  const size_t g_count = generators.size();
  const size_t cols = 2 * g_count + 3;
  CandidateRows out;
  std::unordered_map<int32_t, size_t> row_of;
  for (size_t g = 0; g < g_count; ++g) {
    const std::vector<Scored> list = generators[g]->Recommend(h, per_generator, exclude);
    const float best = list.empty() ? 0 : list.front().score;
    for (size_t r = 0; r < list.size(); ++r) {
      auto [it, added] = row_of.emplace(list[r].item, out.items.size());
      if (added) {
        out.items.push_back(list[r].item);
        out.best.push_back(static_cast<uint8_t>(g));
        out.features.resize(out.features.size() + cols, kMissing);
        float* row = out.features.data() + it->second * cols;
        row[2 * g_count] = 0;
        const auto item = static_cast<size_t>(list[r].item);
        row[2 * g_count + 1] = item < popularity.size() ? popularity[item] : 0;
        row[2 * g_count + 2] = std::log1p(static_cast<float>(h.items.size()));
      }
      float* row = out.features.data() + it->second * cols;
      const auto rank = static_cast<float>(r + 1);
      if (!added && rank < row[2 * out.best[it->second]]) out.best[it->second] = static_cast<uint8_t>(g);
      row[2 * g] = rank;
      row[2 * g + 1] = best != 0 ? list[r].score / best : 0;
      row[2 * g_count] += 1;
    }
  }
  return out;
}

Result<std::unique_ptr<Ranker>> Ranker::Fit(const std::vector<Interaction>& rows, const TrainingSet& all,
                                            double half_life_days, const std::vector<std::string>& generators,
                                            const GeneratorFactory& make, const HybridOptions& options) {
  if (generators.empty()) return InvalidArgument("the hybrid needs at least one generator");
  if (generators.size() > 255) return InvalidArgument("the hybrid takes at most 255 generators");
  const int32_t users = all.users;
  const Split inner = SplitPerUser(rows, users, options.inner_share, options.seed);
  EMP_ASSIGN_OR_RETURN(TrainingSet inner_set, MakeTrainingSet(inner.train, users, all.items, half_life_days));
  if (options.trees.stop.stop_requested()) return Cancelled("training stopped");
  EMP_ASSIGN_OR_RETURN(auto inner_generators, FitAll(generators, make, inner_set));
  if (options.trees.stop.stop_requested()) return Cancelled("training stopped");
  const std::vector<const Generator*> inner_pointers = Pointers(inner_generators);
  const std::vector<float> inner_popularity = LogPopularity(inner_set);

  std::vector<std::unordered_set<int32_t>> held(static_cast<size_t>(users));
  for (const Interaction& r : inner.test) held[static_cast<size_t>(r.user)].insert(r.item);
  std::vector<int32_t> group_users;
  for (int32_t u = 0; u < users; ++u)
    if (!held[static_cast<size_t>(u)].empty()) group_users.push_back(u);
  if (group_users.size() > options.max_training_users) {
    // An even spread over the users (deterministic), not the first ones.
    std::vector<int32_t> sampled;
    const double step =
        static_cast<double>(group_users.size()) / static_cast<double>(options.max_training_users);
    for (size_t n = 0; n < options.max_training_users; ++n)
      sampled.push_back(group_users[static_cast<size_t>(static_cast<double>(n) * step)]);
    group_users = std::move(sampled);
  }

  // Each user's candidates cost what a request does (ALS's scan over every item), so in parallel.
  std::vector<CandidateRows> candidates(group_users.size());
  {
    std::atomic<size_t> next{0};
    const auto work = [&] {
      for (size_t n; (n = next.fetch_add(1)) < group_users.size() && !options.trees.stop.stop_requested();) {
        const History& h = inner_set.histories[static_cast<size_t>(group_users[n])];
        candidates[n] = Candidates(inner_pointers, inner_popularity, h, options.candidates, h.items);
      }
    };
    std::vector<std::jthread> pool;
    for (int t = 1; t < options.threads; ++t) pool.emplace_back(work);
    work();
  }
  if (options.trees.stop.stop_requested()) return Cancelled("training stopped");

  ml::Dataset data;
  data.feature_names = HybridFeatureNames(generators);
  data.cols = data.feature_names.size();
  for (size_t g = 0; g < group_users.size(); ++g) {
    const int32_t u = group_users[g];
    const CandidateRows& c = candidates[g];
    size_t positives = 0;
    for (int32_t item : c.items) positives += held[static_cast<size_t>(u)].count(item);
    if (positives == 0 || positives == c.items.size()) continue;  // nothing to order
    for (size_t n = 0; n < c.items.size(); ++n) {
      const float label = held[static_cast<size_t>(u)].count(c.items[n]) ? 1.0f : 0.0f;
      EMP_RETURN_IF_ERROR(data.AddRow(std::span(c.features).subspan(n * data.cols, data.cols), label));
    }
    data.groups.push_back(static_cast<uint32_t>(c.items.size()));
  }
  if (data.groups.empty()) return FailedPrecondition("no user has a held-back item among the candidates");

  auto r = std::unique_ptr<Ranker>(new Ranker());
  r->generators_ = generators;
  r->candidates_ = options.candidates;
  r->training_rows_ = data.rows();
  r->training_groups_ = data.groups.size();
  EMP_ASSIGN_OR_RETURN(auto trained, ml::Booster::Train(data, nullptr, options.trees));
  EMP_ASSIGN_OR_RETURN(r->booster_, SingleThreaded(*trained));
  r->popularity_ = LogPopularity(all);
  return r;
}

Result<std::string> Ranker::Save() const {
  EMP_ASSIGN_OR_RETURN(std::string trees, booster_->Save());
  std::string out(kRankerMagic);
  Put<uint64_t>(out, candidates_);
  Put<uint64_t>(out, training_rows_);
  Put<uint64_t>(out, training_groups_);
  Put<uint32_t>(out, static_cast<uint32_t>(generators_.size()));
  for (const std::string& g : generators_) {
    Put<uint32_t>(out, static_cast<uint32_t>(g.size()));
    out += g;
  }
  Put<uint64_t>(out, popularity_.size());
  for (float v : popularity_) Put(out, v);
  out += trees;
  return out;
}

Result<std::unique_ptr<Ranker>> Ranker::Load(std::string_view in) {
  const auto damaged = [] { return InvalidArgument("damaged ranker model"); };
  if (!in.starts_with(kRankerMagic)) return damaged();
  in.remove_prefix(kRankerMagic.size());
  auto r = std::unique_ptr<Ranker>(new Ranker());
  uint64_t candidates = 0, rows = 0, groups = 0, popularity = 0;
  uint32_t count = 0;
  if (!Take(in, &candidates) || !Take(in, &rows) || !Take(in, &groups) || !Take(in, &count) || count == 0 ||
      count > 255)
    return damaged();
  for (uint32_t n = 0; n < count; ++n) {
    uint32_t size = 0;
    if (!Take(in, &size) || in.size() < size) return damaged();
    r->generators_.emplace_back(in.substr(0, size));
    in.remove_prefix(size);
  }
  if (!Take(in, &popularity) || in.size() / sizeof(float) < popularity) return damaged();
  r->popularity_.resize(popularity);
  for (float& v : r->popularity_) Take(in, &v);
  r->candidates_ = candidates;
  r->training_rows_ = rows;
  r->training_groups_ = groups;
  EMP_ASSIGN_OR_RETURN(r->booster_, ml::Booster::Load(in, 1));
  if (r->booster_->num_features() != HybridFeatureNames(r->generators_).size())
    return InvalidArgument("the ranker's trees do not fit its generators");
  return r;
}

Result<std::vector<float>> Ranker::Score(const CandidateRows& rows) const {
  return booster_->Predict(rows.features);
}

Result<std::unique_ptr<Hybrid>> Hybrid::Fit(const std::vector<Interaction>& rows, int32_t users,
                                            int32_t items, double half_life_days,
                                            const std::vector<std::string>& generators, const Factory& make,
                                            const HybridOptions& options) {
  auto h = std::unique_ptr<Hybrid>(new Hybrid());
  EMP_ASSIGN_OR_RETURN(h->training_, MakeTrainingSet(rows, users, items, half_life_days));
  EMP_ASSIGN_OR_RETURN(h->ranker_,
                       Ranker::Fit(rows, h->training_, half_life_days, generators, make, options));
  EMP_ASSIGN_OR_RETURN(h->generators_, FitAll(generators, make, h->training_));
  h->serving_ = Pointers(h->generators_);
  return h;
}

std::vector<Scored> Hybrid::Recommend(const History& h, size_t k, std::span<const int32_t> exclude) const {
  CandidateRows c = Candidates(serving_, ranker_->popularity(), h, ranker_->candidates(), exclude);
  std::vector<Scored> out;
  if (c.items.empty()) return out;
  auto scores = ranker_->Score(c);
  if (!scores.ok()) return out;
  out.reserve(c.items.size());
  for (size_t n = 0; n < c.items.size(); ++n) out.push_back({c.items[n], (*scores)[n]});
  const size_t keep = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(keep), out.end(),
                    [](const Scored& a, const Scored& b) {
                      return a.score > b.score || (a.score == b.score && a.item < b.item);
                    });
  out.resize(keep);
  return out;
}

}  // namespace emporium::recommend
