// Fraud screening of an order before payment: an interface (a learned model replaces the scorer
// in a later issue) and RulesScreen, the first implementation.
//
// RulesScreen's rules, each adding a machine-readable reason:
// - blocklists (config "kind:value": user:, ip:, card:, country:) → decline "blocklisted_<kind>";
// - amount: above max_amount → decline "amount_over_limit"; above review_amount → review
//   "high_amount";
// - velocity per user, card token and IP over a sliding window kept in the kv store: more than
//   max_orders orders → review "velocity_<kind>_count" (more than twice that: decline), more
//   than max_window_amount in total → review "velocity_<kind>_amount";
// - billing country given and different from the shipping country → review "country_mismatch".
// Any decline reason → decline; else any review reason → review; else approve.
//
// The window is six fixed buckets of window/6 each (kv counters with a TTL), so it slides in
// steps of window/6. Screening is idempotent per order id: counters are only incremented the
// first time an order is screened (a kv compare-and-set marker), so a saga step re-run after a
// crash does not count the order twice.
// Thread-safety: thread-safe (kv operations are atomic).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::kv {
class Store;
}

namespace emporium::order {

struct FraudInput {
  std::string order_id;
  std::string user_id;
  std::string card_token;
  std::string ip;
  int64_t amount = 0;
  std::string currency;
  std::string shipping_country;
  std::string billing_country;  // empty when unknown
};

struct FraudResult {
  std::string decision;  // "approve", "review", "decline"
  std::vector<std::string> reasons;
};

class FraudScreen {
 public:
  virtual ~FraudScreen() = default;
  // kUnavailable when its state cannot be read (the saga retries).
  virtual Result<FraudResult> Screen(const FraudInput& in) = 0;
};

struct FraudRules {
  std::set<std::string> blocklist;  // "user:<id>", "ip:<addr>", "card:<token>", "country:<CC>"
  int64_t max_amount = 1'000'000;
  int64_t review_amount = 300'000;
  Millis window{3'600'000};
  int64_t max_orders = 10;
  int64_t max_window_amount = 1'000'000;
};

std::unique_ptr<FraudScreen> NewRulesScreen(kv::Store& kv, FraudRules rules, Clock& clock);

}  // namespace emporium::order
