// Learning to rank for search: the features of a (query, candidate) pair, the XGBoost ranker
// (rank:ndcg) that reorders the top of the fused candidate list, and its training from graded
// judgments. Training and serving compute features with the same code (AppendRankFeatures).
//
// Artifacts live in the model registry (platform/ml/registry) under the name "search-ranker":
// model.ubj (the booster), features.txt (one column name per line) and metrics.json. A model whose
// features are not this build's is refused, and search keeps the business rules.
//
// Thread-safety: QueryText and the functions are pure. LearnedRanker is thread-safe: Rerank runs
// on request threads while Swap replaces the model.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/gbdt/gbdt.h"
#include "services/search/personal.h"
#include "services/search/ranking.h"

namespace emporium::ml {
class ModelStore;
struct Artifact;
}  // namespace emporium::ml

namespace emporium::search {

inline constexpr std::string_view kRankerModelName = "search-ranker";
// The learned ranker reorders this many of the best fused candidates; the rest keep their order.
inline constexpr size_t kRerankDepth = 100;
// A ranker learned from clicks reorders fewer: its logged searches showed only products that
// matched the query, so it knows what shoppers like among matches, not what matches.
inline constexpr size_t kClickRerankDepth = 20;

// The feature columns, in order: of the query and the candidate (a ranker trained on judgments);
// those and PersonalFeatureNames() (a ranker trained on shoppers' clicks, personal.h).
const std::vector<std::string>& RankFeatureNames();
const std::vector<std::string>& PersonalRankFeatureNames();

// The cosine of each candidate to the centroid of the products a shopper saw lately (NaN:
// unknown); ProductVectors::SimilarityToCentroid in the module. May be empty (all NaN).
using RecentSimilarity = std::function<std::vector<float>(std::span<const std::string> recent,
                                                          std::span<const std::string> candidates)>;

// A query's words (lower-case ASCII letters and digits; other bytes ≥ 0x80 kept), prepared once
// for all of its candidates.
struct QueryText {
  explicit QueryText(std::string_view text);
  std::vector<std::string> words;
  std::vector<uint32_t> trigrams;  // sorted, distinct
};

// Appends RankFeatureNames().size() floats for the hit (NaN = missing: not a keyword match, no
// vector, a query without two words or without a number).
void AppendRankFeatures(const QueryText& query, const Hit& hit, std::vector<float>& out);

// The training label of a judged relevance 1..3 (averaged over raters): 0..6 in thirds, so
// XGBoost's 2^label - 1 gain keeps the judgments' order; an unjudged candidate is 0.
float RankLabel(double relevance);

// The feature rows of the first n hits, row-major: RankFeatureNames(), and with `personal` the
// PersonalFeatureNames() of `profile` (null: missing). Training and serving both use it.
std::vector<float> RankRows(const QueryText& query, const std::vector<Hit>& hits, size_t n, bool personal,
                            const UserProfile* profile, const RecentSimilarity& similarity);

// XGBoost settings for the ranker (chosen on the Home Depot development judgments by query-disjoint
// cross-validation, docs/search.md).
ml::TrainParams RankerTrainParams();

struct RankerModel {
  std::string version;
  bool personal = false;  // trained with PersonalRankFeatureNames() (from clicks): reranks kClickRerankDepth
  std::unique_ptr<ml::Booster> booster;
};

// Reads a published ranker. kFailedPrecondition when its features are neither RankFeatureNames()
// nor PersonalRankFeatureNames().
Result<std::shared_ptr<const RankerModel>> LoadRankerModel(const ml::ModelStore& store,
                                                           const ml::Artifact& artifact);

// What search serves with: with a model, semantic and hybrid results are ordered by it (the top
// kRerankDepth), then in-stock first; keyword results and a missing model get the business rules.
// A personal model reads the caller's profile from the ProfileBook (none for an anonymous or
// `personalize=false` search); the version it reports then ends in "+personal".
class LearnedRanker final : public Ranker {
 public:
  // Call before serving; both must outlive the ranker (similarity may be empty).
  void SetPersonalization(const ProfileBook* profiles, RecentSimilarity similarity);
  std::string Rerank(const Query& query, const std::optional<auth::Principal>& principal,
                     std::vector<Hit>& hits) override;
  size_t feature_depth() const override;
  void Swap(std::shared_ptr<const RankerModel> model);
  std::shared_ptr<const RankerModel> model() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const RankerModel> model_;
  BusinessRulesRanker rules_;
  const ProfileBook* profiles_ = nullptr;
  RecentSimilarity similarity_;
};

// Keeps what the index hands a ranker: the first kRerankDepth candidates with their features, and
// the text retrieval used. Training and evaluation search with it.
class CandidateCapture final : public Ranker {
 public:
  std::string Rerank(const Query& query, const std::optional<auth::Principal>& principal,
                     std::vector<Hit>& hits) override;
  size_t feature_depth() const override { return kRerankDepth; }
  std::string text;
  std::vector<Hit> hits;
};

// The ranking examples of many queries: one group of rows per query, the candidates in fused
// order (as the ranker sees them).
struct RankExamples {
  ml::Dataset data;
  std::vector<std::string> queries;                   // one per group
  std::vector<size_t> offsets;                        // first row of each group; then rows()
  std::vector<std::string> ids;                       // one per row
  std::vector<std::map<std::string, double>> judged;  // per group: product id → relevance
};

// Takes the groups listed (indices into examples.queries) into a Dataset for training.
ml::Dataset Subset(const RankExamples& examples, const std::vector<size_t>& groups);

}  // namespace emporium::search
