// Training and cross-validation of the search ranker (ltr.h) from graded judgments: the hybrid
// candidates of every judged query become one ranking group, labelled by RankLabel (unjudged
// candidates 0, as in the NDCG of eval.h).
//
// `emporium train search --judgments=FILE` trains on 90 % of the queries, stops early on the
// other 10 % (query-disjoint), and publishes the model with its held-out figures in the model
// registry, where a running search module picks it up. Pure functions over their inputs;
// RunTrainCommand writes only the new artifact.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <stop_token>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/gbdt/gbdt.h"
#include "platform/ml/registry/registry.h"
#include "services/search/activity.h"
#include "services/search/eval.h"
#include "services/search/ltr.h"

namespace emporium::search {

// Every scored query's hybrid candidates (the top kRerankDepth, as the ranker would see them),
// with their features and labels. Queries whose ideal DCG is 0 are left out, as in Evaluate.
Result<RankExamples> CollectRankExamples(Index& index, const std::vector<Judgment>& judgments,
                                         const std::map<std::string, SemanticCandidates>& semantic,
                                         const SearchOptions& options);

// NDCG@k of every group of `examples` listed in `groups`, ordered by `scores` (one per row of
// the whole set; rows of other groups ignored), averaged.
double MeanNdcg(const RankExamples& examples, const std::vector<size_t>& groups,
                const std::vector<float>& scores, size_t k);

// The query-disjoint splits: the fold of a query is a hash of its text (mixed with salt, so splits
// with different salts are independent) mod folds.
size_t FoldOf(const std::string& query, size_t folds, uint64_t salt = 0);

struct CrossValidation {
  double ndcg = 0;           // the ranker's order, each fold scored by the model that did not see it
  double baseline_ndcg = 0;  // the fused order of the same candidates
  size_t queries = 0;
  double mean_rounds = 0;
};
Result<CrossValidation> CrossValidateRanker(const RankExamples& examples, size_t folds, size_t k,
                                            const ml::TrainParams& params);

struct TrainedRanker {
  std::unique_ptr<ml::Booster> booster;
  size_t train_queries = 0;
  size_t valid_queries = 0;
  double valid_ndcg = 0;      // the model on the held-out queries
  double valid_baseline = 0;  // the fused order on the same queries
};
// Trains on the listed groups: 90 % of their queries fit the trees, the other 10 % (by FoldOf
// with its own salt) decide when to stop.
Result<TrainedRanker> TrainRanker(const RankExamples& examples, const std::vector<size_t>& groups, size_t k,
                                  const ml::TrainParams& params);

struct TrainCommandOptions {
  size_t k = 10;
  bool json = false;
  std::shared_ptr<const ml::SentenceEncoder> encoder;  // required: the features need vectors
  std::filesystem::path models_root;                   // the registry root (<data-dir>/models)
};

// `emporium train search`: builds the corpus, trains, publishes, prints the figures.
Status RunTrainCommand(const std::filesystem::path& file, const TrainCommandOptions& options,
                       const std::filesystem::path& tmp_root, std::ostream& out);

struct ActivityTraining {
  ml::Artifact artifact;
  size_t searches = 0;
  size_t searches_with_clicks = 0;
  size_t rows = 0;
  double click_rate = 0;
  std::vector<double> examination;  // θ_k / θ_0 as estimated
  double seconds = 0;
};

// The personal ranker from logged searches, clicks and purchases (clicks.h), published as
// kRankerModelName with PersonalRankFeatureNames(). `vectors` gives hybrid candidates and
// recent_similarity (null: keyword candidates). kFailedPrecondition when fewer than
// `min_clicked_searches` searches have a click; kCancelled, publishing nothing, when `stop` is
// requested meanwhile.
Result<ActivityTraining> TrainFromActivity(Index& index, const ProductVectors* vectors,
                                           const std::vector<Activity>& activities,
                                           const std::filesystem::path& models_root,
                                           size_t min_clicked_searches, std::stop_token stop = {});

}  // namespace emporium::search
