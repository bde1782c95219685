#include "services/order/fraud.h"

#include <algorithm>

#include "platform/kv/kv.h"

namespace emporium::order {
namespace {

constexpr int kBuckets = 6;

class RulesScreen final : public FraudScreen {
 public:
  RulesScreen(kv::Store& kv, FraudRules rules, Clock& clock)
      : kv_(kv), rules_(std::move(rules)), clock_(clock) {}

  Result<FraudResult> Screen(const FraudInput& in) override {
    std::vector<std::string> decline, review;
    auto blocked = [&](const std::string& kind, const std::string& value) {
      if (!value.empty() && rules_.blocklist.count(kind + ":" + value))
        decline.push_back("blocklisted_" + kind);
    };
    blocked("user", in.user_id);
    blocked("ip", in.ip);
    blocked("card", in.card_token);
    blocked("country", in.shipping_country);

    if (in.amount > rules_.max_amount) {
      decline.push_back("amount_over_limit");
    } else if (in.amount > rules_.review_amount) {
      review.push_back("high_amount");
    }
    if (!in.billing_country.empty() && !in.shipping_country.empty() &&
        in.billing_country != in.shipping_country)
      review.push_back("country_mismatch");

    EMP_ASSIGN_OR_RETURN(
        bool first, kv_.CompareAndSet("fraud:screened:" + in.order_id, std::nullopt, "1", rules_.window * 2));
    const std::pair<std::string, std::string> subjects[] = {
        {"user", in.user_id}, {"card", in.card_token}, {"ip", in.ip}};
    for (const auto& [kind, value] : subjects) {
      if (value.empty()) continue;
      EMP_ASSIGN_OR_RETURN(Window w, Count(kind, value, in.amount, first));
      if (w.orders > 2 * rules_.max_orders) {
        decline.push_back("velocity_" + kind + "_count");
      } else if (w.orders > rules_.max_orders) {
        review.push_back("velocity_" + kind + "_count");
      }
      // The card and the user already cover spend; IP amounts mostly flag shared NATs.
      if (kind != "ip" && w.amount > rules_.max_window_amount)
        review.push_back("velocity_" + kind + "_amount");
    }

    FraudResult r;
    if (!decline.empty()) {
      r.decision = "decline";
      r.reasons = decline;
      r.reasons.insert(r.reasons.end(), review.begin(), review.end());
    } else if (!review.empty()) {
      r.decision = "review";
      r.reasons = review;
    } else {
      r.decision = "approve";
    }
    return r;
  }

 private:
  struct Window {
    int64_t orders = 0;
    int64_t amount = 0;
  };

  // Adds this order to the current bucket (when `add`) and sums the window's buckets.
  Result<Window> Count(const std::string& kind, const std::string& value, int64_t amount, bool add) {
    const int64_t bucket_ms = std::max<int64_t>(1, rules_.window.count() / kBuckets);
    const int64_t now_bucket = UnixMillis(clock_.WallNow()) / bucket_ms;
    const Millis ttl = rules_.window + Millis(2 * bucket_ms);
    const std::string prefix = "fraud:v:" + kind + ":" + value + ":";
    Window w;
    for (int i = 0; i < kBuckets; ++i) {
      const std::string key = prefix + std::to_string(now_bucket - i);
      const bool here = add && i == 0;
      EMP_ASSIGN_OR_RETURN(int64_t n, kv_.Increment(key + ":n", here ? 1 : 0, ttl));
      EMP_ASSIGN_OR_RETURN(int64_t a, kv_.Increment(key + ":a", here ? amount : 0, ttl));
      w.orders += n;
      w.amount += a;
    }
    return w;
  }

  kv::Store& kv_;
  FraudRules rules_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<FraudScreen> NewRulesScreen(kv::Store& kv, FraudRules rules, Clock& clock) {
  return std::make_unique<RulesScreen>(kv, std::move(rules), clock);
}

}  // namespace emporium::order
