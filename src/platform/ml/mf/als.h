// Implicit-feedback matrix factorisation: alternating least squares with conjugate gradient
// (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit Feedback Datasets"; the CG
// variant of Takács, Pilászy & Tikk 2011, as the Python package `implicit` runs it on CPU), for
// recommendations from views, carts and orders.
//
// The model: users x_u and items y_i in R^f minimise
//   Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)
// over ALL user×item pairs, where for an observed pair (strength r_ui > 0) c_ui = 1 + α r_ui and
// p_ui = 1, and for every other pair c_ui = 1 and p_ui = 0. λ is added to the diagonal as is (not
// scaled by the number of interactions), as `implicit` does; feeding `implicit` confidences
// 1 + α r_ui (its alpha = 1) gives the same problem.
//
// Fit alternates half-steps: every user given the items, then every item given the users. Each
// row's normal equations (YᵀY + λI + Σ_i (c_ui − 1) y_i y_iᵀ) x_u = Σ_i c_ui y_i are solved
// approximately by `cg_steps` conjugate-gradient steps warm-started from the previous x_u (ending
// early once the squared residual norm is below 1e-20, as `implicit` does), with YᵀY computed once
// per half-step; a row costs O(cg_steps (f² + n_u f)). Up to rounding, no half-step increases the
// loss (CG from a warm start only descends the row's quadratic).
//
// Errors: bad options, inconsistent matrices, item ids out of range and unreadable model bytes
// are kInvalidArgument, with a message naming the problem; a requested stop is kCancelled.
// Nothing here throws (other than std::bad_alloc).
//
// Determinism: the same data, options and seed give bit-identical factors whatever the thread
// count. Results may differ in the last bits between CPUs with and without AVX2+FMA (a vector
// kernel is chosen at run time; see `use_simd`).
//
// Thread safety: const methods of an AlsModel may be called from any number of threads at once;
// UpdateUsers must not run concurrently with anything else on the same model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/core/status.h"

namespace emporium::ml {

// A sparse rows×cols matrix in compressed sparse row form. For ALS: users × items, values the raw
// interaction strengths r_ui (> 0, finite); a missing entry means "no interaction".
struct CsrMatrix {
  int32_t rows = 0;
  int32_t cols = 0;
  std::vector<int64_t> indptr;   // rows + 1 offsets into indices/values, from 0, non-decreasing
  std::vector<int32_t> indices;  // column ids, strictly increasing within a row
  std::vector<float> values;     // one per index, finite and > 0

  // Builds the matrix from (row, column, value) triplets in any order; duplicates of a (row,
  // column) are summed, in input order. kInvalidArgument when the spans differ in length, rows or
  // cols is negative, an index is out of range or a value is not finite and > 0.
  static Result<CsrMatrix> FromTriplets(int32_t rows, int32_t cols, std::span<const int32_t> row_ids,
                                        std::span<const int32_t> col_ids, std::span<const float> values);

  int64_t nnz() const { return static_cast<int64_t>(indices.size()); }
  // The cols×rows transpose (item × user); its rows are sorted too. Needs a valid matrix.
  CsrMatrix Transposed() const;
  // Every invariant above; kInvalidArgument naming the first that fails.
  Status Validate() const;
};

struct AlsOptions {
  int factors = 64;              // f, 1..kMaxFactors
  float regularization = 0.01f;  // λ ≥ 0, added to the diagonal
  float alpha = 1.0f;            // α ≥ 0: c_ui = 1 + α r_ui for observed pairs
  int iterations = 15;           // ≥ 0 (0: the random initial factors)
  int cg_steps = 3;              // ≥ 1 CG steps per row and half-step (f steps solve exactly)
  int threads = 2;               // ≥ 1 std::threads per half-step, over contiguous row ranges
  uint64_t seed = 42;            // initial factors uniform in [0, 0.01), users then items
  // true: an AVX2+FMA kernel when the CPU has it; false: the portable Eigen code (the reference
  // the tests compare the kernel with). Either gives the same result for any thread count.
  bool use_simd = true;
  std::stop_token stop;  // checked before each iteration: requested → kCancelled
};

namespace als_internal {
// Allocates on 64-byte boundaries, so that the factor rows (padded to 8 floats) are aligned.
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: allocator rebinding
  T* allocate(size_t n) { return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{64}); }
  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
};
}  // namespace als_internal

class AlsModel {
 public:
  static constexpr int kMaxFactors = 4096;

  // Trains on `user_items` (users × items). A user or item without interactions keeps all-zero
  // factors. `progress`, when set, is called after each iteration with the iteration's index
  // (from 0) and its wall-clock seconds.
  static Result<AlsModel> Fit(const CsrMatrix& user_items, const AlsOptions& options,
                              const std::function<void(int, double)>& progress = {});
  // Bytes from Save. kInvalidArgument for anything else: wrong magic or version, truncated or
  // trailing bytes, impossible dimensions, a checksum mismatch, a non-finite factor.
  static Result<AlsModel> Load(std::string_view bytes);
  // Little-endian: magic "EALS", version, users, items, factors, λ, α, a 64-bit FNV-1a checksum of
  // the payload, then the user factors and the item factors row by row (f floats each). The Gram
  // matrix FoldIn needs is recomputed by Load.
  std::string Save() const;

  int32_t users() const { return users_; }
  int32_t items() const { return items_; }
  int factors() const { return factors_; }
  float regularization() const { return regularization_; }
  float alpha() const { return alpha_; }

  // The f factors of user u in [0, users()) / item i in [0, items()); not range-checked.
  std::span<const float> user_factors(int32_t u) const {
    return {user_factors_.data() + static_cast<size_t>(u) * stride_, static_cast<size_t>(factors_)};
  }
  std::span<const float> item_factors(int32_t i) const {
    return {item_factors_.data() + static_cast<size_t>(i) * stride_, static_cast<size_t>(factors_)};
  }

  // The exact least-squares vector of a user (new, or with changed interactions) from items and
  // their strengths, the item factors fixed: solves (YᵀY + λI + Σ_i α r_i y_i y_iᵀ) x =
  // Σ_i (1 + α r_i) y_i by Cholesky (LDLT if λ = 0 leaves it singular) in double precision, with
  // YᵀY kept in the model: O(n f² + f³). Repeated items are summed. No items: the zero vector.
  // kInvalidArgument when the spans differ in length, an item is out of range or a strength is
  // not finite and > 0.
  Result<std::vector<float>> FoldIn(std::span<const int32_t> items, std::span<const float> strengths) const;

  // Up to k items best first by dot product with user_vector, as (item, score); equal scores in
  // increasing item order. `exclude` may be in any order and hold repeats or ids out of range.
  // k > items() gives every item not excluded. A user_vector whose size is not factors(), or that
  // holds a NaN or infinity, gives an empty result. O(items f + items log k).
  std::vector<std::pair<int32_t, float>> TopK(std::span<const float> user_vector, size_t k,
                                              std::span<const int32_t> exclude = {}) const;

  // The training loss above for `user_items` (users() × items()), in double precision: the
  // unobserved pairs through the Gram matrices, O((users + items) f² + nnz f).
  Result<double> Loss(const CsrMatrix& user_items) const;

  // One user half-step with the item factors fixed: every user's vector re-solved from its row of
  // `user_items` (users() × items()) by cg_steps CG steps warm-started from the current vector,
  // using the model's λ and α (e.g. to refresh users between full fits while the items, and an
  // index over them, stay as they are).
  Status UpdateUsers(const CsrMatrix& user_items, int cg_steps, int threads = 1);

 private:
  using Floats = std::vector<float, als_internal::CacheLineAllocator<float>>;

  AlsModel() = default;
  void ComputeItemGram();

  int32_t users_ = 0;
  int32_t items_ = 0;
  int factors_ = 0;
  int stride_ = 0;  // factors_ rounded up to a multiple of 8; the padding stays 0
  float regularization_ = 0;
  float alpha_ = 0;
  Floats user_factors_;       // users_ × stride_
  Floats item_factors_;       // items_ × stride_
  std::vector<double> gram_;  // YᵀY, factors_ × factors_, for FoldIn
};

}  // namespace emporium::ml
