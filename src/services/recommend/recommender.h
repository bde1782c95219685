// Serving: the placements of GET /v1/recommendations from the live graph and the current models.
//
// Models are fitted in the background on a Snapshot() of the graph (Train) and swapped in whole;
// a request asks them about the shopper's live history, so what the shopper did a moment ago
// counts at once (ALS folds the history in, cooccur sums its neighbours). Until the ranked hybrid
// is served (docs/recommend.md, plan), the personal generators' lists are fused by reciprocal
// rank (1 / (60 + rank)), and popularity fills what they leave.
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
#include <stop_token>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/mf/als.h"
#include "services/recommend/generators.h"
#include "services/recommend/graph.h"

namespace emporium::recommend {

enum class Placement { kHome, kProduct, kCart, kEmail };
std::optional<Placement> PlacementOf(std::string_view name);
std::string_view PlacementName(Placement p);

struct RecommendRequest {
  Placement placement = Placement::kHome;
  std::string subject;                   // empty: anonymous
  std::vector<std::string> product_ids;  // product: one; cart: the cart's products (optional)
  size_t limit = 10;
};

struct RecommendedItem {
  std::string product_id;
  std::string title;
  float score = 0;
  std::string reason;  // human-readable: "Because you viewed …", "Often viewed with …", "Popular in …"
  std::string source;  // the generator that placed it: als, cooccur, popularity
};

struct Recommendations {
  std::string model;  // the models' version, or "popularity" / "none" when degraded
  bool degraded = false;
  std::string degraded_reason;
  std::vector<RecommendedItem> items;
};

struct ModelOptions {
  ml::AlsOptions als;
  CooccurOptions cooccur;
  double half_life_days = 30;
  size_t min_interactions = 1;  // fewer: popularity only
};
ModelOptions DefaultModelOptions();

// Generators fitted on one snapshot; immutable.
struct Models {
  std::string version;  // the registry's version once published
  int32_t items = 0;
  std::vector<std::string> item_ids;  // of the graph's indices 0..items-1 when fitted
  std::unique_ptr<Generator> popularity, cooccur, als;
  size_t interactions = 0;
  double seconds = 0;
};

// Fits the models (kCancelled when stop is requested between generators or ALS iterations).
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
