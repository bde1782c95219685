#include "platform/ml/metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace emporium::ml {
namespace {

double Discount(size_t rank) {
  return 1.0 / std::log2(static_cast<double>(rank) + 2.0);
}

size_t HitsAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k) {
  size_t hits = 0;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) hits += relevant.count(ranked[i]);
  return hits;
}

// Indices of scores in descending order; ties keep negatives first (pessimistic).
std::vector<size_t> OrderByScore(std::span<const double> scores, std::span<const int> labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return labels[a] < labels[b];
  });
  return order;
}

}  // namespace

double DcgAtK(std::span<const double> ranked_gains, size_t k) {
  double dcg = 0;
  for (size_t i = 0; i < ranked_gains.size() && i < k; ++i) dcg += ranked_gains[i] * Discount(i);
  return dcg;
}

double NdcgAtK(std::span<const double> ranked_gains, std::span<const double> all_gains, size_t k) {
  std::vector<double> ideal(all_gains.begin(), all_gains.end());
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  const double best = DcgAtK(ideal, k);
  if (best <= 0) return -1;
  return DcgAtK(ranked_gains, k) / best;
}

double PrecisionAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k) {
  if (relevant.empty() || k == 0) return 0;
  return static_cast<double>(HitsAtK(ranked, relevant, k)) / static_cast<double>(k);
}

double RecallAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k) {
  if (relevant.empty()) return 0;
  return static_cast<double>(HitsAtK(ranked, relevant, k)) / static_cast<double>(relevant.size());
}

double AveragePrecisionAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant,
                           size_t k) {
  if (relevant.empty() || k == 0) return 0;
  double sum = 0;
  size_t hits = 0;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) {
    if (relevant.count(ranked[i])) {
      ++hits;
      sum += static_cast<double>(hits) / static_cast<double>(i + 1);
    }
  }
  return sum / static_cast<double>(std::min(k, relevant.size()));
}

double BinaryNdcgAtK(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant, size_t k) {
  if (relevant.empty()) return 0;
  double dcg = 0, ideal = 0;
  for (size_t i = 0; i < ranked.size() && i < k; ++i)
    if (relevant.count(ranked[i])) dcg += Discount(i);
  for (size_t i = 0; i < relevant.size() && i < k; ++i) ideal += Discount(i);
  return dcg / ideal;
}

void RankingMetrics::Add(std::span<const int64_t> ranked, const std::unordered_set<int64_t>& relevant) {
  for (size_t i = 0; i < ranked.size() && i < k_; ++i) shown_.insert(ranked[i]);
  if (relevant.empty()) return;
  ++users_;
  ndcg_ += BinaryNdcgAtK(ranked, relevant, k_);
  precision_ += PrecisionAtK(ranked, relevant, k_);
  recall_ += RecallAtK(ranked, relevant, k_);
  map_ += AveragePrecisionAtK(ranked, relevant, k_);
}

double AucRoc(std::span<const double> scores, std::span<const int> labels) {
  // Mann-Whitney U over ranks, ties sharing their mean rank.
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;
    for (size_t t = i; t < j; ++t) {
      if (labels[order[t]]) {
        positives += 1;
        rank_sum += mean_rank;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives);
}

double AucPr(std::span<const double> scores, std::span<const int> labels) {
  const std::vector<size_t> order = OrderByScore(scores, labels);
  double hits = 0, sum = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (labels[order[i]]) {
      hits += 1;
      sum += hits / static_cast<double>(i + 1);
    }
  }
  return hits > 0 ? sum / hits : 0;
}

double RecallAtRate(std::span<const double> scores, std::span<const int> labels, double rate) {
  const std::vector<size_t> order = OrderByScore(scores, labels);
  const double total = std::accumulate(labels.begin(), labels.end(), 0.0);
  if (total == 0) return 0;
  const size_t take = static_cast<size_t>(std::floor(rate * static_cast<double>(order.size())));
  double caught = 0;
  for (size_t i = 0; i < take && i < order.size(); ++i) caught += labels[order[i]];
  return caught / total;
}

double ThresholdAtRate(std::span<const double> scores, double rate) {
  if (scores.empty()) return 1;
  std::vector<double> sorted(scores.begin(), scores.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const size_t take = static_cast<size_t>(std::floor(rate * static_cast<double>(sorted.size())));
  if (take == 0) return sorted.front() + 1e-12;
  return sorted[std::min(take, sorted.size()) - 1];
}

std::vector<double> QuantileEdges(std::span<const double> reference, size_t bins) {
  std::vector<double> sorted(reference.begin(), reference.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> edges;
  if (sorted.empty() || bins < 2) return edges;
  for (size_t b = 1; b < bins; ++b) {
    const double e = sorted[std::min(sorted.size() - 1, b * sorted.size() / bins)];
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

std::vector<double> BinShares(std::span<const double> sample, std::span<const double> edges) {
  // Bin i holds values in [edges[i-1], edges[i]); the last bin everything from the last edge up.
  std::vector<double> shares(edges.size() + 1, 0.0);
  for (double v : sample) {
    const size_t bin = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
    shares[bin] += 1;
  }
  if (!sample.empty())
    for (double& s : shares) s /= static_cast<double>(sample.size());
  return shares;
}

double Psi(std::span<const double> expected_shares, std::span<const double> actual_shares) {
  constexpr double kFloor = 1e-4;
  double psi = 0;
  for (size_t i = 0; i < expected_shares.size() && i < actual_shares.size(); ++i) {
    const double e = std::max(expected_shares[i], kFloor);
    const double a = std::max(actual_shares[i], kFloor);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

}  // namespace emporium::ml
