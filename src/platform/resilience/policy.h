// Execute(): runs one logical call to an upstream under a CallPolicy that composes a deadline,
// a circuit breaker, a bulkhead, retries with backoff, and a retry budget. The RPC/HTTP client
// wraps every remote call in it.
//
// Per attempt, in order:
//   1. Stop if the caller's deadline has passed (kDeadlineExceeded, or the last attempt's error).
//   2. attempt_deadline = min(deadline, now + per_try_timeout); fn must honour it.
//   3. breaker->Allow(): if open, stop with kUnavailable "circuit open: <name>".
//   4. bulkhead->Acquire(attempt_deadline): if full, stop (kResourceExhausted / kDeadlineExceeded).
//   5. fn(attempt, attempt_deadline); its outcome is reported to the breaker (IsBreakerFailure).
// Retry only if: the error IsRetryable (unavailable, deadline exceeded), the call is idempotent,
// attempts < max_attempts, the backoff delay ends before the deadline, and the budget grants one.
// Between attempts it sleeps Backoff::Delay(retry) via clock->Sleep, holding no permit.
// Exceptions thrown by fn become kInternal. Returns fn's last Status when it stops retrying.
//
// Thread-safety: Execute is reentrant; the breaker, bulkhead, budget and clock it points to are
// thread-safe and shared across calls. The policy must outlive the Execute call.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/resilience/backoff.h"
#include "platform/resilience/bulkhead.h"
#include "platform/resilience/circuit_breaker.h"
#include "platform/resilience/retry_budget.h"

namespace emporium::resilience {

struct CallPolicy {
  // The caller's deadline (e.g. http::Request::deadline); never exceeded by retries.
  SteadyTime deadline = SteadyTime::max();
  // Budget of one attempt; zero means each attempt may use all remaining time.
  std::chrono::nanoseconds per_try_timeout{0};
  // Including the first attempt; 1 disables retries.
  int max_attempts = 3;
  // Retrying a non-idempotent call (e.g. POST without an idempotency key) could apply it twice.
  bool idempotent = false;
  Backoff backoff;
  // Optional, not owned; null disables that piece.
  CircuitBreaker* breaker = nullptr;
  Bulkhead* bulkhead = nullptr;
  RetryBudget* budget = nullptr;
  Clock* clock = &SystemClock::Get();
};

// attempt counts from 0; attempt_deadline is when this attempt must give up.
using AttemptFn = std::function<Status(int attempt, SteadyTime attempt_deadline)>;

Status Execute(const CallPolicy& policy, const AttemptFn& fn);

// The same for calls that produce a value: fn returns Result<T>; the value of the successful
// attempt is returned.
template <typename T, typename Fn>
Result<T> ExecuteResult(const CallPolicy& policy, Fn&& fn) {
  std::optional<T> value;
  Status status = Execute(policy, [&](int attempt, SteadyTime attempt_deadline) -> Status {
    Result<T> result = fn(attempt, attempt_deadline);
    if (!result.ok()) return result.status();
    value.emplace(std::move(result).value());
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::move(*value);
}

}  // namespace emporium::resilience
