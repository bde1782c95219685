#include "sim/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace emporium::sim {

int LatencyHistogram::Index(int64_t micros) {
  const uint64_t v = static_cast<uint64_t>(std::max<int64_t>(micros, 1));
  const int magnitude = 63 - std::countl_zero(v);  // floor(log2 v)
  if (magnitude < kSubBits) return static_cast<int>(v);
  const int sub = static_cast<int>((v >> (magnitude - kSubBits)) & ((1 << kSubBits) - 1));
  const int index = ((magnitude - kSubBits + 1) << kSubBits) + sub;
  return std::min(index, kBuckets - 1);
}

int64_t LatencyHistogram::UpperEdge(int index) {
  if (index < (1 << kSubBits)) return index;
  const int magnitude = (index >> kSubBits) + kSubBits - 1;
  const int64_t sub = index & ((1 << kSubBits) - 1);
  const int64_t base = int64_t{1} << magnitude;
  return base + ((sub + 1) << (magnitude - kSubBits)) - 1;
}

void LatencyHistogram::Record(int64_t micros) {
  ++counts_[static_cast<size_t>(Index(micros))];
  ++count_;
  sum_ += std::max<int64_t>(micros, 0);
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_))));
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperEdge(static_cast<int>(i)), max_);
  }
  return max_;
}

}  // namespace emporium::sim
