#include "services/order/fraud.h"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

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
    std::vector<std::pair<std::string, std::string>> subjects;
    for (auto [kind, value] :
         {std::pair<std::string, std::string>{"user", in.user_id}, {"card", in.card_token}, {"ip", in.ip}}) {
      if (!value.empty()) subjects.emplace_back(std::move(kind), std::move(value));
    }
    EMP_ASSIGN_OR_RETURN(std::vector<Window> windows, Count(subjects, in.amount, first));
    for (size_t i = 0; i < subjects.size(); ++i) {
      const std::string& kind = subjects[i].first;
      const Window& w = windows[i];
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

  // Adds this order to each subject's current bucket (when `add`, in one KV write) and sums the
  // window's buckets per subject.
  Result<std::vector<Window>> Count(const std::vector<std::pair<std::string, std::string>>& subjects,
                                    int64_t amount, bool add) {
    const int64_t bucket_ms = std::max<int64_t>(1, rules_.window.count() / kBuckets);
    const int64_t now_bucket = UnixMillis(clock_.WallNow()) / bucket_ms;
    const Millis ttl = rules_.window + Millis(2 * bucket_ms);
    auto key = [&](const std::pair<std::string, std::string>& subject, int i) {
      return "fraud:v:" + subject.first + ":" + subject.second + ":" + std::to_string(now_bucket - i);
    };
    std::vector<Window> out(subjects.size());
    int first_read = 0;
    if (add) {
      std::vector<std::pair<std::string, int64_t>> deltas;
      for (const auto& subject : subjects) {
        deltas.emplace_back(key(subject, 0) + ":n", 1);
        deltas.emplace_back(key(subject, 0) + ":a", amount);
      }
      EMP_ASSIGN_OR_RETURN(std::vector<int64_t> now, kv_.IncrementMany(deltas, ttl));
      for (size_t s = 0; s < subjects.size(); ++s) out[s] = Window{now[2 * s], now[2 * s + 1]};
      first_read = 1;
    }
    // Other buckets are only read: a write would cost a journal sync.
    for (size_t s = 0; s < subjects.size(); ++s) {
      for (int i = first_read; i < kBuckets; ++i) {
        EMP_ASSIGN_OR_RETURN(int64_t n, Read(key(subjects[s], i) + ":n"));
        EMP_ASSIGN_OR_RETURN(int64_t a, Read(key(subjects[s], i) + ":a"));
        out[s].orders += n;
        out[s].amount += a;
      }
    }
    return out;
  }

  Result<int64_t> Read(const std::string& key) {
    EMP_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_.Get(key));
    int64_t n = 0;
    if (v && std::from_chars(v->data(), v->data() + v->size(), n).ec != std::errc())
      return Internal("fraud counter " + key + " is not a number");
    return n;
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
