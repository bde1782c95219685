#include "platform/ml/encoder/small_gemm.h"

#include <immintrin.h>

namespace emporium::ml {
namespace {

// GCC 12 reports its own _mm512_reduce_add_ps as using an uninitialised value (a known false
// positive in avx512fintrin.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// Compiled for AVX-512F whatever the project's flags; only called after the CPU check.
__attribute__((target("avx512f"))) void Kernel(int m, int n, int k, const float* x, const float* w, float* y,
                                               int ldy) {
  const int full = k - k % 16;
  const __mmask16 tail = static_cast<__mmask16>((1u << (k % 16)) - 1);
  int o = 0;
  // Four weight rows at a time: each input vector loaded feeds four accumulators, and the four rows
  // stay in L1 while every input row goes past them. (Blocking input rows too, in registers, was
  // measured slower.)
  for (; o + 4 <= n; o += 4) {
    const float* w0 = w + static_cast<long>(o) * k;
    const float* w1 = w0 + k;
    const float* w2 = w1 + k;
    const float* w3 = w2 + k;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<long>(t) * k;
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
             a3 = _mm512_setzero_ps();
      for (int i = 0; i < full; i += 16) {
        const __m512 xv = _mm512_loadu_ps(xt + i);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + i), xv, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + i), xv, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + i), xv, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + i), xv, a3);
      }
      if (tail) {
        const __m512 xv = _mm512_maskz_loadu_ps(tail, xt + full);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w0 + full), xv, a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w1 + full), xv, a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w2 + full), xv, a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, w3 + full), xv, a3);
      }
      float* yt = y + static_cast<long>(t) * ldy + o;
      yt[0] += _mm512_reduce_add_ps(a0);
      yt[1] += _mm512_reduce_add_ps(a1);
      yt[2] += _mm512_reduce_add_ps(a2);
      yt[3] += _mm512_reduce_add_ps(a3);
    }
  }
  for (; o < n; ++o) {
    const float* wr = w + static_cast<long>(o) * k;
    for (int t = 0; t < m; ++t) {
      const float* xt = x + static_cast<long>(t) * k;
      __m512 a = _mm512_setzero_ps();
      for (int i = 0; i < full; i += 16)
        a = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i), _mm512_loadu_ps(xt + i), a);
      if (tail)
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, wr + full), _mm512_maskz_loadu_ps(tail, xt + full),
                            a);
      y[static_cast<long>(t) * ldy + o] += _mm512_reduce_add_ps(a);
    }
  }
}

#pragma GCC diagnostic pop

}  // namespace

bool SmallGemmNT(int m, int n, int k, const float* x, const float* w, float* y, int ldy) {
  static const bool supported = __builtin_cpu_supports("avx512f");
  if (!supported) return false;
  Kernel(m, n, k, x, w, y, ldy);
  return true;
}

}  // namespace emporium::ml
