// Dense layers for a handful of tokens (a search query): y[m×n] += x[m×k] · w[n×k]ᵀ.
//
// A BLAS GEMM repacks the whole weight matrix on every call; with a few rows that copy costs as
// much as the arithmetic, and a query would spend most of its time there (measured: docs/ml.md).
// This kernel streams each weight row once, straight from the [out, in] layout, and keeps the few
// input rows in L1. It needs AVX-512F, checked once at run time; SmallGemmNT returns false on a CPU
// without it and the caller uses BLAS. Stateless and thread-safe.
#pragma once

namespace emporium::ml {

// Rows up to which SmallGemmNT beats OpenBLAS on this model's shapes.
inline constexpr int kSmallGemmRows = 16;

// y (row stride ldy) += x · wᵀ; false, with y untouched, when the CPU lacks AVX-512F.
bool SmallGemmNT(int m, int n, int k, const float* x, const float* w, float* y, int ldy);

}  // namespace emporium::ml
