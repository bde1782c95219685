#include "platform/resilience/bulkhead.h"

#include <algorithm>
#include <utility>

namespace emporium::resilience {
namespace {

// How often a waiter re-reads the Clock; only matters while a bulkhead is saturated.
constexpr std::chrono::milliseconds kPollSlice{5};

}  // namespace

BulkheadPermit::BulkheadPermit(BulkheadPermit&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)) {}

BulkheadPermit& BulkheadPermit::operator=(BulkheadPermit&& other) noexcept {
  if (this == &other) return *this;
  Release();
  owner_ = std::exchange(other.owner_, nullptr);
  return *this;
}

BulkheadPermit::~BulkheadPermit() {
  Release();
}

void BulkheadPermit::Release() {
  Bulkhead* owner = std::exchange(owner_, nullptr);
  if (owner != nullptr) owner->ReleaseOne();
}

Bulkhead::Bulkhead(std::string name, Clock& clock, BulkheadOptions options)
    : name_(std::move(name)), clock_(clock), options_(options) {}

Result<BulkheadPermit> Bulkhead::TryAcquire() {
  std::lock_guard lock(mu_);
  if (in_flight_ >= options_.max_in_flight) return ResourceExhausted("bulkhead full: " + name_);
  ++in_flight_;
  return BulkheadPermit(this);
}

Result<BulkheadPermit> Bulkhead::Acquire(SteadyTime deadline) {
  std::unique_lock lock(mu_);
  if (in_flight_ < options_.max_in_flight) {
    ++in_flight_;
    return BulkheadPermit(this);
  }
  SteadyTime now = clock_.Now();
  auto max_wait = std::chrono::duration_cast<SteadyTime::duration>(options_.max_wait);
  // Saturate rather than overflow for "wait forever" settings.
  SteadyTime max_wait_end = max_wait > SteadyTime::max() - now ? SteadyTime::max() : now + max_wait;
  bool deadline_binds = deadline < max_wait_end;
  SteadyTime wait_end = std::min(deadline, max_wait_end);
  auto give_up = [&]() -> Status {
    if (deadline_binds) return DeadlineExceeded("deadline passed waiting for bulkhead: " + name_);
    return ResourceExhausted("bulkhead full: " + name_);
  };
  if (now >= wait_end) return give_up();
  if (waiting_ >= options_.max_waiters) return ResourceExhausted("bulkhead queue full: " + name_);

  ++waiting_;
  while (in_flight_ >= options_.max_in_flight) {
    now = clock_.Now();
    if (now >= wait_end) {
      --waiting_;
      return give_up();
    }
    auto remaining = std::chrono::duration_cast<std::chrono::nanoseconds>(wait_end - now);
    cv_.wait_for(lock, std::min<std::chrono::nanoseconds>(remaining, kPollSlice));
  }
  --waiting_;
  ++in_flight_;
  return BulkheadPermit(this);
}

void Bulkhead::ReleaseOne() {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  cv_.notify_one();
}

int Bulkhead::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

int Bulkhead::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace emporium::resilience
