// Serving: the placements of GET /v1/recommendations from the live graph and the current models.
//
// Models are fitted in the background on a Snapshot() of the graph (Train) and swapped in whole;
// a request asks them about the shopper's live history, so what the shopper did a moment ago
// counts at once (ALS folds the history in, cooccur sums its neighbours). A request's Strategy
// orders the candidates (kFused by default: the lists below by reciprocal rank, 1 / (60 + rank);
// kRanked: the learned trees over cooccur's, ALS's and popularity's lists, the session's and the
// content lists after them), then the same post-processing makes every strategy's list: the
// filters below, popular items of the shopper's categories and then the shop's fill what is left,
// the category cap, the reasons.
//
//   home, email  for the shopper (a guest too): als + cooccur over their history, cooccur over
//                their latest session, products whose text is like the session's latest (content),
//                else popular
//   product      items often viewed with the product, like it by behaviour (als item factors) and
//                by text (content: the encoder's product vectors, so a new product has neighbours
//                before anyone viewed it)
//   cart         what goes with the given products (or the shopper's recent cart adds)
// Never shown: items not in stock, deleted, without catalog facts, or the shopper's own (home,
// email: everything they interacted with; product, cart: the given products). On product and cart
// lists, durables the shopper bought go to the end (segments.h). Home and email lists take at most
// a third (at least 2) from one category while others are available.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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
#include "services/recommend/segments.h"

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
  // What placed it: als, cooccur, popularity (the shop's), segment (popular in the shopper's
  // categories), session (cooccur over the latest session), content (text like the product's).
  std::string source;
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
  SegmentOptions segments;
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
  std::unique_ptr<Segments> segments;  // null in artifacts from before segments
  size_t interactions = 0;
  double seconds = 0, ranker_seconds = 0;
};

// Where a proposal came from besides its generator's model of the seed history.
enum class Via : uint8_t { kHistory, kSession, kContent, kSegment };

// A candidate before the catalog's filters: its score in the strategy's order (higher first) and
// the generator that placed it (for kRanked, the one that ranked it best; null for content).
struct Proposal {
  int32_t item = 0;
  float score = 0;
  const Generator* source = nullptr;
  Via via = Via::kHistory;
};

// What a request knows beyond the seed history: the shopper's latest session when it is not the
// whole history (cooccur's list over it joins the fusion), content neighbours of the seed's
// products, best first (a list of their own), and for a short history the segments, whose popular
// items of the history's categories are a list too (popularity by segment for cold-start users).
struct Context {
  const History* session = nullptr;
  std::span<const int32_t> session_items;  // of the latest session, whole history or not (the ranker's)
  std::span<const int32_t> content;
  const Segments* segments = nullptr;
  std::span<const std::string> categories;  // of the seed's items, parallel to them
};
// Histories shorter than this get the segments' list (Context::segments).
inline constexpr size_t kShortHistory = 5;

// The models' candidates for a seed history, best first, none of `exclude` (ascending); what a
// request filters and the lifecycle scores. kRanked without a ranker is kFused, kPopularity
// proposes nothing (popular items fill every list); `*served` (may be null) is the strategy that ran.
std::vector<Proposal> Propose(const Models& models, Strategy strategy, const History& seed,
                              std::span<const int32_t> exclude, Strategy* served,
                              const Context& context = {});

// Fits the models (kCancelled when stop is requested between generators, ALS iterations or boosting
// rounds): the generators on all of the snapshot, then, with ranker_min_users and
// ranker_min_interactions, the ranker (its own generators on an inner split, and the trees).
Result<std::shared_ptr<Models>> TrainModels(const GraphSnapshot& snapshot, const ModelOptions& options,
                                            std::stop_token stop = {});

// Products whose text is like the given products' (search's product vectors), best first, none
// of the given ones; empty when that is not known (no encoder, search unreachable).
using ContentSource =
    std::function<std::vector<std::string>(std::span<const std::string> product_ids, size_t k)>;

class Recommender {
 public:
  explicit Recommender(const Graph& graph, double half_life_days = 30)
      : graph_(graph), half_life_days_(half_life_days) {}
  // Before serving (not thread-safe with Recommend).
  void SetContent(ContentSource content) { content_ = std::move(content); }
  void Swap(std::shared_ptr<const Models> models) { models_.store(std::move(models)); }
  std::shared_ptr<const Models> models() const { return models_.load(); }
  Recommendations Recommend(const RecommendRequest& request) const;

 private:
  std::vector<int32_t> Content(std::span<const int32_t> of, size_t k) const;

  const Graph& graph_;
  double half_life_days_;
  ContentSource content_;
  std::atomic<std::shared_ptr<const Models>> models_;
};

}  // namespace emporium::recommend
