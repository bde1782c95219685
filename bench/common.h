// What the benchmarks share: latency percentiles over the samples of every thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace emporium::bench {

// Every thread's samples in one vector, sorted ascending.
inline std::vector<double> SortedSamples(const std::vector<std::vector<double>>& per_thread) {
  std::vector<double> all;
  for (const auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  return all;
}

// The q-quantile (0..1, nearest rank) of samples sorted ascending; 0 when there are none.
inline double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())))];
}

}  // namespace emporium::bench
