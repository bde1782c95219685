// RulesScreen: blocklists, amount limits, velocity windows (and their sliding), country mismatch,
// and that re-screening one order does not count it twice.
#include <gtest/gtest.h>

#include "platform/kv/kv.h"
#include "services/order/fraud.h"

namespace emporium::order {
namespace {

class FraudTest : public ::testing::Test {
 protected:
  FraudTest() : kv_(std::move(kv::Open("memory://", clock_)).value()) {}

  std::unique_ptr<FraudScreen> Screen(FraudRules rules) {
    return NewRulesScreen(*kv_, std::move(rules), clock_);
  }
  FraudInput In(const std::string& order_id, int64_t amount = 1000) {
    return FraudInput{order_id, "u1", "tok1", "203.0.113.9", amount, "USD", "US", ""};
  }

  FakeClock clock_;
  std::unique_ptr<kv::Store> kv_;
};

TEST_F(FraudTest, ApprovesOrdinaryOrder) {
  auto r = Screen({})->Screen(In("o1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decision, "approve");
  EXPECT_TRUE(r->reasons.empty());
}

TEST_F(FraudTest, BlocklistsAndAmounts) {
  FraudRules rules;
  rules.blocklist = {"card:tok1"};
  rules.review_amount = 5000;
  rules.max_amount = 10000;
  auto s = Screen(rules);
  auto blocked = s->Screen(In("o1"));
  EXPECT_EQ(blocked->decision, "decline");
  EXPECT_EQ(blocked->reasons, std::vector<std::string>{"blocklisted_card"});

  FraudRules amounts;
  amounts.review_amount = 5000;
  amounts.max_amount = 10000;
  auto a = Screen(amounts);
  EXPECT_EQ(a->Screen(In("o2", 6000))->decision, "review");
  auto big = a->Screen(In("o3", 20000));
  EXPECT_EQ(big->decision, "decline");
  EXPECT_EQ(big->reasons.at(0), "amount_over_limit");
}

TEST_F(FraudTest, CountryMismatchGoesToReview) {
  FraudInput in = In("o1");
  in.billing_country = "FR";
  auto r = Screen({})->Screen(in);
  EXPECT_EQ(r->decision, "review");
  EXPECT_EQ(r->reasons, std::vector<std::string>{"country_mismatch"});
}

TEST_F(FraudTest, VelocityReviewsThenDeclinesAndSlidesOut) {
  FraudRules rules;
  rules.max_orders = 2;
  rules.window = Millis(60'000);
  auto s = Screen(rules);
  EXPECT_EQ(s->Screen(In("o1"))->decision, "approve");
  EXPECT_EQ(s->Screen(In("o2"))->decision, "approve");
  auto third = s->Screen(In("o3"));
  EXPECT_EQ(third->decision, "review");
  EXPECT_EQ(third->reasons.at(0), "velocity_user_count");
  // Re-screening an order (a saga step re-run after a crash) does not count it again.
  EXPECT_EQ(s->Screen(In("o3"))->decision, "review");
  EXPECT_EQ(s->Screen(In("o4"))->decision, "review");
  EXPECT_EQ(s->Screen(In("o5"))->decision, "decline");
  // Another user on another card and IP is unaffected.
  FraudInput other{"o6", "u2", "tok2", "203.0.113.10", 1000, "USD", "US", ""};
  EXPECT_EQ(s->Screen(other)->decision, "approve");
  // After the window the counts are gone.
  clock_.Advance(Millis(80'000));
  EXPECT_EQ(s->Screen(In("o7"))->decision, "approve");
}

TEST_F(FraudTest, VelocityByAmount) {
  FraudRules rules;
  rules.max_window_amount = 2500;
  auto s = Screen(rules);
  EXPECT_EQ(s->Screen(In("o1", 1000))->decision, "approve");
  EXPECT_EQ(s->Screen(In("o2", 1000))->decision, "approve");
  auto r = s->Screen(In("o3", 1000));
  EXPECT_EQ(r->decision, "review");
  EXPECT_EQ(r->reasons, (std::vector<std::string>{"velocity_user_amount", "velocity_card_amount"}));
}

}  // namespace
}  // namespace emporium::order
