// A latency histogram in the manner of HdrHistogram: buckets of ~1.6 % relative width from 1 µs
// to ~1 hour, so percentiles keep their precision across six orders of magnitude; fixed memory;
// mergeable. Not thread-safe (the load generator keeps one per endpoint under a lock).
#pragma once

#include <array>
#include <cstdint>

namespace emporium::sim {

class LatencyHistogram {
 public:
  void Record(int64_t micros);
  void Merge(const LatencyHistogram& other);
  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // The value at or below which `q` (0..1) of the recorded values lie (a bucket's upper edge).
  int64_t Percentile(double q) const;

 private:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per power of two
  static constexpr int kBuckets = 32 * (1 << kSubBits);
  static int Index(int64_t micros);
  static int64_t UpperEdge(int index);
  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t max_ = 0;
};

}  // namespace emporium::sim
