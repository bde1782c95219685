// Retry budget (Finagle RetryBudget / Envoy retry_budget): caps retries to a fraction of recent
// traffic so that retries cannot multiply load on an upstream that is already failing.
//
// A retry is allowed while, over the sliding window,
//     retries + 1 <= ratio × requests + min_retries_per_second × window_seconds.
// The fixed allowance keeps low-traffic callers able to retry at all. Share one budget per
// upstream among all callers. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "platform/core/clock.h"
#include "platform/resilience/rolling_counters.h"

namespace emporium::resilience {

struct RetryBudgetOptions {
  double ratio = 0.2;                  // retries per original request
  double min_retries_per_second = 10;  // allowance independent of traffic
  std::chrono::nanoseconds window = std::chrono::seconds(10);
  int buckets = 10;
};

struct RetryBudgetStats {
  int64_t requests = 0;  // in the window
  int64_t retries = 0;   // in the window
  int64_t denied = 0;    // since construction
};

class RetryBudget {
 public:
  // `clock` must outlive the budget.
  explicit RetryBudget(Clock& clock, RetryBudgetOptions options = {});

  // Counts an original request (first attempt). Retries are not requests.
  void RecordRequest();
  // True and the retry is counted if the budget allows one more; false (counted as denied) if not.
  bool TryAcquireRetry();
  RetryBudgetStats Stats() const;

 private:
  enum Counter : size_t { kRequests = 0, kRetries = 1 };

  Clock& clock_;
  RetryBudgetOptions options_;
  mutable std::mutex mu_;
  RollingCounters<2> window_;
  int64_t denied_ = 0;
};

}  // namespace emporium::resilience
