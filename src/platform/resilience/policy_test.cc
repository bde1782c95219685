#include "platform/resilience/policy.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace emporium::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class PolicyTest : public ::testing::Test {
 protected:
  CallPolicy Policy() {
    CallPolicy p;
    p.clock = &clock_;
    p.max_attempts = 3;
    p.idempotent = true;
    // Jitter fixed at 1 so sleeps equal the ceilings: 10 ms, 20 ms, 40 ms ...
    p.backoff = Backoff({.base = milliseconds(10), .cap = milliseconds(1000)}, [] { return 1.0; });
    return p;
  }

  // fn that fails with `codes` in turn, then succeeds; records every attempt.
  AttemptFn Script(std::vector<Code> codes) {
    return [this, codes](int attempt, SteadyTime deadline) -> Status {
      attempts_.push_back(attempt);
      starts_.push_back(clock_.Now());
      deadlines_.push_back(deadline);
      size_t i = attempts_.size() - 1;
      if (i < codes.size()) return Status(codes[i], "scripted failure " + std::to_string(i));
      return Status::Ok();
    };
  }

  FakeClock clock_;
  std::vector<int> attempts_;
  std::vector<SteadyTime> starts_;
  std::vector<SteadyTime> deadlines_;
};

TEST_F(PolicyTest, RetriesRetryableErrorsUpToMaxAttempts) {
  SteadyTime t0 = clock_.Now();
  Status s = Execute(
      Policy(), Script({Code::kUnavailable, Code::kUnavailable, Code::kUnavailable, Code::kUnavailable}));
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "scripted failure 2");
  EXPECT_EQ(attempts_, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(starts_.size(), 3u);
  EXPECT_EQ(starts_[1] - t0, milliseconds(10));
  EXPECT_EQ(starts_[2] - t0, milliseconds(30));
  EXPECT_EQ(clock_.Now() - t0, milliseconds(30)) << "no sleep after the last attempt";
}

TEST_F(PolicyTest, SucceedsAfterTransientFailures) {
  Status s = Execute(Policy(), Script({Code::kDeadlineExceeded, Code::kUnavailable}));
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(attempts_.size(), 3u);
}

TEST_F(PolicyTest, DoesNotRetryNonRetryableCodes) {
  for (Code code : {Code::kNotFound, Code::kInvalidArgument, Code::kInternal, Code::kConflict}) {
    attempts_.clear();
    Status s = Execute(Policy(), Script({code, code}));
    EXPECT_EQ(s.code(), code);
    EXPECT_EQ(attempts_.size(), 1u) << CodeName(code);
  }
}

TEST_F(PolicyTest, DoesNotRetryNonIdempotentCalls) {
  CallPolicy p = Policy();
  p.idempotent = false;
  Status s = Execute(p, Script({Code::kUnavailable}));
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(attempts_.size(), 1u);
}

TEST_F(PolicyTest, PerTryTimeoutIsCappedByCallDeadline) {
  CallPolicy p = Policy();
  SteadyTime t0 = clock_.Now();
  p.deadline = t0 + milliseconds(100);
  p.per_try_timeout = milliseconds(30);
  p.max_attempts = 10;
  p.backoff = Backoff({.base = milliseconds(10), .cap = milliseconds(10)}, [] { return 1.0; });
  // Every attempt times out: it uses its whole budget, then reports deadline exceeded.
  AttemptFn fn = [&](int attempt, SteadyTime deadline) -> Status {
    attempts_.push_back(attempt);
    deadlines_.push_back(deadline);
    clock_.Advance(deadline - clock_.Now());
    return DeadlineExceeded("attempt timed out");
  };
  Status s = Execute(p, fn);
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded);
  ASSERT_EQ(deadlines_.size(), 3u);
  EXPECT_EQ(deadlines_[0], t0 + milliseconds(30));
  EXPECT_EQ(deadlines_[1], t0 + milliseconds(70));
  EXPECT_EQ(deadlines_[2], p.deadline) << "last attempt gets only what remains";
  EXPECT_EQ(clock_.Now(), p.deadline) << "never sleeps past the deadline";
}

TEST_F(PolicyTest, DoesNotRetryWhenBackoffWouldPassDeadline) {
  CallPolicy p = Policy();
  p.deadline = clock_.Now() + milliseconds(5);
  Status s = Execute(p, Script({Code::kUnavailable}));
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(attempts_.size(), 1u);
  EXPECT_LT(clock_.Now(), p.deadline);
}

TEST_F(PolicyTest, ExpiredDeadlineRunsNothing) {
  CallPolicy p = Policy();
  p.deadline = clock_.Now();
  Status s = Execute(p, Script({}));
  EXPECT_EQ(s.code(), Code::kDeadlineExceeded);
  EXPECT_TRUE(attempts_.empty());
}

TEST_F(PolicyTest, StopsWhenBreakerOpens) {
  CircuitBreaker breaker("inventory", clock_, {.consecutive_failures = 2});
  CallPolicy p = Policy();
  p.max_attempts = 5;
  p.breaker = &breaker;
  Status s = Execute(p, Script({Code::kUnavailable, Code::kUnavailable, Code::kUnavailable}));
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("circuit open: inventory"), std::string::npos) << s.message();
  EXPECT_EQ(attempts_.size(), 2u);
  EXPECT_EQ(breaker.state(), BreakerState::kOpen);

  attempts_.clear();
  Status again = Execute(p, Script({}));
  EXPECT_EQ(again.code(), Code::kUnavailable);
  EXPECT_EQ(again.message(), "circuit open: inventory");
  EXPECT_TRUE(attempts_.empty()) << "rejected fast";
}

TEST_F(PolicyTest, ClientErrorsDoNotTripBreaker) {
  CircuitBreaker breaker("inventory", clock_, {.consecutive_failures = 1});
  CallPolicy p = Policy();
  p.breaker = &breaker;
  for (int i = 0; i < 5; ++i) (void)Execute(p, Script({Code::kNotFound}));
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

TEST_F(PolicyTest, FullBulkheadRejectsWithoutCallingOrChargingBreaker) {
  Bulkhead bulkhead("inventory", clock_, {.max_in_flight = 1});
  CircuitBreaker breaker("inventory", clock_, {.consecutive_failures = 1});
  CallPolicy p = Policy();
  p.bulkhead = &bulkhead;
  p.breaker = &breaker;
  auto held = bulkhead.TryAcquire();
  ASSERT_TRUE(held.ok());
  Status s = Execute(p, Script({}));
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_TRUE(attempts_.empty());
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  held->Release();

  AttemptFn observe = [&](int, SteadyTime) -> Status {
    EXPECT_EQ(bulkhead.in_flight(), 1) << "the attempt holds a permit";
    return Status::Ok();
  };
  EXPECT_TRUE(Execute(p, observe).ok());
  EXPECT_EQ(bulkhead.in_flight(), 0);
}

TEST_F(PolicyTest, RetriesConsumeBudget) {
  RetryBudget budget(clock_, {.ratio = 0.0, .min_retries_per_second = 0.1, .window = seconds(10)});
  CallPolicy p = Policy();
  p.max_attempts = 5;
  p.budget = &budget;
  std::vector<Code> failing(5, Code::kUnavailable);
  Status first = Execute(p, Script(failing));
  EXPECT_EQ(first.code(), Code::kUnavailable);
  EXPECT_EQ(attempts_.size(), 2u) << "the budget allows one retry in the window";

  attempts_.clear();
  Status second = Execute(p, Script(failing));
  EXPECT_EQ(second.code(), Code::kUnavailable);
  EXPECT_EQ(attempts_.size(), 1u) << "budget spent";
  RetryBudgetStats stats = budget.Stats();
  EXPECT_EQ(stats.requests, 2);
  EXPECT_EQ(stats.retries, 1);
  EXPECT_EQ(stats.denied, 2) << "one at the end of each call";
}

TEST_F(PolicyTest, SuccessDoesNotConsumeBudget) {
  RetryBudget budget(clock_, {.ratio = 0.0, .min_retries_per_second = 0.1, .window = seconds(10)});
  CallPolicy p = Policy();
  p.budget = &budget;
  EXPECT_TRUE(Execute(p, Script({})).ok());
  EXPECT_EQ(budget.Stats().retries, 0);
}

TEST_F(PolicyTest, ExceptionsBecomeInternal) {
  Status s = Execute(Policy(), [](int, SteadyTime) -> Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("boom"), std::string::npos);
}

TEST_F(PolicyTest, ExecuteResultReturnsValueOfSuccessfulAttempt) {
  Result<std::string> r =
      ExecuteResult<std::string>(Policy(), [&](int attempt, SteadyTime) -> Result<std::string> {
        if (attempt == 0) return Unavailable("try again");
        return "attempt " + std::to_string(attempt);
      });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "attempt 1");

  Result<int> err =
      ExecuteResult<int>(Policy(), [](int, SteadyTime) -> Result<int> { return NotFound("no such sku"); });
  EXPECT_EQ(err.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace emporium::resilience
