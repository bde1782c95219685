// Offline evaluation metrics shared by every model: ranking (NDCG, precision, recall, MAP,
// coverage), binary classification (AUC-ROC, AUC-PR, recall at a review rate) and drift (PSI).
//
// Conventions: "@k" metrics look at the first k items of a ranking; a ranking shorter than k
// counts the missing ranks as misses. Functions are pure and thread-safe; they never throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace emporium::ml {

// DCG@k of gains in rank order: Σ_{i<k} gain_i / log2(i + 2).
double DcgAtK(std::span<const double> ranked_gains, size_t k);
// NDCG@k: DCG@k of the ranking over the ideal DCG@k of `all_gains` (every judged item's gain,
// any order). -1 when the ideal DCG is 0: the query cannot be scored, leave it out of the mean.
double NdcgAtK(std::span<const double> ranked_gains, std::span<const double> all_gains, size_t k);

// Binary relevance: `relevant` is the set of held-out items. Each returns 0 when relevant is
// empty (callers skip such users).
double PrecisionAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k);
double RecallAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k);
// Average precision at k: Σ over hits at rank i of precision@i, divided by min(k, |relevant|).
double AveragePrecisionAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant,
                           size_t k);
// NDCG@k with gain 1 for a relevant item.
double BinaryNdcgAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k);

// Means of the four binary metrics over users, plus catalog coverage (distinct items shown in
// anyone's top k over the catalog size).
class RankingMetrics {
 public:
  RankingMetrics(size_t k, size_t catalog_size) : k_(k), catalog_size_(catalog_size) {}
  // Adds one user's ranking; a user with nothing relevant is not counted.
  void Add(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant);
  size_t users() const { return users_; }
  double ndcg() const { return users_ ? ndcg_ / users_ : 0; }
  double precision() const { return users_ ? precision_ / users_ : 0; }
  double recall() const { return users_ ? recall_ / users_ : 0; }
  double map() const { return users_ ? map_ / users_ : 0; }
  double coverage() const { return catalog_size_ ? static_cast<double>(shown_.size()) / catalog_size_ : 0; }

 private:
  size_t k_;
  size_t catalog_size_;
  size_t users_ = 0;
  double ndcg_ = 0, precision_ = 0, recall_ = 0, map_ = 0;
  std::unordered_set<int64_t> shown_;
};

// Area under the ROC curve (ties count half). 0.5 when one class is absent.
double AucRoc(std::span<const double> scores, std::span<const int> labels);
// Area under the precision-recall curve as average precision (the sum over positives of the
// precision at their rank, ties broken pessimistically). 0 without positives.
double AucPr(std::span<const double> scores, std::span<const int> labels);
// Share of the positives among the top `rate` fraction of items by score (e.g. rate 0.01: what a
// review queue that takes 1 % of orders would catch). Ties at the cut are broken pessimistically.
double RecallAtRate(std::span<const double> scores, std::span<const int> labels, double rate);
// The score above which `rate` of the items lie (the threshold that reviews that share).
double ThresholdAtRate(std::span<const double> scores, double rate);

// Population stability index between a reference sample and a current sample of one variable:
// bins are the reference's deciles (or fewer distinct edges); Σ (a - e) ln(a / e) with shares
// floored at 1e-4. Bin edges from the reference are also what /metrics histograms can reuse.
std::vector<double> QuantileEdges(std::span<const double> reference, size_t bins = 10);
std::vector<double> BinShares(std::span<const double> sample, std::span<const double> edges);
double Psi(std::span<const double> expected_shares, std::span<const double> actual_shares);

}  // namespace emporium::ml
