// Learning the personal ranker from what shoppers clicked, corrected for position bias.
//
// Each logged search (activity.h) becomes rows, one per product shown in its first kClickDepth
// positions, labelled clicked or not. The features are what the ranker would compute: the text
// features from the query's candidates in the index now, and the shopper's profile as it stood
// when they searched (the activities before it replayed into a ProfileBook), so no row sees its
// own future. A click that led to a purchase of the product within a week weighs kPurchaseWeight.
//
// Clicks depend on where a product was shown: the position-based model says a click is
// examination (probability θ_k of position k) times relevance (γ of the shopper, query and
// product), so E[click] = θ_k·γ(x). FitClickModel estimates both, alternating: gradient-boosted
// trees fit log γ(x) by Poisson regression with log θ_k as each row's fixed offset, then each
// θ_k is the ratio of the clicks at k to the relevance shown there. The click-rate ratio by
// position, where it starts, overstates how little lower positions are looked at, because the
// products shown lower are worse; the alternation removes that (tested against a generator with a
// known θ, and in eval against the simulator's). This is the model of regression EM (Wang et al.,
// WSDM 2018) fitted by backfitting instead of EM, which converges in a few rounds. The trees rank at
// serving; θ is reported.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/gbdt/gbdt.h"
#include "services/search/activity.h"
#include "services/search/index.h"
#include "services/search/ltr.h"

namespace emporium::search {

inline constexpr size_t kClickDepth = 10;
inline constexpr float kPurchaseWeight = 3;

struct ClickExamples {
  ml::Dataset data;                 // PersonalRankFeatureNames() columns; label 1 = clicked
  std::vector<uint8_t> position;    // per row, 0-based
  std::vector<size_t> offsets;      // first row of each search; then rows()
  std::vector<std::string> users;   // per search
  std::vector<int64_t> at_ms;       // per search
  size_t searches_with_clicks = 0;  // of those collected
};

// The first kRerankDepth candidates of `text` with their features, as the ranker would get them:
// hybrid when `semantic` holds the text's candidates, keyword otherwise; no facets.
Result<CandidateCapture> CaptureCandidates(Index& index, const std::string& text,
                                           const std::map<std::string, SemanticCandidates>& semantic);

// The rows of every search in `activities` (time-ordered) at or after `from_ms` and before
// `until_ms`; profiles are built from all activities before each search. `semantic` holds the
// candidates of the queries (missing: keyword only); `similarity` gives recent_similarity.
// kCancelled when `stop` is requested meanwhile.
Result<ClickExamples> CollectClickExamples(Index& index, const std::vector<Activity>& activities,
                                           const std::map<std::string, SemanticCandidates>& semantic,
                                           const RecentSimilarity& similarity, int64_t from_ms,
                                           int64_t until_ms, std::stop_token stop = {});

// The same rows with only the RankFeatureNames() columns (the ranker without personalization).
ml::Dataset WithoutPersonalFeatures(const ml::Dataset& data);

struct ClickModelParams {
  int em_iterations = 6;  // alternations of γ and θ
  ml::TrainParams trees;  // count:poisson: the last round's trees; the earlier ones a quarter of the rounds
};
ClickModelParams DefaultClickModelParams();

struct ClickModel {
  std::unique_ptr<ml::Booster> booster;  // γ: relevance (the click rate where examined), for ranking
  std::vector<double> examination;       // θ_k, k = 0..kClickDepth-1
  double click_rate = 0;
};

// Fits θ and γ on `data` (rows parallel to `position`).
Result<ClickModel> FitClickModel(const ml::Dataset& data, const std::vector<uint8_t>& position,
                                 const ClickModelParams& params);

}  // namespace emporium::search
