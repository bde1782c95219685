#include "platform/ml/metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "platform/ml/metrics/report.h"

namespace emporium::ml {
namespace {

TEST(Ndcg, PerfectAndReversedRankings) {
  const std::vector<double> gains{3, 1, 0};
  EXPECT_DOUBLE_EQ(NdcgAtK(gains, gains, 3), 1.0);
  const std::vector<double> reversed{0, 1, 3};
  const double dcg = 1 / std::log2(3.0) + 3 / std::log2(4.0);
  const double ideal = 3 + 1 / std::log2(3.0);
  EXPECT_NEAR(NdcgAtK(reversed, gains, 3), dcg / ideal, 1e-12);
  EXPECT_EQ(NdcgAtK(std::vector<double>{0, 0}, std::vector<double>{0, 0}, 10), -1);
}

TEST(BinaryRanking, PrecisionRecallMapNdcg) {
  const std::vector<int64_t> ranked{5, 1, 7, 2};
  const std::unordered_set<int64_t> relevant{1, 2, 9};
  EXPECT_DOUBLE_EQ(PrecisionAtK(ranked, relevant, 4), 0.5);
  EXPECT_DOUBLE_EQ(RecallAtK(ranked, relevant, 4), 2.0 / 3.0);
  // hits at ranks 2 and 4: (1/2 + 2/4) / min(4, 3)
  EXPECT_DOUBLE_EQ(AveragePrecisionAtK(ranked, relevant, 4), (0.5 + 0.5) / 3.0);
  const double dcg = 1 / std::log2(3.0) + 1 / std::log2(5.0);
  const double ideal = 1 + 1 / std::log2(3.0) + 1 / std::log2(4.0);
  EXPECT_NEAR(BinaryNdcgAtK(ranked, relevant, 4), dcg / ideal, 1e-12);
  // A ranking shorter than k counts the missing ranks as misses.
  EXPECT_DOUBLE_EQ(PrecisionAtK(std::vector<int64_t>{1}, relevant, 10), 0.1);
}

TEST(RankingMetrics, SkipsUsersWithoutHeldOutItemsButCountsCoverage) {
  RankingMetrics m(2, 10);
  m.Add(std::vector<int64_t>{1, 2}, {1});
  m.Add(std::vector<int64_t>{3, 4}, {});
  EXPECT_EQ(m.users(), 1u);
  EXPECT_DOUBLE_EQ(m.precision(), 0.5);
  EXPECT_DOUBLE_EQ(m.coverage(), 0.4);
}

TEST(Auc, RocMatchesPairCountingWithTies) {
  const std::vector<double> scores{0.9, 0.8, 0.8, 0.3, 0.1};
  const std::vector<int> labels{1, 0, 1, 0, 0};
  // positive pairs won: 0.9 beats 3 negatives; 0.8 (pos) beats 0.3 and 0.1 and ties 0.8 → 2.5
  EXPECT_DOUBLE_EQ(AucRoc(scores, labels), (3 + 2.5) / 6.0);
  EXPECT_DOUBLE_EQ(AucRoc(scores, std::vector<int>{0, 0, 0, 0, 0}), 0.5);
}

TEST(Auc, PrIsAveragePrecisionWithPessimisticTies) {
  const std::vector<double> scores{0.9, 0.8, 0.8, 0.3};
  const std::vector<int> labels{1, 1, 0, 0};
  // the tie puts the negative first: positives at ranks 1 and 3
  EXPECT_DOUBLE_EQ(AucPr(scores, labels), (1.0 + 2.0 / 3.0) / 2.0);
}

TEST(ReviewRate, RecallAndThreshold) {
  std::vector<double> scores;
  std::vector<int> labels;
  for (int i = 0; i < 100; ++i) {
    scores.push_back(i / 100.0);
    labels.push_back(i >= 95 || i == 10 ? 1 : 0);
  }
  EXPECT_DOUBLE_EQ(RecallAtRate(scores, labels, 0.05), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(RecallAtRate(scores, labels, 0.01), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(ThresholdAtRate(scores, 0.05), 0.95);
}

TEST(Psi, ZeroForTheSameDistributionAndGrowsWithShift) {
  std::vector<double> ref, same, shifted;
  for (int i = 0; i < 1000; ++i) {
    ref.push_back(i % 100);
    same.push_back((i * 7) % 100);
    shifted.push_back(50 + (i % 100));
  }
  const auto edges = QuantileEdges(ref);
  ASSERT_EQ(edges.size(), 9u);
  EXPECT_NEAR(Psi(BinShares(ref, edges), BinShares(same, edges)), 0.0, 1e-9);
  EXPECT_GT(Psi(BinShares(ref, edges), BinShares(shifted, edges)), 1.0);
}

TEST(Report, TableAndJson) {
  Report r("demo", "a test");
  r.SetColumns({"NDCG@10", "users"});
  r.AddRow("popularity", {0.1234567, 610});
  r.AddRow("missing", {std::nan(""), 1});
  r.AddNote("seed", "42");
  std::ostringstream table, json;
  r.Print(table, false);
  r.Print(json, true);
  EXPECT_NE(table.str().find("0.1235"), std::string::npos);
  EXPECT_NE(table.str().find("610"), std::string::npos);
  EXPECT_EQ(json.str(),
            "{\"name\":\"demo\",\"description\":\"a test\",\"notes\":{\"seed\":\"42\"},\"rows\":[{\"name\":"
            "\"popularity\",\"NDCG@10\":0.1234567,\"users\":610},{\"name\":\"missing\",\"NDCG@10\":null,"
            "\"users\":1}]}\n");
}

}  // namespace
}  // namespace emporium::ml
