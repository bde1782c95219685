#include "platform/ml/encoder/small_gemm.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace emporium::ml {
namespace {

// Odd sizes reach the kernel's tails: k not a multiple of 16, n not a multiple of 4.
TEST(SmallGemm, AddsXTimesWTransposedForAnyShape) {
  if (!__builtin_cpu_supports("avx512f")) {
    std::vector<float> y(4, 1.0f);
    EXPECT_FALSE(SmallGemmNT(1, 1, 4, y.data(), y.data(), y.data(), 1));
    EXPECT_EQ(y[0], 1.0f);  // untouched: the caller falls back to BLAS
    return;
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (auto [m, n, k] : {std::tuple{1, 1, 1}, {3, 7, 37}, {16, 13, 16}, {5, 4, 400}, {2, 9, 15}}) {
    SCOPED_TRACE(testing::Message() << m << "x" << n << "x" << k);
    std::vector<float> x(static_cast<size_t>(m * k)), w(static_cast<size_t>(n * k));
    for (float& v : x) v = normal(rng);
    for (float& v : w) v = normal(rng);
    const int ldy = n + 3;  // a wider output row, as the fused QKV buffer has
    std::vector<float> y(static_cast<size_t>(m * ldy), 0.5f);
    ASSERT_TRUE(SmallGemmNT(m, n, k, x.data(), w.data(), y.data(), ldy));
    for (int t = 0; t < m; ++t) {
      for (int o = 0; o < ldy; ++o) {
        double want = 0.5;
        for (int i = 0; o < n && i < k; ++i) want += double{x[t * k + i]} * w[o * k + i];
        EXPECT_NEAR(y[t * ldy + o], want, 1e-4 * k) << t << "," << o;
      }
    }
  }
}

}  // namespace
}  // namespace emporium::ml
