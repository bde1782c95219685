#include "platform/resilience/retry_budget.h"

#include <gtest/gtest.h>

namespace emporium::resilience {
namespace {

using std::chrono::seconds;

TEST(RetryBudgetTest, DeniesRetriesBeyondRatio) {
  FakeClock clock;
  RetryBudget budget(clock, {.ratio = 0.2, .min_retries_per_second = 0, .window = seconds(10)});
  EXPECT_FALSE(budget.TryAcquireRetry()) << "no traffic, no allowance";
  for (int i = 0; i < 10; ++i) budget.RecordRequest();
  EXPECT_TRUE(budget.TryAcquireRetry());
  EXPECT_TRUE(budget.TryAcquireRetry());
  EXPECT_FALSE(budget.TryAcquireRetry());
  RetryBudgetStats stats = budget.Stats();
  EXPECT_EQ(stats.requests, 10);
  EXPECT_EQ(stats.retries, 2);
  EXPECT_EQ(stats.denied, 2);
  for (int i = 0; i < 5; ++i) budget.RecordRequest();
  EXPECT_TRUE(budget.TryAcquireRetry());  // 15 × 0.2 = 3
  EXPECT_FALSE(budget.TryAcquireRetry());
}

TEST(RetryBudgetTest, MinimumAllowanceWithoutTraffic) {
  FakeClock clock;
  RetryBudget budget(clock, {.ratio = 0.2, .min_retries_per_second = 0.5, .window = seconds(10)});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.TryAcquireRetry()) << i;
  EXPECT_FALSE(budget.TryAcquireRetry());
}

TEST(RetryBudgetTest, RecoversAsWindowSlides) {
  FakeClock clock;
  RetryBudget budget(clock,
                     {.ratio = 0.5, .min_retries_per_second = 0, .window = seconds(10), .buckets = 10});
  for (int i = 0; i < 4; ++i) budget.RecordRequest();
  EXPECT_TRUE(budget.TryAcquireRetry());
  EXPECT_TRUE(budget.TryAcquireRetry());
  EXPECT_FALSE(budget.TryAcquireRetry());

  // Half a window later new traffic earns new retries, while the old retries still count.
  clock.Advance(seconds(5));
  for (int i = 0; i < 2; ++i) budget.RecordRequest();  // 6 requests → 3 retries
  EXPECT_TRUE(budget.TryAcquireRetry());
  EXPECT_FALSE(budget.TryAcquireRetry());

  // Once the first burst has aged out, only the later requests and retries remain: 2 → 1 retry,
  // already spent.
  clock.Advance(seconds(6));
  RetryBudgetStats stats = budget.Stats();
  EXPECT_EQ(stats.requests, 2);
  EXPECT_EQ(stats.retries, 1);
  EXPECT_FALSE(budget.TryAcquireRetry());

  // A full window later everything has aged out.
  clock.Advance(seconds(11));
  EXPECT_EQ(budget.Stats().requests, 0);
  budget.RecordRequest();
  budget.RecordRequest();
  EXPECT_TRUE(budget.TryAcquireRetry());
}

}  // namespace
}  // namespace emporium::resilience
