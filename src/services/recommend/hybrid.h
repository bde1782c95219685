// The ranked hybrid: the union of every generator's candidates, ordered by gradient-boosted trees
// (XGBoost rank:ndcg) over what the generators say about each candidate.
//
// Training needs labels the generators did not see: the training interactions are split again
// per user (the same SplitPerUser, another seed); the generators are fitted on the inner side,
// each inner user's candidates are the rows of one query group, labelled 1 when the candidate is
// on the user's held-back side. Then the generators are refitted on all the training
// interactions, and serving (or the evaluation) ranks their candidates with those trees.
//
// Features of a candidate (HybridFeatureNames): per generator its rank in that generator's list
// (missing: not proposed) and its score over the generator's best score for the user; how many
// generators proposed it; the item's log popularity; the user's log history length.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/gbdt/gbdt.h"
#include "services/recommend/generators.h"

namespace emporium::recommend {

struct HybridOptions {
  size_t candidates = 50;             // taken from each generator
  double inner_share = 0.75;          // of each user's training items, to fit the generators on
  uint64_t seed = 4242;               // of the inner split
  size_t max_training_users = 20000;  // users sampled for the ranker's groups
  ml::TrainParams trees;
};
HybridOptions DefaultHybridOptions();

std::vector<std::string> HybridFeatureNames(const std::vector<std::string>& generators);

// A fitted set of generators and the trees over their union.
class Hybrid {
 public:
  // `make` builds a fresh generator by name (fitted twice: inner, then all of `rows`).
  using Factory = std::function<std::unique_ptr<Generator>(const std::string&)>;
  static Result<std::unique_ptr<Hybrid>> Fit(const std::vector<Interaction>& rows, int32_t users,
                                             int32_t items, double half_life_days,
                                             const std::vector<std::string>& generators, const Factory& make,
                                             const HybridOptions& options);

  // The generators fitted on all the rows (for their own lists too).
  const std::vector<std::unique_ptr<Generator>>& generators() const { return generators_; }
  const TrainingSet& training() const { return training_; }
  // Best first; each item once; none of `exclude` (ascending).
  std::vector<Scored> Recommend(const History& h, size_t k, std::span<const int32_t> exclude) const;

  size_t training_rows() const { return training_rows_; }
  size_t training_groups() const { return training_groups_; }

 private:
  Hybrid() = default;
  HybridOptions options_;
  std::vector<std::unique_ptr<Generator>> generators_;
  TrainingSet training_;
  std::vector<float> popularity_;  // log1p(distinct users) per item
  std::unique_ptr<ml::Booster> booster_;
  size_t training_rows_ = 0, training_groups_ = 0;
};

// Candidates of one user from fitted generators with their feature rows (row-major), for
// training and serving alike.
struct CandidateRows {
  std::vector<int32_t> items;
  std::vector<float> features;  // items.size() × HybridFeatureNames().size()
};
CandidateRows Candidates(const std::vector<std::unique_ptr<Generator>>& generators,
                         std::span<const float> popularity, const History& h, size_t per_generator,
                         std::span<const int32_t> exclude);

}  // namespace emporium::recommend
