#include "platform/resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace emporium::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Runs one call through the breaker; false if it was rejected.
bool Call(CircuitBreaker& breaker, BreakerOutcome outcome) {
  Result<BreakerTicket> ticket = breaker.Allow();
  if (!ticket.ok()) return false;
  ticket->Record(outcome);
  return true;
}

CircuitBreakerOptions RatioOnly() {
  return {.failure_ratio = 0.5,
          .min_requests = 10,
          .consecutive_failures = 0,
          .window = seconds(10),
          .buckets = 10,
          .open_interval = seconds(5),
          .half_open_probes = 1};
}

TEST(CircuitBreakerTest, OpensOnFailureRatioOnlyAfterMinimumVolume) {
  FakeClock clock;
  CircuitBreaker breaker("catalog", clock, RatioOnly());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  EXPECT_EQ(breaker.state(), BreakerState::kClosed) << "9 requests < min_requests";
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, StaysClosedBelowRatio) {
  FakeClock clock;
  CircuitBreaker breaker("catalog", clock, RatioOnly());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Call(breaker, i % 3 == 0 ? BreakerOutcome::kFailure : BreakerOutcome::kSuccess));
  }
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  BreakerSnapshot snap = breaker.Snapshot();
  EXPECT_EQ(snap.window_failures, 10);
  EXPECT_EQ(snap.window_successes, 20);
}

TEST(CircuitBreakerTest, OldFailuresAgeOutOfWindow) {
  FakeClock clock;
  CircuitBreaker breaker("catalog", clock, RatioOnly());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  clock.Advance(seconds(11));
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_EQ(breaker.Snapshot().window_failures, 1);
}

TEST(CircuitBreakerTest, OpensOnConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker breaker("pay", clock, {.min_requests = 1000, .consecutive_failures = 3});
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kSuccess));  // resets the streak
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, IgnoredOutcomesDoNotCount) {
  FakeClock clock;
  CircuitBreaker breaker("pay", clock, {.min_requests = 1, .consecutive_failures = 2});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Call(breaker, BreakerOutcome::kIgnored));
  { auto unreported = breaker.Allow(); }  // destroyed without a verdict
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  BreakerSnapshot snap = breaker.Snapshot();
  EXPECT_EQ(snap.window_failures + snap.window_successes, 0);
}

TEST(CircuitBreakerTest, FullCycleOpenHalfOpenClosed) {
  FakeClock clock;
  CircuitBreaker breaker("search", clock, {.consecutive_failures = 2, .open_interval = seconds(5)});
  Call(breaker, BreakerOutcome::kFailure);
  Call(breaker, BreakerOutcome::kFailure);
  ASSERT_EQ(breaker.state(), BreakerState::kOpen);

  Result<BreakerTicket> rejected = breaker.Allow();
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), Code::kUnavailable);
  EXPECT_NE(rejected.status().message().find("circuit open: search"), std::string::npos);

  clock.Advance(milliseconds(4999));
  EXPECT_FALSE(breaker.Allow().ok()) << "still inside the open interval";
  clock.Advance(milliseconds(1));
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);

  Result<BreakerTicket> probe = breaker.Allow();
  ASSERT_TRUE(probe.ok());
  EXPECT_TRUE(probe->is_probe());
  EXPECT_FALSE(breaker.Allow().ok()) << "only one probe at a time";
  EXPECT_EQ(breaker.Snapshot().probes_in_flight, 1);

  probe->Record(BreakerOutcome::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  EXPECT_TRUE(Call(breaker, BreakerOutcome::kSuccess));
  BreakerSnapshot snap = breaker.Snapshot();
  EXPECT_EQ(snap.times_opened, 1);
  EXPECT_EQ(snap.rejected, 3);
  EXPECT_EQ(snap.name, "search");
}

TEST(CircuitBreakerTest, ProbeFailureReopens) {
  FakeClock clock;
  CircuitBreaker breaker("search", clock, {.consecutive_failures = 1, .open_interval = seconds(5)});
  Call(breaker, BreakerOutcome::kFailure);
  clock.Advance(seconds(5));
  ASSERT_TRUE(Call(breaker, BreakerOutcome::kFailure));
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
  EXPECT_EQ(breaker.Snapshot().times_opened, 2);
  clock.Advance(seconds(4));
  EXPECT_FALSE(breaker.Allow().ok()) << "a fresh open interval started at the probe failure";
  clock.Advance(seconds(1));
  EXPECT_TRUE(Call(breaker, BreakerOutcome::kSuccess));
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, AbandonedProbeFreesItsSlot) {
  FakeClock clock;
  CircuitBreaker breaker("search", clock, {.consecutive_failures = 1});
  Call(breaker, BreakerOutcome::kFailure);
  clock.Advance(seconds(5));
  {
    auto probe = breaker.Allow();
    ASSERT_TRUE(probe.ok());
  }
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(Call(breaker, BreakerOutcome::kSuccess));
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, SeveralProbesMustAllSucceed) {
  FakeClock clock;
  CircuitBreaker breaker("s", clock, {.consecutive_failures = 1, .half_open_probes = 2});
  Call(breaker, BreakerOutcome::kFailure);
  clock.Advance(seconds(5));
  auto a = breaker.Allow();
  auto b = breaker.Allow();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(breaker.Allow().ok());
  a->Record(BreakerOutcome::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  EXPECT_FALSE(breaker.Allow().ok()) << "the successful probe's slot is not reused";
  b->Record(BreakerOutcome::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, StaleTicketsDoNotDecideHalfOpen) {
  FakeClock clock;
  CircuitBreaker breaker("s", clock, {.consecutive_failures = 1});
  auto slow = breaker.Allow();  // admitted while closed
  ASSERT_TRUE(slow.ok());
  Call(breaker, BreakerOutcome::kFailure);
  clock.Advance(seconds(5));
  auto probe = breaker.Allow();
  ASSERT_TRUE(probe.ok());
  slow->Record(BreakerOutcome::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  probe->Record(BreakerOutcome::kFailure);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, ConcurrentUseIsConsistent) {
  FakeClock clock;
  CircuitBreaker breaker("busy", clock,
                         {.failure_ratio = 0.9, .min_requests = 1'000'000, .consecutive_failures = 0});
  constexpr int kThreads = 8;
  constexpr int kCalls = 5000;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        if (Call(breaker, (i + t) % 2 ? BreakerOutcome::kFailure : BreakerOutcome::kSuccess)) {
          ++admitted;
        }
        if (i % 100 == 0) (void)breaker.Snapshot();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), kThreads * kCalls);
  BreakerSnapshot snap = breaker.Snapshot();
  EXPECT_EQ(snap.window_successes + snap.window_failures, kThreads * kCalls);
  EXPECT_EQ(snap.window_failures, kThreads * kCalls / 2);
}

TEST(CircuitBreakerTest, ConcurrentTripAdmitsOnlyConfiguredProbes) {
  FakeClock clock;
  CircuitBreaker breaker("busy", clock, {.consecutive_failures = 1, .half_open_probes = 3});
  Call(breaker, BreakerOutcome::kFailure);
  clock.Advance(seconds(5));
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  std::vector<std::optional<BreakerTicket>> held(16);
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      auto ticket = breaker.Allow();
      if (ticket.ok()) {
        ++admitted;
        held[t].emplace(std::move(ticket).value());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 3);
  for (auto& h : held)
    if (h) h->Record(BreakerOutcome::kSuccess);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, FailureClassification) {
  EXPECT_TRUE(IsBreakerFailure(Code::kUnavailable));
  EXPECT_TRUE(IsBreakerFailure(Code::kDeadlineExceeded));
  EXPECT_TRUE(IsBreakerFailure(Code::kInternal));
  EXPECT_FALSE(IsBreakerFailure(Code::kNotFound));
  EXPECT_FALSE(IsBreakerFailure(Code::kInvalidArgument));
  EXPECT_FALSE(IsBreakerFailure(Code::kResourceExhausted));
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
}

}  // namespace
}  // namespace emporium::resilience
