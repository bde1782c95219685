// Counters over a sliding time window, kept in fixed-width buckets (the breaker's failure ratio
// and the retry budget's ratio both need "how many X in the last W seconds").
//
// Events age out one bucket at a time, so the effective window is between (buckets-1)/buckets·W
// and W. Memory is O(buckets) regardless of traffic.
// Not thread-safe: owners hold their own lock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "platform/core/clock.h"

namespace emporium::resilience {

template <size_t N>
class RollingCounters {
 public:
  // window > 0, buckets >= 1; a bucket narrower than 1 ns is widened to 1 ns.
  RollingCounters(std::chrono::nanoseconds window, int buckets)
      : buckets_(buckets < 1 ? 1 : static_cast<size_t>(buckets)) {
    width_ns_ = window.count() / static_cast<int64_t>(buckets_.size());
    if (width_ns_ < 1) width_ns_ = 1;
  }

  // Adds n to counter `index` at time now.
  void Add(SteadyTime now, size_t index, int64_t n = 1) {
    int64_t epoch = EpochOf(now);
    Bucket& b = buckets_[static_cast<size_t>(epoch) % buckets_.size()];
    if (b.epoch != epoch) {
      b.epoch = epoch;
      b.counts.fill(0);
    }
    b.counts[index] += n;
  }

  // Totals of every counter over the window ending at now.
  std::array<int64_t, N> Sum(SteadyTime now) const {
    int64_t epoch = EpochOf(now);
    int64_t oldest = epoch - static_cast<int64_t>(buckets_.size()) + 1;
    std::array<int64_t, N> total{};
    for (const Bucket& b : buckets_) {
      if (b.epoch < oldest || b.epoch > epoch) continue;
      for (size_t i = 0; i < N; ++i) total[i] += b.counts[i];
    }
    return total;
  }

  void Reset() {
    for (Bucket& b : buckets_) b = Bucket{};
  }

 private:
  struct Bucket {
    int64_t epoch = -1;  // which bucket-width slice of time these counts belong to
    std::array<int64_t, N> counts{};
  };

  int64_t EpochOf(SteadyTime now) const {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    return ns < 0 ? 0 : ns / width_ns_;
  }

  int64_t width_ns_ = 1;
  std::vector<Bucket> buckets_;
};

}  // namespace emporium::resilience
