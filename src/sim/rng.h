// The simulator's random numbers: xoshiro256** (platform/core/xoshiro.h), with the transforms
// written out here (std::*_distribution differ between standard libraries), so a seed gives the
// same shoppers everywhere. Hash() derives independent streams and stable per-name vectors.
// An Rng is not thread-safe; give each thread or session its own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>

#include "platform/core/xoshiro.h"

namespace emporium::sim {

// FNV-1a over the bytes, mixed with the seed.
inline uint64_t Hash(uint64_t seed, std::string_view s) {
  uint64_t h = Fnv1a(s, 0xcbf29ce484222325ULL ^ seed);
  return SplitMix64(h);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Next() { return gen_.Next(); }
  // [0, 1)
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // [0, n); n > 0
  uint64_t Below(uint64_t n) { return Next() % n; }
  int Int(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Chance(double p) { return Uniform() < p; }
  double Normal() {
    double u1 = Uniform();
    while (u1 <= 1e-300) u1 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * Uniform());
  }
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }
  // Gamma(shape, 1) by Marsaglia and Tsang (shape < 1 boosted).
  double Gamma(double shape) {
    if (shape < 1) return Gamma(shape + 1) * std::pow(Uniform() + 1e-300, 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = Normal(), v = 1 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      double u = Uniform();
      if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v)))
        return d * v;
    }
  }
  int Poisson(double mean) {
    if (mean > 30) return std::max(0, static_cast<int>(std::lround(mean + std::sqrt(mean) * Normal())));
    const double l = std::exp(-mean);
    int k = 0;
    double p = 1;
    do {
      ++k;
      p *= Uniform();
    } while (p > l);
    return k - 1;
  }
  // An index drawn with probability proportional to weights (all >= 0, not all 0).
  size_t Pick(std::span<const double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double r = Uniform() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.size() - 1;
  }

 private:
  Xoshiro256 gen_;
};

}  // namespace emporium::sim
