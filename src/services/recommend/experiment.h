// The A/B experiment over recommendation strategies: which variant a shopper gets, and how each
// variant does.
//
// Variants come from `--recommend-variants` ("fused=50,ranked=50": a strategy and its share);
// a shopper's variant is a hash of the experiment's name and the subject, so it is the same on
// every request and every replica, and renaming the experiment (`--recommend-experiment`)
// reshuffles everyone. The variant is written into the recommendation id
// (`rec_<variant>_<random>`), and the storefront sends that id back with recommendation_view and
// recommendation_click events, so the outcome of a list is counted for the variant that made it
// whatever the configuration is by then.
//
// Per variant (Prometheus counters in /metrics, and GET /v1/admin/recommendations/experiment):
//   served        lists answered (this process)
//   impressions   items shown, from recommendation_view events
//   clicks        recommendation_click events
//   add_to_cart   add_to_cart of a product the shopper clicked in that variant's list within 24 h
//   conversions   order lines of a product clicked in that variant's list within 7 days, and
//                 their revenue (minor units)
// CTR = clicks / impressions; add-to-cart rate and conversion rate are per click. Outcomes are
// counted from the live events the feed consumes (not from a replay at start): like any
// Prometheus counter they start from zero with the process.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/status.h"
#include "platform/metrics/metrics.h"
#include "services/recommend/recommender.h"

namespace emporium::recommend {

struct Variant {
  std::string name;  // the strategy's name
  Strategy strategy = Strategy::kFused;
  uint32_t weight = 1;
};

// "fused=50,ranked=50" (a weight may be 0: the variant is kept for the outcomes of its lists
// served earlier, and gets no new shoppers); kInvalidArgument says what is wrong.
Result<std::vector<Variant>> ParseVariants(std::string_view spec);

// The variant named in a recommendation id, if any.
std::optional<std::string> VariantOfRecommendation(std::string_view recommendation_id);

struct VariantStats {
  std::string name;
  std::string strategy;
  uint32_t weight = 0;
  double served = 0, impressions = 0, clicks = 0, add_to_cart = 0, conversions = 0, revenue = 0;
};

class Experiment {
 public:
  static constexpr int64_t kCartWindowMs = 24 * 3600 * 1000LL;
  static constexpr int64_t kConversionWindowMs = 7 * 24 * 3600 * 1000LL;

  // `variants` non-empty with a positive total weight (ParseVariants' output).
  Experiment(std::string name, std::vector<Variant> variants, metrics::Registry& metrics);

  const std::string& name() const { return name_; }
  const Variant& Assign(std::string_view subject) const;
  // A new recommendation id for a list of this variant.
  std::string NewRecommendationId(const Variant& v) const;
  void Served(const Variant& v);

  // What a live bus event says about the variants' lists (behavior.*, order.confirmed); other
  // events are ignored.
  void Observe(const bus::Event& event);

  std::vector<VariantStats> Stats() const;

 private:
  struct Series {
    metrics::Counter *served, *impressions, *clicks, *add_to_cart, *conversions, *revenue;
  };
  struct Click {
    std::string product_id;
    size_t variant = 0;
    int64_t at_ms = 0;
  };
  std::optional<size_t> IndexOf(std::string_view variant) const;
  const Click* LastClick(const std::string& subject, const std::string& product, int64_t at_ms,
                         int64_t window_ms) const;
  void Prune(int64_t now_ms);

  std::string name_;
  std::vector<Variant> variants_;
  uint64_t total_weight_ = 0;
  std::vector<Series> series_;  // per variant

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Click>> clicks_;  // per subject, oldest first
  size_t since_prune_ = 0;
};

}  // namespace emporium::recommend
