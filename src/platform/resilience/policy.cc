#include "platform/resilience/policy.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <string>

namespace emporium::resilience {
namespace {

Status RunAttempt(const AttemptFn& fn, int attempt, SteadyTime attempt_deadline) {
  try {
    return fn(attempt, attempt_deadline);
  } catch (const std::exception& e) {
    return Internal(std::string("attempt threw: ") + e.what());
  } catch (...) {
    return Internal("attempt threw a non-standard exception");
  }
}

SteadyTime AttemptDeadline(const CallPolicy& policy, SteadyTime now) {
  if (policy.per_try_timeout.count() <= 0) return policy.deadline;
  auto per_try = std::chrono::duration_cast<SteadyTime::duration>(policy.per_try_timeout);
  if (per_try >= policy.deadline - now) return policy.deadline;
  return now + per_try;
}

}  // namespace

Status Execute(const CallPolicy& policy, const AttemptFn& fn) {
  Clock& clock = policy.clock != nullptr ? *policy.clock : SystemClock::Get();
  int max_attempts = std::max(policy.max_attempts, 1);
  if (policy.budget != nullptr) policy.budget->RecordRequest();

  std::optional<Status> last;
  for (int attempt = 0;; ++attempt) {
    SteadyTime now = clock.Now();
    if (now >= policy.deadline) {
      if (last) return *last;
      return DeadlineExceeded("deadline passed before the first attempt");
    }
    SteadyTime attempt_deadline = AttemptDeadline(policy, now);

    std::optional<BreakerTicket> ticket;
    if (policy.breaker != nullptr) {
      Result<BreakerTicket> allowed = policy.breaker->Allow();
      if (!allowed.ok()) {
        if (!last) return allowed.status();
        return Status(allowed.status().code(),
                      allowed.status().message() + " (after: " + last->ToString() + ")");
      }
      ticket.emplace(std::move(allowed).value());
    }

    Status status;
    {
      std::optional<BulkheadPermit> permit;
      if (policy.bulkhead != nullptr) {
        Result<BulkheadPermit> acquired = policy.bulkhead->Acquire(attempt_deadline);
        // The ticket's destructor reports "ignored": a local limit says nothing about the upstream.
        if (!acquired.ok()) return acquired.status();
        permit.emplace(std::move(acquired).value());
      }
      status = RunAttempt(fn, attempt, attempt_deadline);
    }
    if (ticket) ticket->Record(OutcomeFor(status));

    if (status.ok() || !IsRetryable(status.code()) || !policy.idempotent) return status;
    if (attempt + 1 >= max_attempts) return status;
    auto delay = policy.backoff.Delay(attempt);
    // A retry that could only start at or after the deadline would be wasted work.
    if (clock.Now() + std::chrono::duration_cast<SteadyTime::duration>(delay) >= policy.deadline) {
      return status;
    }
    if (policy.budget != nullptr && !policy.budget->TryAcquireRetry()) return status;
    last = std::move(status);
    if (delay.count() > 0) clock.Sleep(delay);
  }
}

}  // namespace emporium::resilience
