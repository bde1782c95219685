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
constexpr std::string_view kRankerMagic = "EMPRANK2";
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
  out.insert(out.end(),
             {"proposed_by", "item_popularity", "user_history", "item_log_price", "price_gap",
              "item_age_days", "item_idle_days", "category_share", "brand_share", "session_category_share"});
  return out;
}

ItemSide MakeItemSide(const std::vector<Interaction>& rows, const TrainingSet& t,
                      const ItemCatalog* catalog) {
  ItemSide side;
  side.popularity = LogPopularity(t);
  const size_t n = side.popularity.size();
  side.category.assign(n, -1);
  side.brand.assign(n, -1);
  side.log_price.assign(n, kMissing);
  side.age_days.assign(n, kMissing);
  side.idle_days.assign(n, kMissing);
  std::vector<int64_t> first(n, INT64_MAX), last(n, INT64_MIN);
  int64_t newest = INT64_MIN;
  for (const Interaction& r : rows) {
    const auto i = static_cast<size_t>(r.item);
    if (i >= n) continue;
    first[i] = std::min(first[i], r.at_ms);
    last[i] = std::max(last[i], r.at_ms);
    newest = std::max(newest, r.at_ms);
  }
  constexpr double kDayMs = 86'400'000.0;
  for (size_t i = 0; i < n; ++i) {
    if (last[i] == INT64_MIN) continue;
    side.age_days[i] = static_cast<float>(static_cast<double>(newest - first[i]) / kDayMs);
    side.idle_days[i] = static_cast<float>(static_cast<double>(newest - last[i]) / kDayMs);
  }
  if (!catalog) return side;
  const auto intern = [n](const std::vector<std::string>& names, std::vector<int32_t>& out) {
    std::unordered_map<std::string, int32_t> ids;
    for (size_t i = 0; i < n && i < names.size(); ++i)
      if (!names[i].empty()) out[i] = ids.emplace(names[i], static_cast<int32_t>(ids.size())).first->second;
  };
  intern(catalog->categories, side.category);
  intern(catalog->brands, side.brand);
  for (size_t i = 0; i < n && i < catalog->prices.size(); ++i)
    if (catalog->prices[i] > 0) side.log_price[i] = std::log(static_cast<float>(catalog->prices[i]));
  return side;
}

namespace {

// What a user's features need of the history and the session, once per user.
struct UserSide {
  std::unordered_map<int32_t, float> category, brand;  // affinity shares
  float mean_log_price = kMissing;
  std::unordered_map<int32_t, float> session_category;  // shares of the session's items
  bool has_catalog = false, has_session = false;
};

UserSide MakeUserSide(const ItemSide& side, const History& h, std::span<const int32_t> session) {
  UserSide u;
  float total = 0, priced = 0, price_sum = 0;
  for (size_t n = 0; n < h.items.size(); ++n) {
    const auto i = static_cast<size_t>(h.items[n]);
    if (i >= side.items()) continue;
    const float a = n < h.affinity.size() ? h.affinity[n] : 1.0f;
    total += a;
    if (side.category[i] >= 0) {
      u.category[side.category[i]] += a;
      u.has_catalog = true;
    }
    if (side.brand[i] >= 0) u.brand[side.brand[i]] += a;
    if (!std::isnan(side.log_price[i])) {
      priced += a;
      price_sum += a * side.log_price[i];
    }
  }
  if (total > 0) {
    for (auto& [c, a] : u.category) a /= total;
    for (auto& [b, a] : u.brand) a /= total;
  }
  if (priced > 0) u.mean_log_price = price_sum / priced;
  size_t known = 0;
  for (int32_t item : session) {
    const auto i = static_cast<size_t>(item);
    if (i >= side.items() || side.category[i] < 0) continue;
    u.session_category[side.category[i]] += 1;
    ++known;
  }
  if (known > 0) {
    u.has_session = true;
    for (auto& [c, a] : u.session_category) a /= static_cast<float>(known);
  }
  return u;
}

float Share(const std::unordered_map<int32_t, float>& shares, int32_t key) {
  auto it = shares.find(key);
  return it == shares.end() ? 0.0f : it->second;
}

}  // namespace

CandidateRows Candidates(std::span<const Generator* const> generators, const ItemSide& side, const History& h,
                         std::span<const int32_t> session, size_t per_generator,
                         std::span<const int32_t> exclude) {
  const size_t g_count = generators.size();
  const size_t base = 2 * g_count;  // proposed_by, then the item and user features
  const size_t cols = base + 10;
  const UserSide user = MakeUserSide(side, h, session);
  const float history = std::log1p(static_cast<float>(h.items.size()));
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
        row[base] = 0;
        row[base + 2] = history;
        const auto item = static_cast<size_t>(list[r].item);
        if (item < side.items()) {
          row[base + 1] = side.popularity[item];
          row[base + 3] = side.log_price[item];
          if (!std::isnan(side.log_price[item]) && !std::isnan(user.mean_log_price))
            row[base + 4] = std::abs(side.log_price[item] - user.mean_log_price);
          row[base + 5] = side.age_days[item];
          row[base + 6] = side.idle_days[item];
          if (user.has_catalog && side.category[item] >= 0)
            row[base + 7] = Share(user.category, side.category[item]);
          if (user.has_catalog && side.brand[item] >= 0) row[base + 8] = Share(user.brand, side.brand[item]);
          if (user.has_session && side.category[item] >= 0)
            row[base + 9] = Share(user.session_category, side.category[item]);
        } else {
          row[base + 1] = 0;
        }
      }
      float* row = out.features.data() + it->second * cols;
      const auto rank = static_cast<float>(r + 1);
      if (!added && rank < row[2 * out.best[it->second]]) out.best[it->second] = static_cast<uint8_t>(g);
      row[2 * g] = rank;
      row[2 * g + 1] = best != 0 ? list[r].score / best : 0;
      row[base] += 1;
    }
  }
  return out;
}

Result<std::unique_ptr<Ranker>> Ranker::Fit(const std::vector<Interaction>& rows, const TrainingSet& all,
                                            double half_life_days, const std::vector<std::string>& generators,
                                            const GeneratorFactory& make, const HybridOptions& options,
                                            const ItemCatalog* catalog) {
  if (generators.empty()) return InvalidArgument("the hybrid needs at least one generator");
  if (generators.size() > 255) return InvalidArgument("the hybrid takes at most 255 generators");
  const int32_t users = all.users;
  const Split inner = SplitPerUser(rows, users, options.inner_share, options.seed);
  EMP_ASSIGN_OR_RETURN(TrainingSet inner_set, MakeTrainingSet(inner.train, users, all.items, half_life_days));
  if (options.trees.stop.stop_requested()) return Cancelled("training stopped");
  EMP_ASSIGN_OR_RETURN(auto inner_generators, FitAll(generators, make, inner_set));
  if (options.trees.stop.stop_requested()) return Cancelled("training stopped");
  const std::vector<const Generator*> inner_pointers = Pointers(inner_generators);
  const ItemSide inner_side = MakeItemSide(inner.train, inner_set, catalog);

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

  // Each group user's latest session on the inner side (as serving knows the shopper's).
  std::vector<std::vector<Interaction>> by_user(static_cast<size_t>(users));
  for (const Interaction& r : inner.train) by_user[static_cast<size_t>(r.user)].push_back(r);

  // Each user's candidates cost what a request does (ALS's scan over every item), so in parallel.
  std::vector<CandidateRows> candidates(group_users.size());
  {
    std::atomic<size_t> next{0};
    const auto work = [&] {
      for (size_t n; (n = next.fetch_add(1)) < group_users.size() && !options.trees.stop.stop_requested();) {
        const History& h = inner_set.histories[static_cast<size_t>(group_users[n])];
        const std::vector<int32_t> session = LatestSession(by_user[static_cast<size_t>(group_users[n])]);
        candidates[n] = Candidates(inner_pointers, inner_side, h, session, options.candidates, h.items);
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
  r->side_ = MakeItemSide(rows, all, catalog);
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
  Put<uint64_t>(out, side_.items());
  for (size_t i = 0; i < side_.items(); ++i) {
    Put(out, side_.popularity[i]);
    Put(out, side_.category[i]);
    Put(out, side_.brand[i]);
    Put(out, side_.log_price[i]);
    Put(out, side_.age_days[i]);
    Put(out, side_.idle_days[i]);
  }
  out += trees;
  return out;
}

Result<std::unique_ptr<Ranker>> Ranker::Load(std::string_view in) {
  const auto damaged = [] { return InvalidArgument("damaged ranker model"); };
  if (!in.starts_with(kRankerMagic)) return damaged();
  in.remove_prefix(kRankerMagic.size());
  auto r = std::unique_ptr<Ranker>(new Ranker());
  uint64_t candidates = 0, rows = 0, groups = 0, items = 0;
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
  constexpr size_t kPerItem = 4 * sizeof(float) + 2 * sizeof(int32_t);
  if (!Take(in, &items) || in.size() / kPerItem < items) return damaged();
  ItemSide& side = r->side_;
  for (auto* v : {&side.popularity, &side.log_price, &side.age_days, &side.idle_days}) v->resize(items);
  side.category.resize(items);
  side.brand.resize(items);
  for (size_t i = 0; i < items; ++i) {
    Take(in, &side.popularity[i]);
    Take(in, &side.category[i]);
    Take(in, &side.brand[i]);
    Take(in, &side.log_price[i]);
    Take(in, &side.age_days[i]);
    Take(in, &side.idle_days[i]);
  }
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
                                            const HybridOptions& options, const ItemCatalog* catalog) {
  auto h = std::unique_ptr<Hybrid>(new Hybrid());
  EMP_ASSIGN_OR_RETURN(h->training_, MakeTrainingSet(rows, users, items, half_life_days));
  EMP_ASSIGN_OR_RETURN(h->ranker_,
                       Ranker::Fit(rows, h->training_, half_life_days, generators, make, options, catalog));
  EMP_ASSIGN_OR_RETURN(h->generators_, FitAll(generators, make, h->training_));
  h->serving_ = Pointers(h->generators_);
  return h;
}

std::vector<Scored> Hybrid::Recommend(const History& h, size_t k, std::span<const int32_t> exclude,
                                      std::span<const int32_t> session) const {
  CandidateRows c = Candidates(serving_, ranker_->side(), h, session, ranker_->candidates(), exclude);
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
