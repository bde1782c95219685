#include "platform/resilience/backoff.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "platform/core/random.h"

namespace emporium::resilience {

Backoff::Backoff(BackoffOptions options, JitterSource jitter)
    : options_(options), jitter_(std::move(jitter)) {
  if (!jitter_) jitter_ = &emporium::RandomUnit;
  if (options_.multiplier < 1.0) options_.multiplier = 1.0;
  if (options_.base.count() < 0) options_.base = std::chrono::nanoseconds(0);
  if (options_.cap < options_.base) options_.cap = options_.base;
}

std::chrono::nanoseconds Backoff::Ceiling(int retry) const {
  // Computed in double so large retry counts saturate at the cap instead of overflowing.
  double ceiling = static_cast<double>(options_.base.count()) *
                   std::pow(options_.multiplier, static_cast<double>(std::max(retry, 0)));
  double cap = static_cast<double>(options_.cap.count());
  if (!(ceiling < cap)) return options_.cap;  // also catches inf/nan
  return std::chrono::nanoseconds(static_cast<int64_t>(ceiling));
}

std::chrono::nanoseconds Backoff::Delay(int retry) const {
  double unit = jitter_();
  if (!(unit > 0.0)) unit = 0.0;  // also maps NaN to 0
  if (unit > 1.0) unit = 1.0;
  return std::chrono::nanoseconds(static_cast<int64_t>(unit * static_cast<double>(Ceiling(retry).count())));
}

}  // namespace emporium::resilience
