// The ranker's features, training and cross-validation on a generated ranking problem, the
// artifact round trip, and LearnedRanker's choices (model, fallback, keyword mode).
#include "services/search/ltr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "platform/core/random.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/registry/registry.h"
#include "services/search/train.h"

namespace emporium::search {
namespace {

float Feature(const std::vector<float>& row, std::string_view name) {
  const auto& names = RankFeatureNames();
  return row.at(static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin()));
}

TEST(RankFeatures, DescribeHowTheTitleMeetsTheQuery) {
  Hit h;
  h.title = "DeWalt 20V Cordless Drills, 1/2 in.";
  h.keyword_rank = 2;
  h.bm25 = 7.5;
  h.in_stock = true;
  h.price = 9999;
  std::vector<float> row;
  AppendRankFeatures(QueryText("cordless drill 20v 18v"), h, row);
  ASSERT_EQ(row.size(), RankFeatureNames().size());
  EXPECT_FLOAT_EQ(Feature(row, "bm25"), 7.5f);
  EXPECT_FLOAT_EQ(Feature(row, "keyword_rr"), 0.5f);
  EXPECT_TRUE(std::isnan(Feature(row, "similarity"))) << "no vector known";
  EXPECT_FLOAT_EQ(Feature(row, "semantic_rr"), 0.0f);
  EXPECT_FLOAT_EQ(Feature(row, "query_words"), 4);
  EXPECT_FLOAT_EQ(Feature(row, "title_words"), 7);
  EXPECT_FLOAT_EQ(Feature(row, "exact_coverage"), 0.5f) << "cordless, 20v";
  EXPECT_FLOAT_EQ(Feature(row, "prefix_coverage"), 0.75f) << "and drill ~ drills";
  EXPECT_FLOAT_EQ(Feature(row, "bigram_coverage"), 1.0f / 3) << "cordless drill(s)";
  EXPECT_FLOAT_EQ(Feature(row, "number_coverage"), 0.5f) << "20v, not 18v";
  EXPECT_FLOAT_EQ(Feature(row, "first_word_match"), 1);
  EXPECT_FLOAT_EQ(Feature(row, "last_word_match"), 0);
  EXPECT_FLOAT_EQ(Feature(row, "in_stock"), 1);
  EXPECT_NEAR(Feature(row, "log_price"), std::log1p(9999.0), 1e-4);
  const float jaccard = Feature(row, "trigram_jaccard");
  EXPECT_GT(jaccard, 0.2f);
  EXPECT_LT(jaccard, 1.0f);

  Hit semantic_only;
  semantic_only.title = "Impact Driver";
  semantic_only.semantic_rank = 4;
  semantic_only.similarity = 0.61f;
  semantic_only.has_similarity = true;
  row.clear();
  AppendRankFeatures(QueryText("drill"), semantic_only, row);
  EXPECT_TRUE(std::isnan(Feature(row, "bm25"))) << "not a keyword match";
  EXPECT_FLOAT_EQ(Feature(row, "similarity"), 0.61f);
  EXPECT_FLOAT_EQ(Feature(row, "semantic_rr"), 0.25f);
  EXPECT_TRUE(std::isnan(Feature(row, "bigram_coverage"))) << "one word";
  EXPECT_TRUE(std::isnan(Feature(row, "number_coverage"))) << "no number";
  EXPECT_FLOAT_EQ(Feature(row, "exact_coverage"), 0);
}

TEST(RankFeatures, LabelsKeepTheJudgmentsOrder) {
  EXPECT_EQ(RankLabel(1.0), 0);
  EXPECT_EQ(RankLabel(1.33), 1);
  EXPECT_EQ(RankLabel(2.0), 3);
  EXPECT_EQ(RankLabel(2.67), 5);
  EXPECT_EQ(RankLabel(3.0), 6);
  EXPECT_EQ(RankLabel(7.0), 6);
}

// Queries of two words; each has 20 candidates in "fused order" where the three products holding
// both words (the relevant ones) sit at random places among near misses that hold one. Only a
// ranker that learned coverage puts them first.
RankExamples Generated(size_t queries, uint64_t seed) {
  static const char* kWords[] = {"drill",  "saw",   "hammer", "lamp",   "faucet", "paint",  "brush",
                                 "ladder", "glove", "valve",  "sander", "router", "chisel", "wrench"};
  constexpr size_t n = std::size(kWords);
  Xoshiro256 rng(seed);
  RankExamples ex;
  ex.data.cols = RankFeatureNames().size();
  std::vector<float> row;
  for (size_t q = 0; q < queries; ++q) {
    const std::string a = kWords[rng.Next() % n], b = kWords[rng.Next() % n];
    const std::string text = a + " " + b;
    ex.queries.push_back(text);
    ex.offsets.push_back(ex.ids.size());
    std::map<std::string, double> judged;
    bool relevant_at[20] = {};
    for (int placed = 0; placed < 3;) {
      size_t at = rng.Next() % 20;
      if (!relevant_at[at]) relevant_at[at] = true, ++placed;
    }
    for (uint32_t i = 0; i < 20; ++i) {
      const bool relevant = relevant_at[i];
      Hit h;
      h.product_id = "q" + std::to_string(q) + "-" + std::to_string(i);
      h.title = relevant ? a + " " + b + " pro" : std::string(kWords[rng.Next() % n]) + " " + a + " kit";
      h.keyword_rank = i + 1;
      h.bm25 = 10.0 - 0.3 * i;
      h.in_stock = true;
      row.clear();
      AppendRankFeatures(QueryText(text), h, row);
      if (relevant) judged[h.product_id] = 3.0;
      EXPECT_TRUE(ex.data.AddRow(row, relevant ? RankLabel(3.0) : 0.0f).ok());
      ex.ids.push_back(h.product_id);
    }
    ex.judged.push_back(std::move(judged));
  }
  ex.offsets.push_back(ex.ids.size());
  return ex;
}

ml::TrainParams Quick() {
  ml::TrainParams p = RankerTrainParams();
  p.rounds = 40;
  p.early_stopping_rounds = 10;
  return p;
}

TEST(RankerTraining, FoldsAreQueryDisjointAndIndependentBySalt) {
  size_t same = 0, sizes[5] = {};
  for (int i = 0; i < 2000; ++i) {
    const std::string q = "query " + std::to_string(i);
    EXPECT_EQ(FoldOf(q, 5), FoldOf(q, 5)) << "a query always falls in one fold";
    ++sizes[FoldOf(q, 5)];
    same += FoldOf(q, 10, 1) == 0 && FoldOf(q, 5) == 0;
  }
  for (size_t s : sizes) EXPECT_NEAR(static_cast<double>(s), 400, 80);
  EXPECT_NEAR(static_cast<double>(same), 2000.0 / 50, 25) << "salted splits are independent";
}

TEST(RankerTraining, CrossValidationShowsWhatTheModelLearned) {
  RankExamples ex = Generated(300, 7);
  auto cv = CrossValidateRanker(ex, 3, 10, Quick());
  ASSERT_TRUE(cv.ok()) << cv.status().ToString();
  EXPECT_EQ(cv->queries, 300u);
  EXPECT_LT(cv->baseline_ndcg, 0.7) << "the fused order does not know the relevant products";
  EXPECT_GT(cv->ndcg, 0.95) << "coverage puts them first";
  EXPECT_GT(cv->mean_rounds, 0);
}

TEST(RankerTraining, TooFewQueriesIsAnError) {
  RankExamples ex = Generated(1, 3);
  EXPECT_EQ(TrainRanker(ex, {0}, 10, Quick()).status().code(), Code::kInvalidArgument);
}

class LearnedRankerTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = std::filesystem::path(::testing::TempDir()) / ("ltr-" + RandomHex(6)); }
  void TearDown() override { std::filesystem::remove_all(root_); }

  ml::Artifact PublishTrained(const std::string& features) {
    RankExamples ex = Generated(120, 11);
    std::vector<size_t> all(ex.queries.size());
    std::iota(all.begin(), all.end(), 0);
    auto t = TrainRanker(ex, all, 10, Quick());
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    auto bytes = t->booster->Save();
    ml::ModelStore store(root_, std::string(kRankerModelName));
    auto a = store.Publish({{"model.ubj", *bytes}, {"features.txt", features}}, "{}");
    EXPECT_TRUE(a.ok());
    return *a;
  }
  std::filesystem::path root_;
};

std::vector<Hit> Candidates() {
  std::vector<Hit> hits;
  for (int i = 0; i < 5; ++i) {
    Hit h;
    h.product_id = "p" + std::to_string(i);
    h.title = i == 4 ? "drill saw pro" : "lamp drill kit";
    h.keyword_rank = static_cast<uint32_t>(i + 1);
    h.bm25 = 10.0 - i;
    h.in_stock = i != 1;
    hits.push_back(h);
  }
  return hits;
}

TEST_F(LearnedRankerTest, ReordersByTheModelThenInStockFirst) {
  std::string features;
  for (const auto& n : RankFeatureNames()) features += n + "\n";
  ml::Artifact a = PublishTrained(features);
  ml::ModelStore store(root_, std::string(kRankerModelName));
  auto model = LoadRankerModel(store, a);
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  LearnedRanker ranker;
  EXPECT_EQ(ranker.feature_depth(), 0u) << "no model: no features needed";
  std::vector<Hit> hits = Candidates();
  EXPECT_EQ(ranker.Rerank(Query{.text = "drill saw", .mode = SearchMode::kHybrid}, std::nullopt, hits),
            "business-rules");

  ranker.Swap(*model);
  EXPECT_EQ(ranker.feature_depth(), kRerankDepth);
  hits = Candidates();
  EXPECT_EQ(ranker.Rerank(Query{.text = "drill saw", .mode = SearchMode::kHybrid}, std::nullopt, hits),
            "ltr@" + a.version);
  EXPECT_EQ(hits.front().product_id, "p4") << "the one holding both words";
  EXPECT_EQ(hits.back().product_id, "p1") << "out of stock last";

  hits = Candidates();
  EXPECT_EQ(ranker.Rerank(Query{.text = "drill saw", .mode = SearchMode::kKeyword}, std::nullopt, hits),
            "business-rules")
      << "mode=keyword stays plain keyword search";
  EXPECT_EQ(hits.front().product_id, "p0");
}

TEST_F(LearnedRankerTest, AModelOfOtherFeaturesIsRefused) {
  ml::Artifact a = PublishTrained("bm25\nsomething_else\n");
  ml::ModelStore store(root_, std::string(kRankerModelName));
  EXPECT_EQ(LoadRankerModel(store, a).status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace emporium::search
