// NDCG arithmetic on hand-computed cases, the judgments reader, and a tiny end-to-end evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "platform/core/random.h"
#include "services/search/eval.h"

namespace emporium::search {
namespace {

std::filesystem::path TempFile(const std::string& name, const std::string& bytes) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("search-eval-" + NewUuid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
  return dir / name;
}

TEST(Ndcg, GainIsExponentialInRelevanceAboveIrrelevant) {
  EXPECT_DOUBLE_EQ(Gain(1), 0);
  EXPECT_DOUBLE_EQ(Gain(2), 1);
  EXPECT_DOUBLE_EQ(Gain(3), 3);
  EXPECT_NEAR(Gain(2.5), std::sqrt(8.0) - 1, 1e-12);
}

TEST(Ndcg, DcgDiscountsByLogOfRank) {
  EXPECT_DOUBLE_EQ(Dcg({3, 1}, 10), 3 + 1 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(Dcg({3, 1, 7}, 2), 3 + 1 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(Dcg({}, 10), 0);
}

TEST(Ndcg, HandComputedRankings) {
  const std::map<std::string, double> judged = {{"a", 3}, {"b", 2}, {"c", 1}};
  // Ideal: a (3), b (1), c (0) → IDCG = 3 + 1/log2(3).
  const double idcg = 3 + 1 / std::log2(3.0);
  EXPECT_DOUBLE_EQ(Ndcg({"a", "b", "c"}, judged, 10), 1.0);
  EXPECT_DOUBLE_EQ(Ndcg({"b", "a"}, judged, 10), (1 + 3 / std::log2(3.0)) / idcg);
  // Unjudged results gain nothing but take a rank.
  EXPECT_DOUBLE_EQ(Ndcg({"x", "a"}, judged, 10), (3 / std::log2(3.0)) / idcg);
  EXPECT_DOUBLE_EQ(Ndcg({}, judged, 10), 0);
  // Cut-off: only the first k ranks count (for the ideal too).
  EXPECT_DOUBLE_EQ(Ndcg({"b", "a"}, judged, 1), 1.0 / 3.0);
  // Nothing relevant to find: not scoreable.
  EXPECT_EQ(Ndcg({"c"}, {{"c", 1}}, 10), -1);
}

TEST(Judgments, ReadsQuotedCsvAndConvertsWindows1252) {
  std::string csv =
      "id,product_uid,product_title,search_term,relevance\r\n"
      "2,100001,Simpson Strong-Tie 12-Gauge Angle,angle bracket,3\r\n"
      "3,100001,Simpson Strong-Tie 12-Gauge Angle,l bracket,2.5\r\n"
      "4,100002,\"Deck \"\"Over\"\", 1-gal.\",deck over,2.33\r\n"
      "5,100003,Caf\xe9 Table \x96 Oak,cafe table,1\r\n"
      "6,100004,Broken row\r\n"
      "7,100005,No relevance,thing,abc\r\n";
  size_t skipped = 0;
  auto j = ReadJudgments(TempFile("j.csv", csv), &skipped);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_EQ(j->size(), 4u);
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ((*j)[1].query, "l bracket");
  EXPECT_DOUBLE_EQ((*j)[1].relevance, 2.5);
  EXPECT_EQ((*j)[2].title, "Deck \"Over\", 1-gal.");
  EXPECT_EQ((*j)[3].title, "Caf\xc3\xa9 Table \xe2\x80\x93 Oak");
}

TEST(Judgments, MissingFileAndWrongHeaderAreErrors) {
  EXPECT_EQ(ReadJudgments("/nonexistent/j.csv").status().code(), Code::kNotFound);
  EXPECT_EQ(ReadJudgments(TempFile("bad.csv", "a,b\n1,2\n")).status().code(), Code::kInvalidArgument);
}

TEST(Judgments, Utf8IsKept) {
  EXPECT_EQ(ToUtf8("Caf\xc3\xa9"), "Caf\xc3\xa9");
  EXPECT_EQ(ToUtf8("Caf\xe9"), "Caf\xc3\xa9");
}

TEST(Evaluate, ScoresEachDistinctQueryOverTheTitleIndex) {
  std::string csv =
      "id,product_uid,product_title,search_term,relevance\n"
      "1,1,Steel Angle Bracket,angle bracket,3\n"
      "2,2,Angle Grinder Disc,angle bracket,1\n"
      "3,3,Oak Shelf Bracket,angle bracket,2\n"
      "4,4,Garden Hose Reel,hose reel,3\n"
      "5,5,Kitchen Sink,sink,1\n";
  auto judgments = ReadJudgments(TempFile("e.csv", csv));
  ASSERT_TRUE(judgments.ok());
  auto dir = std::filesystem::path(::testing::TempDir()) / ("search-eval-index-" + NewUuid());
  auto index = BuildEvalIndex(*judgments, dir);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(*(*index)->Size(), 5);
  auto r = Evaluate(**index, *judgments, SearchOptions{}, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // "sink" has only an irrelevant judgment: excluded. "hose reel" finds its product: 1.
  // "angle bracket" (all terms) finds only product 1: DCG 3, IDCG 3 + 1/log2(3).
  EXPECT_EQ(r->queries, 2u);
  EXPECT_EQ(r->excluded, 1u);
  const double angle = 3 / (3 + 1 / std::log2(3.0));
  EXPECT_NEAR(r->mean_ndcg, (1 + angle) / 2, 1e-9);

  std::ostringstream out;
  index->reset();
  ASSERT_TRUE(RunEvalCommand(TempFile("e2.csv", csv), EvalCommandOptions{}, ::testing::TempDir(), out).ok());
  EXPECT_NE(out.str().find("NDCG@10"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("3 queries"), std::string::npos) << out.str();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace emporium::search
