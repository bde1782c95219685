// Routing rules: which providers, in which order, may authorize a payment. Config
// --payment-routing is a list of rules "<conditions>:<p1>|<p2>|..."; conditions are joined by ';'
// and each is "*", a currency ("EUR"), "amount<N", "amount>=N" (minor units) or "method=card|wallet".
// The first rule whose conditions all hold gives the ordered provider list (failover order).
// Example:
// "EUR:acquirer|intents,amount>=100000:acquirer|intents,method=wallet:wallet,*:intents|acquirer|wallet".
// Immutable after Parse; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/core/status.h"

namespace emporium::payment {

struct RouteInput {
  std::string currency;
  int64_t amount = 0;
  std::string method = "card";
};

class Routing {
 public:
  // kInvalidArgument naming the malformed rule or an unknown provider.
  static Result<Routing> Parse(const std::vector<std::string>& rules,
                               const std::vector<std::string>& known_providers);
  // The providers for the payment; empty when no rule matches.
  std::vector<std::string> Route(const RouteInput& in) const;

 private:
  struct Condition {
    enum class Kind { kAny, kCurrency, kAmountBelow, kAmountAtLeast, kMethod } kind = Kind::kAny;
    std::string text;
    int64_t amount = 0;
  };
  struct Rule {
    std::vector<Condition> conditions;
    std::vector<std::string> providers;
  };
  std::vector<Rule> rules_;
};

}  // namespace emporium::payment
