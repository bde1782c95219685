// Candidate generators: each proposes items for a user from what the user did, with its own
// notion of score. The ranker (later) combines them; each is also evaluated alone.
//
//   popularity   items by the number of distinct users (cold-start users get these)
//   cooccur      item-to-item co-occurrence (Jaccard over users), the user's time-decayed
//                affinities times the similarities (SAR)
//   als          implicit ALS (platform/ml/mf), the user's vector folded in from the history, so
//                a new event changes it at once
//   ease         EASE^R (Steck 2019): a closed-form item-item regression over the most popular
//                items, where the item count allows a dense matrix
//   walk         random walks with restart on the user–item graph from the user's items (Pixie)
//
// A generator is fitted once (Fit) and then immutable: Recommend may run on many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/mf/als.h"
#include "services/recommend/interactions.h"

namespace emporium::recommend {

struct Scored {
  int32_t item = 0;
  float score = 0;
};

// What one user did: distinct items ascending, with their summed weights and their affinities
// (weights decayed by age relative to the user's latest interaction: a common factor for all of
// a user's items, so relative to "now" it ranks the same).
struct History {
  std::vector<int32_t> items;
  std::vector<float> weights;
  std::vector<float> affinity;
};

// Histories of every user in `rows`, with an affinity half-life (0: no decay).
std::vector<History> Histories(const std::vector<Interaction>& rows, int32_t users, double half_life_days);

// The training input of the generators.
struct TrainingSet {
  int32_t users = 0, items = 0;
  std::vector<History> histories;  // per user
  ml::CsrMatrix user_items;        // weights
  ml::CsrMatrix item_users;        // its transpose
};
Result<TrainingSet> MakeTrainingSet(const std::vector<Interaction>& rows, int32_t users, int32_t items,
                                    double half_life_days);

class Generator {
 public:
  virtual ~Generator() = default;
  virtual std::string_view name() const = 0;
  virtual Status Fit(const TrainingSet& data) = 0;
  // The k best items for a user with history h, best first, none of `exclude` (ascending).
  virtual std::vector<Scored> Recommend(const History& h, size_t k,
                                        std::span<const int32_t> exclude) const = 0;
  // The item of h that most explains recommending `item` ("because you viewed …"), when the
  // generator can tell (cooccur: the largest affinity × similarity; als: the most similar factors).
  virtual std::optional<int32_t> Because(const History&, int32_t) const { return std::nullopt; }
  // The fitted state as bytes for a model artifact (popularity, cooccur, als; kUnimplemented for
  // the others), and the inverse: LoadGenerator.
  virtual Result<std::string> Save() const { return Unimplemented(std::string(name()) + " cannot be saved"); }
};

// A generator from Save's bytes; kInvalidArgument for damaged bytes or an unknown name.
Result<std::unique_ptr<Generator>> LoadGenerator(std::string_view name, std::string_view bytes);

struct CooccurOptions {
  size_t neighbours = 200;  // most similar items kept per item
};
struct EaseOptions {
  double lambda = 500;        // L2 regularisation of the item-item weights
  int32_t max_items = 20000;  // the most popular items EASE models (a dense max_items² matrix)
};
struct WalkOptions {
  int steps = 20000;     // item visits per request
  double restart = 0.5;  // probability of going back to one of the user's items after each visit
  uint64_t seed = 42;
};

std::unique_ptr<Generator> MakePopularity();
std::unique_ptr<Generator> MakeCooccur(CooccurOptions options = {});
std::unique_ptr<Generator> MakeAls(ml::AlsOptions options);
std::unique_ptr<Generator> MakeEase(EaseOptions options = {});
std::unique_ptr<Generator> MakeWalk(WalkOptions options = {});

// The k best of dense scores over all items, skipping `exclude` (ascending) and items scored
// -inf, best first (ties: lower item first).
std::vector<Scored> TopK(std::span<const float> scores, size_t k, std::span<const int32_t> exclude);

}  // namespace emporium::recommend
