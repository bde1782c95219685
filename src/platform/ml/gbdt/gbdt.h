// Gradient-boosted trees over XGBoost's C API, for every model that needs them (the fraud model,
// the recommendation ranker, search's learning to rank).
//
// A Dataset is a dense row-major float matrix (NaN = missing) with labels, optional weights and,
// for ranking objectives, group sizes (consecutive rows of one query/user). A Booster is trained
// from it, saved to bytes (XGBoost's UBJSON model format) and loaded back; it predicts scores and
// per-feature SHAP contributions.
//
// Errors: inputs that do not fit together (shapes, sizes, groups, parameters XGBoost rejects,
// model bytes it cannot read) are kInvalidArgument; a failure of XGBoost while boosting is
// kInternal. Messages carry XGBoost's own text. Nothing here throws.
//
// Thread safety: Boosters are immutable once built. Predict, Contributions and Save may be called
// from any number of threads at once (see gbdt.cc for what XGBoost 1.7 guarantees and what is
// serialised here). Each call also runs on up to `threads` OpenMP threads of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/core/status.h"

namespace emporium::ml {

struct Dataset {
  size_t cols = 0;
  std::vector<float> values;       // rows × cols, row-major; NaN = missing
  std::vector<float> labels;       // one per row
  std::vector<float> weights;      // empty, or one per row (ranking: one per group)
  std::vector<uint32_t> groups;    // ranking objectives: sizes of consecutive groups, summing to rows
  std::vector<float> base_margin;  // empty, or one per row: a fixed offset the trees add to (training only)
  std::vector<std::string> feature_names;  // empty, or cols names

  size_t rows() const { return cols ? values.size() / cols : 0; }
  // Appends one row. The first row of an empty Dataset with cols == 0 sets cols; after that a row
  // whose size is not cols is kInvalidArgument and nothing is appended.
  Status AddRow(std::span<const float> row, float label);
};

struct TrainParams {
  std::string objective = "binary:logistic";  // "rank:ndcg", "rank:pairwise", "reg:squarederror"...
  std::string eval_metric;                    // empty: XGBoost's default for the objective
  int rounds = 200;
  // 0: off; else stop after this many rounds without improvement of the validation metric (the
  // last one when `extra` adds more eval_metric entries) and keep the best rounds.
  int early_stopping_rounds = 0;
  int max_depth = 6;
  double eta = 0.1;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double min_child_weight = 1.0;
  double lambda = 1.0;
  double scale_pos_weight = 1.0;
  int threads = 2;  // XGBoost's nthread, for training and for the trained Booster's predictions
  uint64_t seed = 42;
  std::vector<std::pair<std::string, std::string>> extra;  // any other XGBoost parameter
  std::stop_token stop;  // requested: Train ends after the current round with kCancelled
};

class Booster {
 public:
  ~Booster();
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;

  // Trains on `train`; with `valid` (may be null; needed when early_stopping_rounds > 0) early
  // stopping watches its metric. Metrics whose name starts with auc, aucpr, ndcg, map or pre are
  // maximised, others (logloss, error, rmse...) minimised.
  static Result<std::unique_ptr<Booster>> Train(const Dataset& train, const Dataset* valid,
                                                const TrainParams& params);
  // Reads bytes written by Save (or any XGBoost 1.x JSON/UBJSON model). The model format holds
  // no thread count: `threads` is XGBoost's nthread for each of this Booster's calls. 1 suits
  // serving (request threads already use every core); batch scoring can ask for more.
  static Result<std::unique_ptr<Booster>> Load(std::string_view model_bytes, int threads = 1);
  // The model as UBJSON: only the kept rounds, with the objective and feature names.
  Result<std::string> Save() const;

  size_t num_features() const { return num_features_; }
  // Rounds kept (the best iteration when early stopping ran).
  int rounds() const { return rounds_; }
  // Scores of `rows` (row-major, rows.size() / num_features() rows), transformed by the
  // objective (probabilities for binary:logistic, raw scores for rank:*). Objectives with several
  // outputs per row (multi:softprob) give them row-major, rows × outputs. Empty input gives an
  // empty result; a size that is not a multiple of num_features() is kInvalidArgument.
  Result<std::vector<float>> Predict(std::span<const float> rows) const;
  // SHAP contributions of one row: num_features() values then the bias, in margin units (they sum
  // to the untransformed score). With several outputs, that block once per output.
  Result<std::vector<float>> Contributions(std::span<const float> row) const;

 private:
  Booster(void* handle, size_t num_features, int rounds);
  void* handle_;
  size_t num_features_;
  int rounds_;
  mutable std::mutex serial_mu_;  // Contributions and Save: see gbdt.cc
};

}  // namespace emporium::ml
