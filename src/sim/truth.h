// The simulator's ground truth, exported next to what it generated (truth.json): every shopper's
// latent taste, every product's factors and facts, which orders were fraud (and of which kind),
// and the shop's ids for the simulated shoppers. Later evaluations (`emporium eval … --simulated`)
// load it to ask how much a user wants a product, independently of anything the shop learned.
//
// GroundTruth is immutable after Load/From; thread-safe to read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"
#include "sim/population.h"
#include "sim/rng.h"

namespace emporium::sim {

// The session model's click model (session.cc), for evaluations that compare with it: a result at
// 1-based `position` is looked at with probability (1/position)^0.9, and clicked when looked at
// with probability ClickAppeal(want).
double ExaminationProbability(size_t position);
double ClickAppeal(double want);

class GroundTruth {
 public:
  // From a finished simulation. `user_ids` maps shopper keys to the shop's user ids (online runs;
  // offline the key is the id); `fraud_orders` maps order ids to the kind of fraud.
  static GroundTruth From(const World& world, const Population& population, int64_t start_ms, int64_t end_ms,
                          const std::map<std::string, std::string>& user_ids,
                          const std::map<std::string, FraudKind>& fraud_orders);
  static Result<GroundTruth> Load(const std::string& path);
  Status Save(const std::string& path) const;

  // How much the user (a shop user id or a shopper key) wants the product at `unix_ms` (default:
  // the end of the period); nullopt when either is unknown.
  std::optional<double> Want(std::string_view user, std::string_view product_id,
                             std::optional<int64_t> unix_ms = std::nullopt) const;
  // A product the user would set out to find at `unix_ms`, as the session model picks one: a
  // category by their affinity (now and then another), then the most wanted of a sample of it
  // (a softmax over 2·want). nullopt for an unknown user.
  std::optional<std::string> SampleWanted(std::string_view user, Rng& rng, int64_t unix_ms) const;
  // How good `candidate` is for a user looking for `target`: 0 in another category; else how
  // likely they would click it when examined (the session model's sigmoid of want), plus 1 for
  // the target itself. The graded relevance of `eval search --simulated`.
  double SearchGain(std::string_view user, std::string_view target, std::string_view candidate,
                    int64_t unix_ms) const;
  uint64_t seed() const { return seed_; }
  // The fraud kind of an order ("none" for a legitimate or unknown order).
  FraudKind FraudOf(std::string_view order_id) const;
  const std::map<std::string, FraudKind>& fraud_orders() const { return fraud_orders_; }
  // Shop user ids (or keys) of every shopper, in shopper order.
  std::vector<std::string> Users() const;
  std::vector<std::string> Products() const;
  // Product ids of the categories that go with the product's category (bought-together truth).
  std::vector<std::string> Complements(std::string_view product_id) const;
  // What the shop's catalog shows of a product: its category (leaf), brand and price (as the
  // z-score the shoppers' price preference reads); nullopt for an unknown id. For evaluations
  // that read no catalog.
  struct Listing {
    std::string category, brand;
    double price_z = 0;
  };
  std::optional<Listing> ListingOf(std::string_view product_id) const;

 private:
  struct Product {
    std::string id;
    std::vector<float> factors;
    int leaf = 0;
    int brand = 0;
    std::string colour;
    double price_z = 0;
    double rating = 0;
  };
  struct User {
    std::string key;
    std::string user_id;
    Taste taste;
  };
  uint64_t seed_ = 0;
  int64_t start_ms_ = 0;
  int64_t end_ms_ = 0;
  std::vector<std::string> leaves_;
  std::vector<std::vector<int>> complements_;
  std::vector<Product> products_;
  std::vector<User> users_;
  std::map<std::string, size_t, std::less<>> product_index_;
  std::map<std::string, size_t, std::less<>> user_index_;  // by key and by user id
  std::map<std::string, FraudKind> fraud_orders_;
  std::vector<std::vector<size_t>> by_leaf_;  // leaf → products
  void Reindex();
};

}  // namespace emporium::sim
