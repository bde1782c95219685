// Serving: the placements of GET /v1/recommendations from the live graph and the current models.
//
// Models are fitted in the background on a Snapshot() of the graph (Train) and swapped in whole;
// a request asks them about the shopper's live history, so what the shopper did a moment ago
// counts at once (ALS folds the history in, cooccur sums its neighbours). A request's Strategy
// orders the candidates (kFused by default: cooccur's and ALS's lists by reciprocal rank,
// 1 / (60 + rank); kRanked: the learned trees over cooccur's, ALS's and popularity's lists), then
// the same post-processing makes every strategy's list: the filters below, popular items fill
// what is left, the category cap, the reasons.
//
//   home, email  for the shopper (a guest too): als + cooccur over their history, else popular
//   product      items often viewed with the product, and like it (als item factors)
//   cart         what goes with the given products (or the shopper's recent cart adds)
// Never shown: items not in stock, deleted, without catalog facts, or the shopper's own (home,
// email: everything they interacted with; product, cart: the given products). Home and email lists
// take at most a third (at least 2) from one category while others are available.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/mf/als.h"
#include "services/recommend/generators.h"
#include "services/recommend/graph.h"
#include "services/recommend/hybrid.h"

namespace emporium::recommend {

enum class Placement { kHome, kProduct, kCart, kEmail };
std::optional<Placement> PlacementOf(std::string_view name);
std::string_view PlacementName(Placement p);

// How a list is made (an A/B variant serves one): kFused, the personal generators' lists fused by
// reciprocal rank; kRanked, the learned hybrid's trees over their union (kFused while no hybrid is
// trained); kPopularity, popular items only (a control).
enum class Strategy { kFused, kRanked, kPopularity };
std::optional<Strategy> StrategyOf(std::string_view name);
std::string_view StrategyName(Strategy s);

struct RecommendRequest {
  Placement placement = Placement::kHome;
  std::string subject;                   // empty: anonymous
  std::vector<std::string> product_ids;  // product: one; cart: the cart's products (optional)
  size_t limit = 10;
  Strategy strategy = Strategy::kFused;
};

struct RecommendedItem {
  std::string product_id;
  std::string title;
  float score = 0;
  std::string reason;  // human-readable: "Because you viewed …", "Often viewed with …", "Popular in …"
  std::string source;  // the generator that placed it: als, cooccur, popularity
};

struct Recommendations {
  std::string model;                     // the models' version, or "popularity" / "none" when degraded
  Strategy strategy = Strategy::kFused;  // what made the list (kFused when kRanked had no ranker)
  bool degraded = false;
  std::string degraded_reason;
  std::vector<RecommendedItem> items;
};

struct ModelOptions {
  ml::AlsOptions als;
  CooccurOptions cooccur;
  double half_life_days = 30;
  size_t min_interactions = 1;  // fewer: popularity only
  // The ranker is fitted when the snapshot has at least this many users and interactions (fewer:
  // no ranker; kRanked serves kFused). Chosen, not measured: MovieLens' 579 labelled groups were
  // enough for the trees to match the best generator; with far fewer, trees with
  // min_child_weight 50 have little to split on.
  size_t ranker_min_users = 500;
  size_t ranker_min_interactions = 5000;
  HybridOptions ranker;  // its threads, trees.threads and trees.stop are set by TrainModels
};
ModelOptions DefaultModelOptions();

// Generators fitted on one snapshot; immutable.
struct Models {
  std::string version;  // the registry's version once published
  int32_t items = 0;
  std::vector<std::string> item_ids;  // of the graph's indices 0..items-1 when fitted
  std::unique_ptr<Generator> popularity, cooccur, als;
  // The trees over the generators' candidates (kRanked), null when not fitted; why not, then.
  std::unique_ptr<Ranker> ranker;
  std::string no_ranker;
  size_t interactions = 0;
  double seconds = 0, ranker_seconds = 0;
};

// A candidate before the catalog's filters: its score in the strategy's order (higher first) and
// the generator that placed it (for kRanked, the one that ranked it best).
struct Proposal {
  int32_t item = 0;
  float score = 0;
  const Generator* source = nullptr;
};
// The models' candidates for a seed history, best first, none of `exclude` (ascending); what a
// request filters and the lifecycle scores. kRanked without a ranker is kFused, kPopularity
// proposes nothing (popular items fill every list); `*served` (may be null) is the strategy that ran.
std::vector<Proposal> Propose(const Models& models, Strategy strategy, const History& seed,
                              std::span<const int32_t> exclude, Strategy* served);

// Fits the models (kCancelled when stop is requested between generators, ALS iterations or boosting
// rounds): the generators on all of the snapshot, then, with ranker_min_users and
// ranker_min_interactions, the ranker (its own generators on an inner split, and the trees).
Result<std::shared_ptr<Models>> TrainModels(const GraphSnapshot& snapshot, const ModelOptions& options,
                                            std::stop_token stop = {});

class Recommender {
 public:
  explicit Recommender(const Graph& graph, double half_life_days = 30)
      : graph_(graph), half_life_days_(half_life_days) {}
  void Swap(std::shared_ptr<const Models> models) { models_.store(std::move(models)); }
  std::shared_ptr<const Models> models() const { return models_.load(); }
  Recommendations Recommend(const RecommendRequest& request) const;

 private:
  const Graph& graph_;
  double half_life_days_;
  std::atomic<std::shared_ptr<const Models>> models_;
};

}  // namespace emporium::recommend
