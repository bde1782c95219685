#include "platform/resilience/retry_budget.h"

namespace emporium::resilience {

RetryBudget::RetryBudget(Clock& clock, RetryBudgetOptions options)
    : clock_(clock), options_(options), window_(options.window, options.buckets) {}

void RetryBudget::RecordRequest() {
  std::lock_guard lock(mu_);
  window_.Add(clock_.Now(), kRequests);
}

bool RetryBudget::TryAcquireRetry() {
  std::lock_guard lock(mu_);
  SteadyTime now = clock_.Now();
  auto sums = window_.Sum(now);
  double window_seconds = std::chrono::duration<double>(options_.window).count();
  double allowance = options_.ratio * static_cast<double>(sums[kRequests]) +
                     options_.min_retries_per_second * window_seconds;
  // The epsilon keeps e.g. 0.29 × 100 = 28.999… from denying the 29th retry.
  if (static_cast<double>(sums[kRetries] + 1) > allowance + 1e-9) {
    ++denied_;
    return false;
  }
  window_.Add(now, kRetries);
  return true;
}

RetryBudgetStats RetryBudget::Stats() const {
  std::lock_guard lock(mu_);
  auto sums = window_.Sum(clock_.Now());
  return {sums[kRequests], sums[kRetries], denied_};
}

}  // namespace emporium::resilience
