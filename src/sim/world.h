// The fixed part of the simulator's generative model, derived from the catalog and the seed:
// product latent factors (a unit vector per product, a seeded mix of vectors for its category,
// brand, colour, material and itself), which categories go together and which are consumables,
// the queries a shopper would type for a product (with typos, synonyms and vague wording), and a
// plain keyword ranker that stands in for the shop's search in offline runs.
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/catalog.h"
#include "sim/rng.h"

namespace emporium::sim {

inline constexpr int kFactors = 16;

enum class QueryKind { kExact, kPartial, kTypo, kSynonym, kVague };
std::string_view QueryKindName(QueryKind k);

class World {
 public:
  World(SimCatalog catalog, uint64_t seed);

  const SimCatalog& catalog() const { return catalog_; }
  uint64_t seed() const { return seed_; }
  size_t size() const { return catalog_.products.size(); }

  // The unit factor vector of product i (kFactors floats).
  std::span<const float> Factors(size_t i) const { return {&factors_[i * kFactors], kFactors}; }
  // The same vector for any product document: how ground truth scores products added later.
  static std::vector<float> FactorsOf(const SimProduct& p, uint64_t seed);
  // A seeded unit vector for a named feature ("leaf:Books > Fiction").
  static std::vector<float> FeatureVector(uint64_t seed, std::string_view feature);
  // z-score of the product's log price within its category (0 for a category of one).
  double PriceZ(size_t i) const { return price_z_[i]; }
  // Categories whose products go with a purchase from `leaf` (ground truth for "bought together").
  const std::vector<int>& Complements(int leaf) const { return complements_[static_cast<size_t>(leaf)]; }
  // Bought again and again (groceries, beauty): the session model schedules repurchases.
  bool Consumable(int leaf) const { return consumable_[static_cast<size_t>(leaf)]; }

  // A query a shopper who wants product i types.
  std::string Query(size_t i, Rng& rng, QueryKind* kind) const;
  // The simulator's stand-in search (offline runs): products ranked by summed IDF of the query
  // words found in title or category, ties by rating count. Exact words only, like a plain
  // keyword engine, so typos and synonyms miss.
  std::vector<int> Search(std::string_view query, size_t n) const;

 private:
  SimCatalog catalog_;
  uint64_t seed_;
  std::vector<float> factors_;
  std::vector<double> price_z_;
  std::vector<std::vector<int>> complements_;
  std::vector<bool> consumable_;
  std::unordered_map<std::string, std::vector<int>> postings_;  // word → products
};

// Lower-case words of a text.
std::vector<std::string> Tokenize(std::string_view text);

}  // namespace emporium::sim
