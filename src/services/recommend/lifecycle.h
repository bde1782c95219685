// The models' lifecycle: train → evaluate → register → promote → serve → retrain.
//
// A round (TrainRound) holds back the newest interactions as a slice neither model has seen:
// the candidate is fitted on everything that arrived before the slice, which must be more than
// the current model was fitted on (else the round waits for more), and both are scored on the
// slice (NDCG@10 of each slice user's items, from their history before it). The candidate is
// staged in the registry (<data-dir>/models/recommend, platform/ml/registry) with both scores in
// its metrics.json, and promoted (made CURRENT, swapped into serving) only when it scores
// higher; without a current model the first one is promoted as it is. Any published version
// can be promoted again by command (a rollback); serving watches CURRENT and swaps it in whole.
//
// The gate scores the default strategy's lists (kFused), what most requests get. A model with a
// ranker is also scored ranked, recorded beside (slice.candidate_ranked, slice.current_ranked)
// but not gated on: a ranker's worth is the A/B experiment's to show, and gating on the better of
// two lists would let a model that serves the default variant worse through.
//
// An artifact holds items.txt (the item ids of the graph indices it was fitted on), the
// generators' saved state and, when fitted, the ranker (ranker.bin; without it kRanked serves
// kFused); it loads only into a graph whose first items are those ids (a graph replayed from the
// same log), else it is refused and the module trains afresh.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/registry/registry.h"
#include "services/recommend/graph.h"
#include "services/recommend/recommender.h"

namespace emporium::recommend {

inline constexpr std::string_view kModelName = "recommend";

Result<std::map<std::string, std::string>> ModelFiles(const Models& models);
Result<std::shared_ptr<Models>> LoadModels(const ml::ModelStore& store, const ml::Artifact& artifact,
                                           const Graph& graph);

struct SliceScore {
  size_t users = 0;
  double ndcg = 0, recall = 0;
  Strategy strategy = Strategy::kFused;  // what was scored (kFused for kRanked without a ranker)
};
// The models' lists of a strategy (Propose, popular items after, as serving makes them but
// without the catalog's filters and the category cap) on the slice.
SliceScore ScoreOnSlice(const Models& models, Strategy strategy, const std::vector<Interaction>& before,
                        const std::vector<Interaction>& slice, int32_t users, double half_life_days,
                        size_t k = 10);

struct LifecycleOptions {
  ModelOptions models = DefaultModelOptions();
  double slice_share = 0.1;  // of all interactions, held back
  size_t min_slice = 50;
};

struct RoundResult {
  bool trained = false;  // false: not enough new interactions
  bool promoted = false;
  std::string why;  // what was decided and why
  std::shared_ptr<Models> candidate;
  SliceScore candidate_score, current_score;                   // kFused: the gate
  std::optional<SliceScore> candidate_ranked, current_ranked;  // of a model with a ranker
};

Result<RoundResult> TrainRound(const Graph& graph, const ml::ModelStore& store, const Models* current,
                               const LifecycleOptions& options, std::stop_token stop = {});

}  // namespace emporium::recommend
