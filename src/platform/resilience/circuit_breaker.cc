#include "platform/resilience/circuit_breaker.h"

#include <utility>

namespace emporium::resilience {
namespace {

CircuitBreakerOptions Normalized(CircuitBreakerOptions o) {
  if (o.half_open_probes < 1) o.half_open_probes = 1;
  if (o.min_requests < 1) o.min_requests = 1;
  if (o.consecutive_failures < 0) o.consecutive_failures = 0;
  return o;
}

}  // namespace

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "unknown";
}

bool IsBreakerFailure(Code code) {
  return code == Code::kUnavailable || code == Code::kDeadlineExceeded || code == Code::kInternal;
}

BreakerTicket::BreakerTicket(BreakerTicket&& other) noexcept
    : breaker_(std::exchange(other.breaker_, nullptr)),
      generation_(other.generation_),
      probe_(other.probe_) {}

BreakerTicket& BreakerTicket::operator=(BreakerTicket&& other) noexcept {
  if (this == &other) return *this;
  Record(BreakerOutcome::kIgnored);
  breaker_ = std::exchange(other.breaker_, nullptr);
  generation_ = other.generation_;
  probe_ = other.probe_;
  return *this;
}

BreakerTicket::~BreakerTicket() {
  Record(BreakerOutcome::kIgnored);
}

void BreakerTicket::Record(BreakerOutcome outcome) {
  CircuitBreaker* breaker = std::exchange(breaker_, nullptr);
  if (breaker == nullptr) return;
  breaker->Record(generation_, probe_, outcome);
}

CircuitBreaker::CircuitBreaker(std::string name, Clock& clock, CircuitBreakerOptions options)
    : name_(std::move(name)),
      clock_(clock),
      options_(Normalized(options)),
      since_(clock.Now()),
      window_(options.window, options.buckets) {}

BreakerState CircuitBreaker::EffectiveStateLocked(SteadyTime now) const {
  if (state_ == BreakerState::kOpen && now >= since_ + options_.open_interval) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

void CircuitBreaker::TransitionLocked(BreakerState to, SteadyTime now) {
  state_ = to;
  since_ = now;
  ++generation_;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  consecutive_failures_ = 0;
  // Failures that opened the breaker must not count again once it has closed.
  window_.Reset();
  if (to == BreakerState::kOpen) ++times_opened_;
}

Result<BreakerTicket> CircuitBreaker::Allow() {
  std::lock_guard lock(mu_);
  SteadyTime now = clock_.Now();
  if (state_ == BreakerState::kOpen && EffectiveStateLocked(now) == BreakerState::kHalfOpen) {
    TransitionLocked(BreakerState::kHalfOpen, now);
  }
  switch (state_) {
    case BreakerState::kClosed: return BreakerTicket(this, generation_, false);
    case BreakerState::kOpen: ++rejected_; return Unavailable("circuit open: " + name_);
    case BreakerState::kHalfOpen:
      if (probes_in_flight_ + probe_successes_ >= options_.half_open_probes) {
        ++rejected_;
        return Unavailable("circuit open: " + name_ + " (half-open, probes in flight)");
      }
      ++probes_in_flight_;
      return BreakerTicket(this, generation_, true);
  }
  return Internal("circuit breaker in unknown state");
}

bool CircuitBreaker::ShouldTripLocked(SteadyTime now) const {
  if (options_.consecutive_failures > 0 && consecutive_failures_ >= options_.consecutive_failures) {
    return true;
  }
  auto sums = window_.Sum(now);
  int64_t total = sums[kSuccesses] + sums[kFailures];
  if (total == 0 || total < options_.min_requests) return false;
  double failures = static_cast<double>(sums[kFailures]);
  return failures >= options_.failure_ratio * static_cast<double>(total);
}

void CircuitBreaker::Record(uint64_t generation, bool probe, BreakerOutcome outcome) {
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  SteadyTime now = clock_.Now();
  if (state_ == BreakerState::kHalfOpen && probe) {
    --probes_in_flight_;
    if (outcome == BreakerOutcome::kFailure) {
      TransitionLocked(BreakerState::kOpen, now);
    } else if (outcome == BreakerOutcome::kSuccess && ++probe_successes_ >= options_.half_open_probes) {
      TransitionLocked(BreakerState::kClosed, now);
    }
    return;
  }
  if (state_ != BreakerState::kClosed || outcome == BreakerOutcome::kIgnored) return;
  if (outcome == BreakerOutcome::kSuccess) {
    window_.Add(now, kSuccesses);
    consecutive_failures_ = 0;
    return;
  }
  window_.Add(now, kFailures);
  ++consecutive_failures_;
  if (ShouldTripLocked(now)) TransitionLocked(BreakerState::kOpen, now);
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return EffectiveStateLocked(clock_.Now());
}

BreakerSnapshot CircuitBreaker::Snapshot() const {
  std::lock_guard lock(mu_);
  SteadyTime now = clock_.Now();
  BreakerSnapshot snap;
  snap.name = name_;
  snap.state = EffectiveStateLocked(now);
  auto sums = window_.Sum(now);
  snap.window_successes = sums[kSuccesses];
  snap.window_failures = sums[kFailures];
  snap.consecutive_failures = consecutive_failures_;
  snap.probes_in_flight = probes_in_flight_;
  snap.times_opened = times_opened_;
  snap.rejected = rejected_;
  // A lazily-entered half-open state began when the open interval ran out.
  snap.since = (snap.state != state_)
                   ? since_ + std::chrono::duration_cast<SteadyTime::duration>(options_.open_interval)
                   : since_;
  return snap;
}

}  // namespace emporium::resilience
