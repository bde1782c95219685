#include "platform/ml/mf/als.h"

#include <cblas.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <system_error>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "platform/core/pod_bytes.h"
#include "platform/core/xoshiro.h"

namespace emporium::ml {
namespace {

static_assert(std::endian::native == std::endian::little, "Save/Load write the host's floats as they are");

using AlignedFloats = std::vector<float, als_internal::CacheLineAllocator<float>>;
using RowMajorXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using FactorRows = Eigen::Map<const RowMajorXf, 0, Eigen::OuterStride<>>;

constexpr int kLanes = 8;  // floats per AVX register; factor rows are padded to a multiple
// CG stops once the squared residual norm falls below this (the threshold `implicit` uses).
constexpr float kCgTolerance = 1e-20f;
constexpr char kMagic[4] = {'E', 'A', 'L', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 36;  // magic, version, users, items, factors, λ, α, checksum

int PaddedStride(int factors) {
  return (factors + kLanes - 1) / kLanes * kLanes;
}

std::string Str(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// One half-step: every row of `m` solved against the fixed factors of the other side.
struct HalfStep {
  const CsrMatrix* m = nullptr;
  const float* other = nullptr;  // the other side's factors, padded rows of `stride`
  const float* gram = nullptr;   // stride × stride, row-major: OᵀO + λI, λ on the real diagonal only
  float* self = nullptr;         // m->rows padded rows, updated in place
  int factors = 0;
  int stride = 0;
  float alpha = 0;
  int cg_steps = 0;
};

// OᵀO + λI over the padded width (padding rows and columns stay 0), for `rows` rows of `other`.
void HalfStepGram(const float* other, int32_t rows, int factors, int stride, float lambda, AlignedFloats& g) {
  const size_t s = static_cast<size_t>(stride);
  g.assign(s * s, 0.0f);
  if (rows > 0)
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, stride, rows, 1.0f, other, stride, 0.0f, g.data(),
                stride);
  for (size_t i = 0; i < s; ++i)
    for (size_t j = 0; j < i; ++j) g[i * s + j] = g[j * s + i];
  for (int j = 0; j < factors; ++j) g[static_cast<size_t>(j) * s + static_cast<size_t>(j)] += lambda;
}

// The reference implementation of a row range, on Eigen maps of the factor rows.
void SolveRowsPortable(const HalfStep& h, int32_t begin, int32_t end, float* scratch) {
  using Vec = Eigen::Map<Eigen::VectorXf>;
  using ConstVec = Eigen::Map<const Eigen::VectorXf>;
  const size_t s = static_cast<size_t>(h.stride);
  const FactorRows g(h.gram, h.factors, h.factors, Eigen::OuterStride<>(h.stride));
  Vec r(scratch, h.factors), p(scratch + s, h.factors), ap(scratch + 2 * s, h.factors);
  for (int32_t row = begin; row < end; ++row) {
    Vec x(h.self + static_cast<size_t>(row) * s, h.factors);
    const int64_t lo = h.m->indptr[static_cast<size_t>(row)];
    const int64_t n = h.m->indptr[static_cast<size_t>(row) + 1] - lo;
    const int32_t* idx = h.m->indices.data() + lo;
    const float* val = h.m->values.data() + lo;
    auto item = [&](int64_t e) { return ConstVec(h.other + static_cast<size_t>(idx[e]) * s, h.factors); };

    r.noalias() = g * x;
    r = -r;
    for (int64_t e = 0; e < n; ++e) {
      const float w = h.alpha * val[e];
      const float d = item(e).dot(x);
      r += ((1.0f + w) - w * d) * item(e);
    }
    p = r;
    float rsold = r.squaredNorm();
    if (rsold < kCgTolerance) continue;
    for (int step = 0; step < h.cg_steps; ++step) {
      ap.noalias() = g * p;
      for (int64_t e = 0; e < n; ++e) ap += (h.alpha * val[e] * item(e).dot(p)) * item(e);
      const float pap = p.dot(ap);
      if (!(pap > 0)) break;
      const float a = rsold / pap;
      x += a * p;
      r -= a * ap;
      const float rsnew = r.squaredNorm();
      if (rsnew < kCgTolerance) break;
      p = r + (rsnew / rsold) * p;
      rsold = rsnew;
    }
  }
}

#if defined(__x86_64__)

bool HasAvx2Fma() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

// The same algorithm with AVX2+FMA, whatever the project's flags; only called after the CPU check.
// Vectors are `stride` floats (stride / 8 registers); the padding lanes stay 0 throughout.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

// Items ahead whose factor rows are fetched (they are scattered over the other side's factors):
// about a memory latency's worth of items, measured best at 8-16 on 100k × 50k.
constexpr int kPrefetchAhead = 12;

inline float HorizontalSum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

inline float DotAvx2(const float* a, const float* b, int chunks) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int c = 0;
  for (; c + 2 <= chunks; c += 2) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + kLanes * c), _mm256_loadu_ps(b + kLanes * c), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + kLanes * (c + 1)), _mm256_loadu_ps(b + kLanes * (c + 1)), s1);
  }
  if (c < chunks) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + kLanes * c), _mm256_loadu_ps(b + kLanes * c), s0);
  return HorizontalSum(_mm256_add_ps(s0, s1));
}

inline void PrefetchRow(const float* row, int stride) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int line = 0; line < stride * static_cast<int>(sizeof(float)); line += 64)
    _mm_prefetch(p + line, _MM_HINT_T0);
}

// out[0, 8 NB) = Σ_j v_j g_j[0, 8 NB) over the first `factors` rows g_j of g (row stride `stride`),
// the block's accumulators held in registers. g is symmetric, so this is a block of G v.
template <int NB>
inline void GramTimesBlock(const float* g, int stride, int factors, const float* v, float* out) {
  __m256 acc[NB];
#pragma GCC unroll 8
  for (int k = 0; k < NB; ++k) acc[k] = _mm256_setzero_ps();
  for (int j = 0; j < factors; ++j) {
    const __m256 b = _mm256_broadcast_ss(v + j);
    const float* row = g + static_cast<size_t>(j) * static_cast<size_t>(stride);
#pragma GCC unroll 8
    for (int k = 0; k < NB; ++k) acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(row + kLanes * k), b, acc[k]);
  }
#pragma GCC unroll 8
  for (int k = 0; k < NB; ++k) _mm256_storeu_ps(out + kLanes * k, acc[k]);
}

// out = G v, in blocks of up to 64 floats.
inline void GramTimesAvx2(const float* g, int stride, int factors, const float* v, float* out) {
  for (int c0 = 0; c0 < stride; c0 += 8 * kLanes) {
    switch (std::min(8, (stride - c0) / kLanes)) {
      case 1: GramTimesBlock<1>(g + c0, stride, factors, v, out + c0); break;
      case 2: GramTimesBlock<2>(g + c0, stride, factors, v, out + c0); break;
      case 3: GramTimesBlock<3>(g + c0, stride, factors, v, out + c0); break;
      case 4: GramTimesBlock<4>(g + c0, stride, factors, v, out + c0); break;
      case 5: GramTimesBlock<5>(g + c0, stride, factors, v, out + c0); break;
      case 6: GramTimesBlock<6>(g + c0, stride, factors, v, out + c0); break;
      case 7: GramTimesBlock<7>(g + c0, stride, factors, v, out + c0); break;
      default: GramTimesBlock<8>(g + c0, stride, factors, v, out + c0); break;
    }
  }
}

// The coefficient of y in the row's sum: for the residual c − (c − 1) y·v, for A·p (c − 1) y·v,
// with c − 1 = α r.
template <bool kResidual>
inline float Coefficient(float w, float d) {
  if constexpr (kResidual) {
    return (1.0f + w) - w * d;
  } else {
    return w * d;
  }
}

// out += Σ_e Coefficient(α r_e, y_e·v) y_e over a row's items, for vectors of NB ≤ 8 registers:
// out stays in registers for the whole row.
template <int NB, bool kResidual>
inline void AccumulateItemsBlock(const HalfStep& h, const int32_t* idx, const float* val, int64_t n,
                                 const float* v, float* out) {
  const size_t s = static_cast<size_t>(h.stride);
  __m256 acc[NB];
#pragma GCC unroll 8
  for (int k = 0; k < NB; ++k) acc[k] = _mm256_loadu_ps(out + kLanes * k);
  for (int64_t e = 0; e < n; ++e) {
    if (e + kPrefetchAhead < n)
      PrefetchRow(h.other + static_cast<size_t>(idx[e + kPrefetchAhead]) * s, h.stride);
    const float* y = h.other + static_cast<size_t>(idx[e]) * s;
    // Hides from the compiler that vr is v, so that it reads v from L1 for each item rather than
    // hoisting it into registers; with the accumulators that would need more than 16 (and spill).
    const float* vr = v;
    asm("" : "+r"(vr));
    __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int k = 0; k + 1 < NB; k += 2) {
      d0 = _mm256_fmadd_ps(_mm256_loadu_ps(y + kLanes * k), _mm256_loadu_ps(vr + kLanes * k), d0);
      d1 = _mm256_fmadd_ps(_mm256_loadu_ps(y + kLanes * (k + 1)), _mm256_loadu_ps(vr + kLanes * (k + 1)), d1);
    }
    if constexpr (NB % 2 == 1)
      d0 = _mm256_fmadd_ps(_mm256_loadu_ps(y + kLanes * (NB - 1)), _mm256_loadu_ps(vr + kLanes * (NB - 1)),
                           d0);
    const __m256 coef =
        _mm256_set1_ps(Coefficient<kResidual>(h.alpha * val[e], HorizontalSum(_mm256_add_ps(d0, d1))));
#pragma GCC unroll 8
    for (int k = 0; k < NB; ++k) acc[k] = _mm256_fmadd_ps(coef, _mm256_loadu_ps(y + kLanes * k), acc[k]);
  }
#pragma GCC unroll 8
  for (int k = 0; k < NB; ++k) _mm256_storeu_ps(out + kLanes * k, acc[k]);
}

// The same for wider vectors, out in memory.
template <bool kResidual>
inline void AccumulateItemsWide(const HalfStep& h, const int32_t* idx, const float* val, int64_t n,
                                const float* v, float* out) {
  const size_t s = static_cast<size_t>(h.stride);
  const int chunks = h.stride / kLanes;
  for (int64_t e = 0; e < n; ++e) {
    if (e + kPrefetchAhead < n)
      PrefetchRow(h.other + static_cast<size_t>(idx[e + kPrefetchAhead]) * s, h.stride);
    const float* y = h.other + static_cast<size_t>(idx[e]) * s;
    const __m256 coef = _mm256_set1_ps(Coefficient<kResidual>(h.alpha * val[e], DotAvx2(y, v, chunks)));
    for (int c = 0; c < chunks; ++c) {
      float* o = out + kLanes * c;
      _mm256_storeu_ps(o, _mm256_fmadd_ps(coef, _mm256_loadu_ps(y + kLanes * c), _mm256_loadu_ps(o)));
    }
  }
}

template <bool kResidual>
inline void AccumulateItemsAvx2(const HalfStep& h, const int32_t* idx, const float* val, int64_t n,
                                const float* v, float* out) {
  switch (h.stride / kLanes) {
    case 1: AccumulateItemsBlock<1, kResidual>(h, idx, val, n, v, out); break;
    case 2: AccumulateItemsBlock<2, kResidual>(h, idx, val, n, v, out); break;
    case 3: AccumulateItemsBlock<3, kResidual>(h, idx, val, n, v, out); break;
    case 4: AccumulateItemsBlock<4, kResidual>(h, idx, val, n, v, out); break;
    case 5: AccumulateItemsBlock<5, kResidual>(h, idx, val, n, v, out); break;
    case 6: AccumulateItemsBlock<6, kResidual>(h, idx, val, n, v, out); break;
    case 7: AccumulateItemsBlock<7, kResidual>(h, idx, val, n, v, out); break;
    case 8: AccumulateItemsBlock<8, kResidual>(h, idx, val, n, v, out); break;
    default: AccumulateItemsWide<kResidual>(h, idx, val, n, v, out); break;
  }
}

void SolveRowsAvx2(const HalfStep& h, int32_t begin, int32_t end, float* scratch) {
  const size_t s = static_cast<size_t>(h.stride);
  const int chunks = h.stride / kLanes;
  float* r = scratch;
  float* p = scratch + s;
  float* ap = scratch + 2 * s;
  for (int32_t row = begin; row < end; ++row) {
    float* x = h.self + static_cast<size_t>(row) * s;
    const int64_t lo = h.m->indptr[static_cast<size_t>(row)];
    const int64_t n = h.m->indptr[static_cast<size_t>(row) + 1] - lo;
    const int32_t* idx = h.m->indices.data() + lo;
    const float* val = h.m->values.data() + lo;
    for (int64_t e = 0; e < std::min<int64_t>(n, kPrefetchAhead); ++e)
      PrefetchRow(h.other + static_cast<size_t>(idx[e]) * s, h.stride);

    // r = Σ c y − (G + Σ (c − 1) y yᵀ) x
    GramTimesAvx2(h.gram, h.stride, h.factors, x, r);
    for (int c = 0; c < chunks; ++c)
      _mm256_storeu_ps(r + kLanes * c, _mm256_sub_ps(_mm256_setzero_ps(), _mm256_loadu_ps(r + kLanes * c)));
    AccumulateItemsAvx2<true>(h, idx, val, n, x, r);
    std::memcpy(p, r, s * sizeof(float));
    float rsold = DotAvx2(r, r, chunks);
    if (rsold < kCgTolerance) continue;
    for (int step = 0; step < h.cg_steps; ++step) {
      GramTimesAvx2(h.gram, h.stride, h.factors, p, ap);
      AccumulateItemsAvx2<false>(h, idx, val, n, p, ap);
      const float pap = DotAvx2(p, ap, chunks);
      if (!(pap > 0)) break;
      const __m256 a = _mm256_set1_ps(rsold / pap);
      __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
      for (int c = 0; c < chunks; ++c) {
        const size_t o = static_cast<size_t>(kLanes * c);
        _mm256_storeu_ps(x + o, _mm256_fmadd_ps(a, _mm256_loadu_ps(p + o), _mm256_loadu_ps(x + o)));
        const __m256 rc = _mm256_fnmadd_ps(a, _mm256_loadu_ps(ap + o), _mm256_loadu_ps(r + o));
        _mm256_storeu_ps(r + o, rc);
        if (c % 2 == 0) {
          s0 = _mm256_fmadd_ps(rc, rc, s0);
        } else {
          s1 = _mm256_fmadd_ps(rc, rc, s1);
        }
      }
      const float rsnew = HorizontalSum(_mm256_add_ps(s0, s1));
      if (rsnew < kCgTolerance) break;
      const __m256 beta = _mm256_set1_ps(rsnew / rsold);
      for (int c = 0; c < chunks; ++c) {
        const size_t o = static_cast<size_t>(kLanes * c);
        _mm256_storeu_ps(p + o, _mm256_fmadd_ps(beta, _mm256_loadu_ps(p + o), _mm256_loadu_ps(r + o)));
      }
      rsold = rsnew;
    }
  }
}

#pragma GCC pop_options

#else

bool HasAvx2Fma() {
  return false;
}
void SolveRowsAvx2(const HalfStep& h, int32_t begin, int32_t end, float* scratch) {
  SolveRowsPortable(h, begin, end, scratch);
}

#endif

// Contiguous row ranges of about equal work (a row costs about stride + 2 nnz per CG pass), at
// most `threads` of them and none empty unless the matrix is.
std::vector<int32_t> SplitRows(const CsrMatrix& m, int stride, int threads) {
  const int parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, m.rows)));
  const double total = static_cast<double>(m.rows) * stride + 2.0 * static_cast<double>(m.nnz());
  std::vector<int32_t> bounds{0};
  double done = 0;
  for (int32_t row = 0; row < m.rows; ++row) {
    const int64_t n = m.indptr[static_cast<size_t>(row) + 1] - m.indptr[static_cast<size_t>(row)];
    done += stride + 2.0 * static_cast<double>(n);
    const int next = static_cast<int>(bounds.size());
    if (next < parts && done >= total * next / parts && row + 1 < m.rows) bounds.push_back(row + 1);
  }
  bounds.push_back(m.rows);
  return bounds;
}

// Solves every row of h.m, split over up to `threads` threads (the caller's is the first). Rows are
// independent, so the result does not depend on the split.
void RunHalfStep(const HalfStep& h, int threads, bool use_simd, std::vector<AlignedFloats>& scratch) {
  const auto solve = use_simd && HasAvx2Fma() ? SolveRowsAvx2 : SolveRowsPortable;
  const std::vector<int32_t> bounds = SplitRows(*h.m, h.stride, threads);
  const size_t parts = bounds.size() - 1;
  if (scratch.size() < parts) scratch.resize(parts, AlignedFloats(3 * static_cast<size_t>(h.stride), 0.0f));
  std::vector<std::jthread> workers;
  workers.reserve(parts - 1);
  for (size_t t = 1; t < parts; ++t) {
    try {
      workers.emplace_back([&, t] { solve(h, bounds[t], bounds[t + 1], scratch[t].data()); });
    } catch (const std::system_error&) {  // no thread to be had: do that range here
      solve(h, bounds[t], bounds[t + 1], scratch[t].data());
    }
  }
  solve(h, bounds[0], bounds[1], scratch[0].data());
}

// OᵀO in double precision, factors × factors, over `rows` padded rows.
Eigen::MatrixXd Gram(const float* data, int32_t rows, int factors, int stride) {
  constexpr int32_t kBlock = 256;
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(factors, factors);
  Eigen::MatrixXd block;
  for (int32_t start = 0; start < rows; start += kBlock) {
    const int32_t n = std::min(kBlock, rows - start);
    block = FactorRows(data + static_cast<size_t>(start) * static_cast<size_t>(stride), n, factors,
                       Eigen::OuterStride<>(stride))
                .cast<double>();
    g.noalias() += block.transpose() * block;
  }
  return g;
}

Status ValidateOptions(const AlsOptions& o) {
  if (o.factors < 1 || o.factors > AlsModel::kMaxFactors)
    return InvalidArgument("ALS factors must be in [1, " + std::to_string(AlsModel::kMaxFactors) + "], got " +
                           std::to_string(o.factors));
  if (o.iterations < 0)
    return InvalidArgument("ALS iterations must be >= 0, got " + std::to_string(o.iterations));
  if (o.cg_steps < 1) return InvalidArgument("ALS cg_steps must be >= 1, got " + std::to_string(o.cg_steps));
  if (o.threads < 1) return InvalidArgument("ALS threads must be >= 1, got " + std::to_string(o.threads));
  if (!std::isfinite(o.regularization) || o.regularization < 0)
    return InvalidArgument("ALS regularization must be finite and >= 0, got " + Str(o.regularization));
  if (!std::isfinite(o.alpha) || o.alpha < 0)
    return InvalidArgument("ALS alpha must be finite and >= 0, got " + Str(o.alpha));
  return Status::Ok();
}

Status ValidateFor(const CsrMatrix& m, int32_t users, int32_t items, std::string_view what) {
  Status s = m.Validate();
  if (!s.ok()) return InvalidArgument(std::string(what) + ": " + s.message());
  if (m.rows != users || m.cols != items)
    return InvalidArgument(std::string(what) + ": matrix is " + std::to_string(m.rows) + "×" +
                           std::to_string(m.cols) + ", the model is " + std::to_string(users) + " users × " +
                           std::to_string(items) + " items");
  return Status::Ok();
}

using bytes::Put;

template <typename T>
T Get(std::string_view bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

}  // namespace

Result<CsrMatrix> CsrMatrix::FromTriplets(int32_t rows, int32_t cols, std::span<const int32_t> row_ids,
                                          std::span<const int32_t> col_ids, std::span<const float> values) {
  if (rows < 0 || cols < 0)
    return InvalidArgument("matrix dimensions " + std::to_string(rows) + "×" + std::to_string(cols) +
                           " are negative");
  if (row_ids.size() != col_ids.size() || row_ids.size() != values.size())
    return InvalidArgument("triplets have " + std::to_string(row_ids.size()) + " rows, " +
                           std::to_string(col_ids.size()) + " columns and " + std::to_string(values.size()) +
                           " values");
  for (size_t k = 0; k < row_ids.size(); ++k) {
    if (row_ids[k] < 0 || row_ids[k] >= rows)
      return InvalidArgument("triplet " + std::to_string(k) + " has row " + std::to_string(row_ids[k]) +
                             ", outside [0, " + std::to_string(rows) + ")");
    if (col_ids[k] < 0 || col_ids[k] >= cols)
      return InvalidArgument("triplet " + std::to_string(k) + " has column " + std::to_string(col_ids[k]) +
                             ", outside [0, " + std::to_string(cols) + ")");
    if (!std::isfinite(values[k]) || values[k] <= 0)
      return InvalidArgument("triplet " + std::to_string(k) + " has value " + Str(values[k]) +
                             "; values must be finite and > 0");
  }
  // Bucket by row (keeping input order), sort each row by column, then sum repeats.
  std::vector<int64_t> start(static_cast<size_t>(rows) + 1, 0);
  for (int32_t r : row_ids) ++start[static_cast<size_t>(r) + 1];
  for (size_t r = 0; r < static_cast<size_t>(rows); ++r) start[r + 1] += start[r];
  std::vector<std::pair<int32_t, float>> entries(row_ids.size());
  std::vector<int64_t> next(start.begin(), start.end() - 1);
  for (size_t k = 0; k < row_ids.size(); ++k)
    entries[static_cast<size_t>(next[static_cast<size_t>(row_ids[k])]++)] = {col_ids[k], values[k]};

  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr.reserve(static_cast<size_t>(rows) + 1);
  m.indptr.push_back(0);
  m.indices.reserve(entries.size());
  m.values.reserve(entries.size());
  for (size_t r = 0; r < static_cast<size_t>(rows); ++r) {
    const auto first = entries.begin() + start[r], last = entries.begin() + start[r + 1];
    std::stable_sort(first, last, [](const auto& a, const auto& b) { return a.first < b.first; });
    const size_t row_begin = m.indices.size();
    for (auto it = first; it != last; ++it) {
      if (m.indices.size() > row_begin && m.indices.back() == it->first) {
        m.values.back() += it->second;
        if (!std::isfinite(m.values.back()))
          return InvalidArgument("the values at row " + std::to_string(r) + ", column " +
                                 std::to_string(it->first) + " sum to infinity");
      } else {
        m.indices.push_back(it->first);
        m.values.push_back(it->second);
      }
    }
    m.indptr.push_back(static_cast<int64_t>(m.indices.size()));
  }
  return m;
}

CsrMatrix CsrMatrix::Transposed() const {
  CsrMatrix t;
  t.rows = cols;
  t.cols = rows;
  t.indptr.assign(static_cast<size_t>(cols) + 1, 0);
  for (int32_t c : indices) ++t.indptr[static_cast<size_t>(c) + 1];
  for (size_t c = 0; c < static_cast<size_t>(cols); ++c) t.indptr[c + 1] += t.indptr[c];
  t.indices.resize(indices.size());
  t.values.resize(values.size());
  std::vector<int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (int32_t r = 0; r < rows; ++r) {
    for (int64_t e = indptr[static_cast<size_t>(r)]; e < indptr[static_cast<size_t>(r) + 1]; ++e) {
      const auto pos = static_cast<size_t>(next[static_cast<size_t>(indices[static_cast<size_t>(e)])]++);
      t.indices[pos] = r;
      t.values[pos] = values[static_cast<size_t>(e)];
    }
  }
  return t;
}

Status CsrMatrix::Validate() const {
  if (rows < 0 || cols < 0)
    return InvalidArgument("matrix dimensions " + std::to_string(rows) + "×" + std::to_string(cols) +
                           " are negative");
  if (indptr.size() != static_cast<size_t>(rows) + 1)
    return InvalidArgument("matrix has " + std::to_string(indptr.size()) + " indptr entries for " +
                           std::to_string(rows) + " rows (want rows + 1)");
  if (indices.size() != values.size())
    return InvalidArgument("matrix has " + std::to_string(indices.size()) + " indices but " +
                           std::to_string(values.size()) + " values");
  if (indptr.front() != 0)
    return InvalidArgument("matrix indptr[0] is " + std::to_string(indptr.front()) + ", not 0");
  for (size_t r = 0; r < static_cast<size_t>(rows); ++r)
    if (indptr[r + 1] < indptr[r])
      return InvalidArgument("matrix indptr decreases at row " + std::to_string(r));
  if (indptr.back() != nnz())
    return InvalidArgument("matrix indptr ends at " + std::to_string(indptr.back()) + " but there are " +
                           std::to_string(nnz()) + " indices");
  for (size_t r = 0; r < static_cast<size_t>(rows); ++r) {
    for (int64_t e = indptr[r]; e < indptr[r + 1]; ++e) {
      const int32_t c = indices[static_cast<size_t>(e)];
      const float v = values[static_cast<size_t>(e)];
      if (c < 0 || c >= cols)
        return InvalidArgument("matrix row " + std::to_string(r) + " has column " + std::to_string(c) +
                               ", outside [0, " + std::to_string(cols) + ")");
      if (e > indptr[r] && c <= indices[static_cast<size_t>(e) - 1])
        return InvalidArgument("matrix row " + std::to_string(r) +
                               "'s columns are not strictly increasing (" + std::to_string(c) + " after " +
                               std::to_string(indices[static_cast<size_t>(e) - 1]) + ")");
      if (!std::isfinite(v) || v <= 0)
        return InvalidArgument("matrix row " + std::to_string(r) + ", column " + std::to_string(c) +
                               " has value " + Str(v) + "; values must be finite and > 0");
    }
  }
  return Status::Ok();
}

Result<AlsModel> AlsModel::Fit(const CsrMatrix& user_items, const AlsOptions& options,
                               const std::function<void(int, double)>& progress) {
  EMP_RETURN_IF_ERROR(ValidateOptions(options));
  EMP_RETURN_IF_ERROR(ValidateFor(user_items, user_items.rows, user_items.cols, "ALS user_items"));

  AlsModel m;
  m.users_ = user_items.rows;
  m.items_ = user_items.cols;
  m.factors_ = options.factors;
  m.stride_ = PaddedStride(options.factors);
  m.regularization_ = options.regularization;
  m.alpha_ = options.alpha;
  const size_t s = static_cast<size_t>(m.stride_);
  m.user_factors_.assign(static_cast<size_t>(m.users_) * s, 0.0f);
  m.item_factors_.assign(static_cast<size_t>(m.items_) * s, 0.0f);
  const CsrMatrix item_users = user_items.Transposed();
  // Rows without interactions start at zero and stay there (their half step has nothing to fit),
  // so an item nobody interacted with has no factors and scores 0 for everyone. The generator
  // draws for them anyway: the other rows start where they did before.
  Xoshiro256 rng(options.seed);
  for (auto [f, rows] : {std::pair{&m.user_factors_, &user_items}, std::pair{&m.item_factors_, &item_users}})
    for (size_t row = 0; row < f->size() / s; ++row) {
      const bool empty = rows->indptr[row + 1] == rows->indptr[row];
      for (size_t j = 0; j < static_cast<size_t>(m.factors_); ++j) {
        const float v = static_cast<float>(rng.Next() >> 40) * 0x1p-24f * 0.01f;
        (*f)[row * s + j] = empty ? 0.0f : v;
      }
    }

  AlignedFloats gram;
  std::vector<AlignedFloats> scratch;
  HalfStep users_step{.m = &user_items,
                      .other = m.item_factors_.data(),
                      .gram = nullptr,
                      .self = m.user_factors_.data(),
                      .factors = m.factors_,
                      .stride = m.stride_,
                      .alpha = m.alpha_,
                      .cg_steps = options.cg_steps};
  HalfStep items_step = users_step;
  items_step.m = &item_users;
  items_step.other = m.user_factors_.data();
  items_step.self = m.item_factors_.data();

  for (int it = 0; it < options.iterations; ++it) {
    if (options.stop.stop_requested())
      return Cancelled("ALS fit stopped after " + std::to_string(it) + " of " +
                       std::to_string(options.iterations) + " iterations");
    const auto start = std::chrono::steady_clock::now();
    HalfStepGram(m.item_factors_.data(), m.items_, m.factors_, m.stride_, m.regularization_, gram);
    users_step.gram = gram.data();
    RunHalfStep(users_step, options.threads, options.use_simd, scratch);
    HalfStepGram(m.user_factors_.data(), m.users_, m.factors_, m.stride_, m.regularization_, gram);
    items_step.gram = gram.data();
    RunHalfStep(items_step, options.threads, options.use_simd, scratch);
    if (progress)
      progress(it, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  m.ComputeItemGram();
  return m;
}

Status AlsModel::UpdateUsers(const CsrMatrix& user_items, int cg_steps, int threads) {
  if (cg_steps < 1) return InvalidArgument("ALS cg_steps must be >= 1, got " + std::to_string(cg_steps));
  if (threads < 1) return InvalidArgument("ALS threads must be >= 1, got " + std::to_string(threads));
  EMP_RETURN_IF_ERROR(ValidateFor(user_items, users_, items_, "ALS UpdateUsers"));
  AlignedFloats gram;
  HalfStepGram(item_factors_.data(), items_, factors_, stride_, regularization_, gram);
  std::vector<AlignedFloats> scratch;
  RunHalfStep({.m = &user_items,
               .other = item_factors_.data(),
               .gram = gram.data(),
               .self = user_factors_.data(),
               .factors = factors_,
               .stride = stride_,
               .alpha = alpha_,
               .cg_steps = cg_steps},
              threads, true, scratch);
  return Status::Ok();
}

void AlsModel::ComputeItemGram() {
  const Eigen::MatrixXd g = Gram(item_factors_.data(), items_, factors_, stride_);
  gram_.assign(g.data(), g.data() + g.size());
}

Result<std::vector<float>> AlsModel::FoldIn(std::span<const int32_t> items,
                                            std::span<const float> strengths) const {
  if (items.size() != strengths.size())
    return InvalidArgument("FoldIn got " + std::to_string(items.size()) + " items and " +
                           std::to_string(strengths.size()) + " strengths");
  std::vector<std::pair<int32_t, float>> entries;
  entries.reserve(items.size());
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k] < 0 || items[k] >= items_)
      return InvalidArgument("FoldIn item " + std::to_string(items[k]) + " is outside [0, " +
                             std::to_string(items_) + ")");
    if (!std::isfinite(strengths[k]) || strengths[k] <= 0)
      return InvalidArgument("FoldIn strength " + Str(strengths[k]) + " of item " + std::to_string(items[k]) +
                             " is not finite and > 0");
    entries.emplace_back(items[k], strengths[k]);
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  const int f = factors_;
  Eigen::MatrixXd a = Eigen::Map<const Eigen::MatrixXd>(gram_.data(), f, f);
  a.diagonal().array() += static_cast<double>(regularization_);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(f);
  Eigen::VectorXd y(f);
  for (size_t k = 0; k < entries.size();) {
    const int32_t item = entries[k].first;
    double strength = 0;
    for (; k < entries.size() && entries[k].first == item; ++k) strength += entries[k].second;
    y = Eigen::Map<const Eigen::VectorXf>(item_factors(item).data(), f).cast<double>();
    const double w = static_cast<double>(alpha_) * strength;
    a.noalias() += (w * y) * y.transpose();
    b += (1.0 + w) * y;
  }
  Eigen::VectorXd x;
  const Eigen::LLT<Eigen::MatrixXd> llt(a);
  if (llt.info() == Eigen::Success) {
    x = llt.solve(b);
  } else {
    x = a.ldlt().solve(b);
  }
  std::vector<float> out(static_cast<size_t>(f));
  for (int j = 0; j < f; ++j) out[static_cast<size_t>(j)] = static_cast<float>(x[j]);
  return out;
}

std::vector<std::pair<int32_t, float>> AlsModel::TopK(std::span<const float> user_vector, size_t k,
                                                      std::span<const int32_t> exclude) const {
  using Entry = std::pair<int32_t, float>;
  if (user_vector.size() != static_cast<size_t>(factors_) || k == 0 || items_ == 0) return {};
  for (float v : user_vector)
    if (!std::isfinite(v)) return {};
  std::vector<int32_t> excluded(exclude.begin(), exclude.end());
  std::sort(excluded.begin(), excluded.end());
  k = std::min(k, static_cast<size_t>(items_));
  // A heap of the best k so far with the worst on top.
  const auto better = [](const Entry& a, const Entry& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  std::vector<Entry> best;
  best.reserve(k);
  const Eigen::Map<const Eigen::VectorXf> q(user_vector.data(), factors_);
  constexpr int32_t kBlock = 256;
  float scores[kBlock];
  auto skip = excluded.begin();
  for (int32_t start = 0; start < items_; start += kBlock) {
    const int32_t n = std::min(kBlock, items_ - start);
    Eigen::Map<Eigen::VectorXf>(scores, n).noalias() =
        FactorRows(item_factors_.data() + static_cast<size_t>(start) * static_cast<size_t>(stride_), n,
                   factors_, Eigen::OuterStride<>(stride_)) *
        q;
    for (int32_t j = 0; j < n; ++j) {
      const Entry e{start + j, scores[j]};
      while (skip != excluded.end() && *skip < e.first) ++skip;
      if (skip != excluded.end() && *skip == e.first) continue;
      if (best.size() < k) {
        best.push_back(e);
        std::push_heap(best.begin(), best.end(), better);
      } else if (better(e, best.front())) {
        std::pop_heap(best.begin(), best.end(), better);
        best.back() = e;
        std::push_heap(best.begin(), best.end(), better);
      }
    }
  }
  std::sort_heap(best.begin(), best.end(), better);
  return best;
}

Result<double> AlsModel::Loss(const CsrMatrix& user_items) const {
  EMP_RETURN_IF_ERROR(ValidateFor(user_items, users_, items_, "ALS Loss"));
  const Eigen::MatrixXd gx = Gram(user_factors_.data(), users_, factors_, stride_);
  const Eigen::MatrixXd gy = Gram(item_factors_.data(), items_, factors_, stride_);
  // Every pair as if unobserved (c = 1, p = 0): Σ_u x_uᵀ YᵀY x_u = ⟨XᵀX, YᵀY⟩; then the observed
  // pairs' correction c (1 − s)² − s².
  double loss = (gx.array() * gy.array()).sum();
  for (int32_t u = 0; u < users_; ++u) {
    const Eigen::VectorXd x =
        Eigen::Map<const Eigen::VectorXf>(user_factors(u).data(), factors_).cast<double>();
    for (int64_t e = user_items.indptr[static_cast<size_t>(u)];
         e < user_items.indptr[static_cast<size_t>(u) + 1]; ++e) {
      const int32_t i = user_items.indices[static_cast<size_t>(e)];
      const double s =
          Eigen::Map<const Eigen::VectorXf>(item_factors(i).data(), factors_).cast<double>().dot(x);
      const double c = 1.0 + static_cast<double>(alpha_) * user_items.values[static_cast<size_t>(e)];
      loss += c * (1 - s) * (1 - s) - s * s;
    }
  }
  return loss + static_cast<double>(regularization_) * (gx.trace() + gy.trace());
}

std::string AlsModel::Save() const {
  std::string out;
  const size_t f = static_cast<size_t>(factors_);
  out.reserve(kHeaderBytes + (static_cast<size_t>(users_) + static_cast<size_t>(items_)) * f * sizeof(float));
  out.append(kMagic, sizeof kMagic);
  Put(out, kVersion);
  Put(out, users_);
  Put(out, items_);
  Put(out, static_cast<int32_t>(factors_));
  Put(out, regularization_);
  Put(out, alpha_);
  Put(out, uint64_t{0});  // the checksum, filled in below
  for (const Floats* rows : {&user_factors_, &item_factors_})
    for (size_t row = 0; row < rows->size() / static_cast<size_t>(stride_); ++row)
      out.append(reinterpret_cast<const char*>(rows->data() + row * static_cast<size_t>(stride_)),
                 f * sizeof(float));
  const uint64_t checksum = Fnv1a(std::string_view(out).substr(kHeaderBytes));
  std::memcpy(out.data() + kHeaderBytes - sizeof checksum, &checksum, sizeof checksum);
  return out;
}

Result<AlsModel> AlsModel::Load(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes)
    return InvalidArgument("ALS model has " + std::to_string(bytes.size()) + " bytes, fewer than its header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return InvalidArgument("not an ALS model (bad magic)");
  const auto version = Get<uint32_t>(bytes, 4);
  if (version != kVersion)
    return InvalidArgument("ALS model version " + std::to_string(version) + " is not the supported " +
                           std::to_string(kVersion));
  AlsModel m;
  m.users_ = Get<int32_t>(bytes, 8);
  m.items_ = Get<int32_t>(bytes, 12);
  m.factors_ = Get<int32_t>(bytes, 16);
  m.regularization_ = Get<float>(bytes, 20);
  m.alpha_ = Get<float>(bytes, 24);
  const auto checksum = Get<uint64_t>(bytes, 28);
  if (m.users_ < 0 || m.items_ < 0 || m.factors_ < 1 || m.factors_ > kMaxFactors)
    return InvalidArgument("ALS model has impossible dimensions " + std::to_string(m.users_) + " users, " +
                           std::to_string(m.items_) + " items, " + std::to_string(m.factors_) + " factors");
  if (!std::isfinite(m.regularization_) || m.regularization_ < 0 || !std::isfinite(m.alpha_) || m.alpha_ < 0)
    return InvalidArgument("ALS model has an impossible regularization or alpha");
  const size_t f = static_cast<size_t>(m.factors_);
  const uint64_t want =
      kHeaderBytes + (static_cast<uint64_t>(m.users_) + static_cast<uint64_t>(m.items_)) * f * sizeof(float);
  if (bytes.size() != want)
    return InvalidArgument("ALS model has " + std::to_string(bytes.size()) + " bytes, its header says " +
                           std::to_string(want));
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (Fnv1a(payload) != checksum) return InvalidArgument("ALS model checksum mismatch (damaged bytes)");
  m.stride_ = PaddedStride(m.factors_);
  const size_t s = static_cast<size_t>(m.stride_);
  m.user_factors_.assign(static_cast<size_t>(m.users_) * s, 0.0f);
  m.item_factors_.assign(static_cast<size_t>(m.items_) * s, 0.0f);
  size_t offset = 0;
  for (Floats* rows : {&m.user_factors_, &m.item_factors_}) {
    for (size_t row = 0; row < rows->size() / s; ++row) {
      float* dst = rows->data() + row * s;
      std::memcpy(dst, payload.data() + offset, f * sizeof(float));
      offset += f * sizeof(float);
      for (size_t j = 0; j < f; ++j)
        if (!std::isfinite(dst[j])) return InvalidArgument("ALS model has a factor that is NaN or infinite");
    }
  }
  m.ComputeItemGram();
  return m;
}

}  // namespace emporium::ml
