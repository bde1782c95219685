// Per-upstream circuit breaker: stops sending calls to an upstream that keeps failing, so callers
// fail fast instead of piling up on timeouts, and the upstream gets room to recover.
//
//   closed ──(failure ratio >= threshold with >= min_requests in the window,
//             or consecutive_failures in a row)──▶ open
//   open ──(open_interval elapsed)──▶ half-open: admits up to half_open_probes concurrent probes
//   half-open ──(half_open_probes probes succeed)──▶ closed (window cleared)
//   half-open ──(any probe fails)──▶ open (for another open_interval)
//
// Use: `EMP_ASSIGN_OR_RETURN(auto ticket, breaker.Allow()); ...; ticket.Record(outcome);`.
// A ticket not recorded when destroyed counts as kIgnored (frees a probe slot, no verdict).
// Outcomes of tickets issued before the latest state change are ignored, so a slow call admitted
// while closed cannot close a half-open breaker.
//
// Thread-safe: one breaker is shared by every caller of an upstream.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/resilience/rolling_counters.h"

namespace emporium::resilience {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
// "closed", "open", "half_open"
std::string_view BreakerStateName(BreakerState state);

enum class BreakerOutcome {
  kSuccess,
  kFailure,
  kIgnored,  // the call ended without saying anything about upstream health (e.g. cancelled)
};

// Codes that say the upstream is unhealthy: unavailable, deadline exceeded, internal. Client
// errors (4xx-like) and rate limiting are the caller's problem and count as success.
bool IsBreakerFailure(Code code);
inline BreakerOutcome OutcomeFor(const Status& s) {
  return IsBreakerFailure(s.code()) ? BreakerOutcome::kFailure : BreakerOutcome::kSuccess;
}

struct CircuitBreakerOptions {
  double failure_ratio = 0.5;    // open when failures/requests in the window reach this...
  int64_t min_requests = 20;     // ...and the window holds at least this many requests
  int consecutive_failures = 5;  // open after this many failures in a row; 0 disables
  std::chrono::nanoseconds window = std::chrono::seconds(10);
  int buckets = 10;
  std::chrono::nanoseconds open_interval = std::chrono::seconds(5);
  int half_open_probes = 1;  // concurrent probes in half-open; all must succeed to close
};

// For admin pages and metrics.
struct BreakerSnapshot {
  std::string name;
  BreakerState state = BreakerState::kClosed;
  int64_t window_successes = 0;
  int64_t window_failures = 0;
  int consecutive_failures = 0;
  int probes_in_flight = 0;
  int64_t times_opened = 0;  // since construction
  int64_t rejected = 0;      // calls refused since construction
  SteadyTime since{};        // when the current state began
};

class CircuitBreaker;

// Admission for one call; move-only. Record() exactly once, or let the destructor ignore it.
class BreakerTicket {
 public:
  BreakerTicket(BreakerTicket&& other) noexcept;
  BreakerTicket& operator=(BreakerTicket&& other) noexcept;
  BreakerTicket(const BreakerTicket&) = delete;
  BreakerTicket& operator=(const BreakerTicket&) = delete;
  ~BreakerTicket();

  // Reports the call's outcome; later calls do nothing.
  void Record(BreakerOutcome outcome);
  bool is_probe() const { return probe_; }

 private:
  friend class CircuitBreaker;
  BreakerTicket(CircuitBreaker* breaker, uint64_t generation, bool probe)
      : breaker_(breaker), generation_(generation), probe_(probe) {}

  CircuitBreaker* breaker_ = nullptr;  // null once recorded or moved from
  uint64_t generation_ = 0;
  bool probe_ = false;
};

class CircuitBreaker {
 public:
  // `clock` must outlive the breaker, and the breaker must outlive its tickets.
  CircuitBreaker(std::string name, Clock& clock, CircuitBreakerOptions options = {});
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // A ticket if the call may go ahead; kUnavailable "circuit open: <name>" if not.
  Result<BreakerTicket> Allow();
  BreakerState state() const;
  BreakerSnapshot Snapshot() const;
  const std::string& name() const { return name_; }

 private:
  friend class BreakerTicket;
  enum Counter : size_t { kSuccesses = 0, kFailures = 1 };

  void Record(uint64_t generation, bool probe, BreakerOutcome outcome);
  // State as seen at `now`: an open breaker whose interval has elapsed reads as half-open even
  // before Allow() performs the transition, so const observers need not mutate.
  BreakerState EffectiveStateLocked(SteadyTime now) const;
  void TransitionLocked(BreakerState to, SteadyTime now);
  bool ShouldTripLocked(SteadyTime now) const;

  const std::string name_;
  Clock& clock_;
  const CircuitBreakerOptions options_;

  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  SteadyTime since_{};
  uint64_t generation_ = 0;  // bumped on every transition; stale tickets are ignored
  int probes_in_flight_ = 0;
  int probe_successes_ = 0;
  RollingCounters<2> window_;
  int consecutive_failures_ = 0;
  int64_t times_opened_ = 0;
  int64_t rejected_ = 0;
};

}  // namespace emporium::resilience
