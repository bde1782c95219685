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
// generators proposed it; the item's log popularity; the user's log history length; and from the
// catalog and the times of the interactions (ItemSide; missing without a catalog, as for
// MovieLens): the item's log price and its distance from the user's mean log price, the days
// since the item's first and latest interaction, the share of the user's affinity in the item's
// category and brand, and the share of the user's latest session in its category.
//
// The trees and the item side are a Ranker, saved and loaded apart from the generators:
// serving (recommender.h) fits its own generators once on all the rows and ranks their
// candidates with a Ranker fitted beside them (Ranker::Fit: the inner fit and the trees only).
// Hybrid is both together, for the offline evaluations. Both are immutable once fitted: any
// number of threads may rank at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
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
  int threads = 2;                    // computing the groups' candidates
  ml::TrainParams trees;
};
HybridOptions DefaultHybridOptions();

std::vector<std::string> HybridFeatureNames(const std::vector<std::string>& generators);

// What the ranker's features read of each item besides the generators.
struct ItemSide {
  std::vector<float> popularity;           // log1p(distinct users)
  std::vector<int32_t> category, brand;    // -1: unknown
  std::vector<float> log_price;            // NaN: unknown
  std::vector<float> age_days, idle_days;  // to the newest interaction of the rows; NaN: none
  size_t items() const { return popularity.size(); }
};
// From the rows the generators are fitted on (t is their training set) and the catalog (null:
// none known).
ItemSide MakeItemSide(const std::vector<Interaction>& rows, const TrainingSet& t, const ItemCatalog* catalog);

// Builds a fresh, unfitted generator by name (null: unknown name).
using GeneratorFactory = std::function<std::unique_ptr<Generator>(const std::string&)>;

// Candidates of one user from fitted generators with their feature rows (row-major), for
// training and serving alike.
struct CandidateRows {
  std::vector<int32_t> items;
  std::vector<float> features;  // items.size() × HybridFeatureNames().size()
  std::vector<uint8_t> best;    // per item: the generator that ranked it best (the first on ties)
};
// `session`: the items of the user's latest session (empty: not known).
CandidateRows Candidates(std::span<const Generator* const> generators, const ItemSide& side, const History& h,
                         std::span<const int32_t> session, size_t per_generator,
                         std::span<const int32_t> exclude);

// The trees over the candidates of named generators, and the item side their features read (of
// the rows the serving generators were fitted on).
class Ranker {
 public:
  // Fits generators made by `make` on an inner split of `rows` (users and items as in `all`, the
  // training set of all of `rows`), labels each sampled inner user's candidates by the held-back
  // side and trains the trees. kFailedPrecondition when no user has a held-back item among the
  // candidates; kCancelled when options.trees.stop is requested. `catalog` (may be null) per item.
  static Result<std::unique_ptr<Ranker>> Fit(const std::vector<Interaction>& rows, const TrainingSet& all,
                                             double half_life_days,
                                             const std::vector<std::string>& generators,
                                             const GeneratorFactory& make, const HybridOptions& options,
                                             const ItemCatalog* catalog = nullptr);
  // Bytes for a model artifact, and back (kInvalidArgument for damaged bytes). The trees of both
  // predict on the calling thread: request threads already use every core.
  Result<std::string> Save() const;
  static Result<std::unique_ptr<Ranker>> Load(std::string_view bytes);

  // The generators' names in feature order: Candidates must be given these, fitted on the rows
  // side() describes.
  const std::vector<std::string>& generators() const { return generators_; }
  size_t candidates() const { return candidates_; }
  const ItemSide& side() const { return side_; }
  // One score per candidate row, higher is better; kInvalidArgument for rows of another shape.
  Result<std::vector<float>> Score(const CandidateRows& rows) const;

  size_t training_rows() const { return training_rows_; }
  size_t training_groups() const { return training_groups_; }

 private:
  Ranker() = default;
  std::vector<std::string> generators_;
  size_t candidates_ = 0;
  ItemSide side_;
  std::unique_ptr<ml::Booster> booster_;
  size_t training_rows_ = 0, training_groups_ = 0;
};

// A fitted set of generators and the trees over their union.
class Hybrid {
 public:
  // `make` builds a fresh generator by name (fitted twice: inner, then all of `rows`).
  using Factory = GeneratorFactory;
  static Result<std::unique_ptr<Hybrid>> Fit(const std::vector<Interaction>& rows, int32_t users,
                                             int32_t items, double half_life_days,
                                             const std::vector<std::string>& generators, const Factory& make,
                                             const HybridOptions& options,
                                             const ItemCatalog* catalog = nullptr);

  // The generators fitted on all the rows (for their own lists too).
  const std::vector<std::unique_ptr<Generator>>& generators() const { return generators_; }
  const TrainingSet& training() const { return training_; }
  const Ranker& ranker() const { return *ranker_; }
  // Best first; each item once; none of `exclude` (ascending). `session`: the items of the user's
  // latest session (the ranker's session feature; empty: unknown).
  std::vector<Scored> Recommend(const History& h, size_t k, std::span<const int32_t> exclude,
                                std::span<const int32_t> session = {}) const;

  size_t training_rows() const { return ranker_->training_rows(); }
  size_t training_groups() const { return ranker_->training_groups(); }

 private:
  Hybrid() = default;
  std::vector<std::unique_ptr<Generator>> generators_;
  std::vector<const Generator*> serving_;  // generators_ as Candidates takes them
  TrainingSet training_;
  std::unique_ptr<Ranker> ranker_;
};

}  // namespace emporium::recommend
