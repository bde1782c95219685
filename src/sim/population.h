// The simulated shoppers and fraudsters, with the latent tastes that are the simulator's ground
// truth. Population::Make is deterministic for a seed: shopper i is the same in every run (and in
// offline, online and demo runs alike).
//
// A shopper's want of a product at time t (Want) is
//   1.5·cos(u(t), v_p) + 0.6·log-affinity for its category + 0.8 (a favourite brand)
//   + 0.4 (the favourite colour) − w_price·|z_price − z_pref| + 0.3·(rating − 4)
// where v_p is the product's factor vector (World), u(t) drifts from u0 toward u1 over the
// simulated period at the shopper's drift rate, and z_price is the product's log-price z-score in
// its category. P(buy | seen) grows with it (session.cc).
// Immutable after Make(); thread-safe to read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/world.h"

namespace emporium::sim {

enum class FraudKind {
  kNone,
  kCardTesting,
  kStolenCard,
  kAccountTakeover,
  kFreshAccount,
  kMultiAccountDevice
};
std::string_view FraudKindName(FraudKind k);

struct Device {
  std::string id;
  std::string ip;
  std::string country;  // where the device is (the IP's country)
  std::string user_agent;
};

struct Address {
  std::string name, line1, city, postal_code, country;
};

struct Card {
  std::string number;
  std::string country;  // billing country (the issuing bank's country)
};

struct Taste {
  std::vector<float> u0, u1;         // unit vectors (kFactors)
  float drift = 0;                   // share of the way from u0 to u1 reached at the end of the period
  std::vector<float> leaf_affinity;  // per category, sums to 1
  std::vector<int> brands;           // favourite brands (catalog brand indexes)
  std::string colour;                // favourite colour (may be empty)
  float price_pref = 0;              // preferred price z-score: < 0 thrifty, > 0 premium
  float price_weight = 0.5f;
};

struct SimUser {
  int index = 0;
  std::string key;  // "u-000123" (fraudsters "f-000007")
  std::string email, password, name;
  bool registers = true;  // false: only ever a guest
  std::string country;
  Address address;
  std::vector<Device> devices;
  std::vector<Card> cards;
  double sessions_per_month = 3;
  Taste taste;
  FraudKind fraud = FraudKind::kNone;
  int victim = -1;  // account takeover: the shopper whose account it takes
  int ring = -1;    // several accounts on one device: the ring (shares devices[0])
};

struct PopulationOptions {
  int users = 1000;
  double fraud_rate = 0.02;  // fraudsters per shopper
  uint64_t seed = 42;
};

class Population {
 public:
  static Population Make(const World& world, const PopulationOptions& options);

  const std::vector<SimUser>& shoppers() const { return shoppers_; }
  const std::vector<SimUser>& fraudsters() const { return fraudsters_; }
  // The period's position in [0, 1] (drift): 0 at the start, 1 at the end.
  double Want(const World& world, const SimUser& u, size_t product, double period_pos) const;

 private:
  std::vector<SimUser> shoppers_;
  std::vector<SimUser> fraudsters_;
};

// The want score of a taste for a product vector (used by Want and by the ground truth of products
// the simulation never saw).
double WantOf(const Taste& t, std::span<const float> factors, int leaf, int brand, std::string_view colour,
              double price_z, double rating, double period_pos);

// A Luhn-valid card number with the given 6-digit BIN.
std::string LuhnNumber(std::string_view bin, Rng& rng);

}  // namespace emporium::sim
