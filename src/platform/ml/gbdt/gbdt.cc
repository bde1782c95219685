#include "platform/ml/gbdt/gbdt.h"

#include <xgboost/c_api.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

// Thread safety of XGBoost 1.7 prediction, which Booster's contract rests on:
// - XGBoost documents every prediction function as thread-safe for tree boosters since 1.4, as
//   long as nobody changes the booster meanwhile (no SetParam, no training): a Booster here is
//   never changed after Train/Load returns, and both force XGBoost's lazy configuration first.
// - Predict uses in-place prediction (XGBoosterPredictFromDense): no DMatrix, no prediction
//   cache; the output buffer is XGBoost's per-thread, per-booster entry, copied out before
//   returning. No lock.
// - Contributions: XGBoost 1.7 fills each tree's node mean values lazily on the first SHAP call
//   (RegTree::FillNodeMeanValues resizes a vector, then fills it), so two first calls at once
//   race and the second may read half-filled values. Contributions therefore holds serial_mu_
//   around the XGBoost call. Predict never reads those values, so it needs no lock against it.
// - Save takes the same mutex: XGBoost does not document model serialisation as thread-safe.
// - Cost of XGBoost's per-thread buffers (as its 1.x learner.cc reads): freeing a booster frees the
//   freeing thread's entry only; every other thread that predicted keeps its last output (rows ×
//   4 bytes) until it exits. Small, but reload models rarely rather than per request.
namespace emporium::ml {
namespace {

static_assert(std::is_same_v<unsigned, uint32_t>, "XGDMatrixSetUIntInfo takes unsigned group sizes");

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
// Inplace prediction's configuration. XGBoost's JSON reader accepts NaN (Python sends it too).
constexpr char kPredictConfig[] =
    R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false,)"
    R"("cache_id":0,"missing":NaN})";
// Type 2: exact SHAP values (Tree SHAP), num_features + 1 per row and output group.
constexpr char kContribConfig[] =
    R"({"type":2,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false})";

struct DMatrixFree {
  void operator()(void* handle) const { XGDMatrixFree(handle); }
};
struct BoosterFree {
  void operator()(void* handle) const { XGBoosterFree(handle); }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixFree>;
using BoosterPtr = std::unique_ptr<void, BoosterFree>;

// XGBoost's message without what only its developers need: the "[hh:mm:ss] file.cc:line: "
// prefix and the stack trace; its lines (e.g. the list of valid objectives) joined by "; ".
std::string CleanMessage(std::string_view m) {
  if (const size_t trace = m.find("Stack trace:"); trace != std::string_view::npos) m = m.substr(0, trace);
  if (m.size() > 11 && m[0] == '[' && m[9] == ']' && m[10] == ' ') m.remove_prefix(11);
  if (const size_t colon = m.find(": ");
      colon != std::string_view::npos && m.substr(0, colon).find(".cc:") != m.npos)
    m.remove_prefix(colon + 2);
  std::string out;
  for (char c : m) {
    if (c != '\n') {
      out += c;
    } else if (!out.empty() && !out.ends_with("; ")) {
      out += "; ";
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out.empty() ? "unknown XGBoost error" : out;
}

// XGBoost's last error on this thread (it keeps one per thread), prefixed by what we were doing.
Status XgbError(Code code, std::string_view what) {
  const char* message = XGBGetLastError();
  return {code, std::string(what) + ": " + CleanMessage(message ? message : "")};
}

std::string Number(double v) {
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

bool AllFinite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

Status ValidateDataset(const Dataset& d, std::string_view name) {
  const std::string n(name);
  if (d.cols == 0) return InvalidArgument(n + " dataset has no columns");
  if (d.values.empty()) return InvalidArgument(n + " dataset has no rows");
  if (d.values.size() % d.cols != 0)
    return InvalidArgument(n + " dataset has " + std::to_string(d.values.size()) +
                           " values, not a multiple of cols " + std::to_string(d.cols));
  const size_t rows = d.rows();
  if (d.labels.size() != rows)
    return InvalidArgument(n + " dataset has " + std::to_string(d.labels.size()) + " labels for " +
                           std::to_string(rows) + " rows");
  if (!AllFinite(d.labels)) return InvalidArgument(n + " dataset has a label that is NaN or infinite");
  if (!d.feature_names.empty() && d.feature_names.size() != d.cols)
    return InvalidArgument(n + " dataset has " + std::to_string(d.feature_names.size()) +
                           " feature names for " + std::to_string(d.cols) + " columns");
  if (!d.groups.empty()) {
    uint64_t sum = 0;
    for (uint32_t g : d.groups) {
      if (g == 0) return InvalidArgument(n + " dataset has an empty group");
      sum += g;
    }
    if (sum != rows)
      return InvalidArgument(n + " dataset's groups sum to " + std::to_string(sum) + ", not its " +
                             std::to_string(rows) + " rows");
  }
  if (!d.base_margin.empty() && (d.base_margin.size() != rows || !AllFinite(d.base_margin)))
    return InvalidArgument(n + " dataset needs one finite base margin per row");
  if (!d.weights.empty()) {
    const size_t want = d.groups.empty() ? rows : d.groups.size();
    if (d.weights.size() != want)
      return InvalidArgument(n + " dataset has " + std::to_string(d.weights.size()) + " weights, want " +
                             std::to_string(want) +
                             (d.groups.empty() ? " (one per row)" : " (one per group)"));
    for (float w : d.weights)
      if (!std::isfinite(w) || w < 0)
        return InvalidArgument(n + " dataset has a negative or non-finite weight");
  }
  return Status::Ok();
}

Result<DMatrixPtr> MakeDMatrix(const Dataset& d, int threads, std::string_view name) {
  DMatrixHandle handle = nullptr;
  if (XGDMatrixCreateFromMat_omp(d.values.data(), d.rows(), d.cols, kMissing, &handle, threads) != 0)
    return XgbError(Code::kInvalidArgument, std::string(name) + " dataset");
  DMatrixPtr m(handle);
  if (XGDMatrixSetFloatInfo(handle, "label", d.labels.data(), d.labels.size()) != 0)
    return XgbError(Code::kInvalidArgument, std::string(name) + " labels");
  if (!d.weights.empty() && XGDMatrixSetFloatInfo(handle, "weight", d.weights.data(), d.weights.size()) != 0)
    return XgbError(Code::kInvalidArgument, std::string(name) + " weights");
  if (!d.base_margin.empty() &&
      XGDMatrixSetFloatInfo(handle, "base_margin", d.base_margin.data(), d.base_margin.size()) != 0)
    return XgbError(Code::kInvalidArgument, std::string(name) + " base margins");
  if (!d.groups.empty() && XGDMatrixSetUIntInfo(handle, "group", d.groups.data(), d.groups.size()) != 0)
    return XgbError(Code::kInvalidArgument, std::string(name) + " groups");
  if (!d.feature_names.empty()) {
    std::vector<const char*> names;
    names.reserve(d.feature_names.size());
    for (const auto& f : d.feature_names) names.push_back(f.c_str());
    if (XGDMatrixSetStrFeatureInfo(handle, "feature_name", names.data(), names.size()) != 0)
      return XgbError(Code::kInvalidArgument, std::string(name) + " feature names");
  }
  return m;
}

Status SetParams(BoosterHandle booster, const TrainParams& p) {
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", p.objective},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", Number(p.eta)},
      {"subsample", Number(p.subsample)},
      {"colsample_bytree", Number(p.colsample_bytree)},
      {"min_child_weight", Number(p.min_child_weight)},
      {"lambda", Number(p.lambda)},
      {"scale_pos_weight", Number(p.scale_pos_weight)},
      {"nthread", std::to_string(p.threads)},
      {"seed", std::to_string(p.seed)},
  };
  if (!p.eval_metric.empty()) params.emplace_back("eval_metric", p.eval_metric);
  params.insert(params.end(), p.extra.begin(), p.extra.end());
  for (const auto& [key, value] : params)
    if (XGBoosterSetParam(booster, key.c_str(), value.c_str()) != 0)
      return XgbError(Code::kInvalidArgument, "parameter " + key + "=" + value);
  return Status::Ok();
}

// XGBoost configures a booster lazily; asking for the feature count configures it now, so a bad
// parameter is reported here (as the caller's error) rather than inside the first round.
Result<size_t> ConfiguredFeatures(BoosterHandle booster, std::string_view what) {
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(booster, &features) != 0) return XgbError(Code::kInvalidArgument, what);
  return static_cast<size_t>(features);
}

struct EvalResult {
  std::string metric;
  double value = 0;
};

// "[12]\tvalid-logloss:0.2345" (several "\tvalid-NAME:VALUE" with several metrics): the last one,
// which is the one early stopping watches (as XGBoost's own training loop does).
Result<EvalResult> ParseEval(std::string_view text) {
  const size_t tab = text.rfind('\t');
  const size_t colon = text.rfind(':');
  constexpr std::string_view kPrefix = "valid-";
  if (tab == std::string_view::npos || colon == std::string_view::npos || colon < tab ||
      text.substr(tab + 1, kPrefix.size()) != kPrefix)
    return Internal("unexpected XGBoost evaluation output: " + std::string(text));
  EvalResult r;
  r.metric = std::string(text.substr(tab + 1 + kPrefix.size(), colon - tab - 1 - kPrefix.size()));
  const std::string_view number = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), r.value);
  if (ec != std::errc()) return Internal("unexpected XGBoost evaluation output: " + std::string(text));
  return r;
}

// The metrics XGBoost's own early stopping maximises ("mape" is an error, not "map").
bool Maximised(std::string_view metric) {
  if (metric == "interval-regression-accuracy") return true;
  for (std::string_view m : {"auc", "aucpr", "pre", "map", "ndcg"}) {
    if (metric == m) return true;
    if (metric.size() > m.size() && metric.substr(0, m.size()) == m && metric[m.size()] == '@') return true;
  }
  return false;
}

}  // namespace

Status Dataset::AddRow(std::span<const float> row, float label) {
  if (row.empty()) return InvalidArgument("empty row");
  if (cols == 0 && values.empty()) cols = row.size();
  if (row.size() != cols)
    return InvalidArgument("row has " + std::to_string(row.size()) + " values, want " + std::to_string(cols));
  values.insert(values.end(), row.begin(), row.end());
  labels.push_back(label);
  return Status::Ok();
}

Booster::Booster(void* handle, size_t num_features, int rounds)
    : handle_(handle), num_features_(num_features), rounds_(rounds) {}

Booster::~Booster() {
  XGBoosterFree(handle_);
}

Result<std::unique_ptr<Booster>> Booster::Train(const Dataset& train, const Dataset* valid,
                                                const TrainParams& params) {
  if (params.rounds < 1) return InvalidArgument("rounds must be at least 1");
  if (params.early_stopping_rounds < 0) return InvalidArgument("early_stopping_rounds must not be negative");
  if (params.early_stopping_rounds > 0 && valid == nullptr)
    return InvalidArgument("early stopping needs a validation dataset");
  EMP_RETURN_IF_ERROR(ValidateDataset(train, "training"));
  if (valid) {
    EMP_RETURN_IF_ERROR(ValidateDataset(*valid, "validation"));
    if (valid->cols != train.cols)
      return InvalidArgument("validation dataset has " + std::to_string(valid->cols) +
                             " columns, training has " + std::to_string(train.cols));
  }
  const bool watch = params.early_stopping_rounds > 0;

  EMP_ASSIGN_OR_RETURN(DMatrixPtr dtrain, MakeDMatrix(train, params.threads, "training"));
  DMatrixPtr dvalid;
  if (watch) {
    EMP_ASSIGN_OR_RETURN(dvalid, MakeDMatrix(*valid, params.threads, "validation"));
  }
  std::vector<DMatrixHandle> cache{dtrain.get()};
  if (dvalid) cache.push_back(dvalid.get());
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(cache.data(), cache.size(), &raw) != 0)
    return XgbError(Code::kInternal, "creating booster");
  BoosterPtr booster(raw);
  EMP_RETURN_IF_ERROR(SetParams(raw, params));
  EMP_ASSIGN_OR_RETURN(const size_t features, ConfiguredFeatures(raw, "training parameters"));
  if (features != train.cols)
    return Internal("XGBoost sees " + std::to_string(features) + " features, the dataset has " +
                    std::to_string(train.cols));

  int trained = 0;
  int kept = 0;  // rounds up to and including the best validation score
  double best = 0;
  DMatrixHandle evals[] = {dvalid.get()};
  const char* eval_names[] = {"valid"};
  for (int iter = 0; iter < params.rounds; ++iter) {
    if (params.stop.stop_requested())
      return Cancelled("training stopped after " + std::to_string(iter) + " rounds");
    if (XGBoosterUpdateOneIter(raw, iter, dtrain.get()) != 0)
      return XgbError(Code::kInternal, "boosting round " + std::to_string(iter));
    trained = iter + 1;
    if (!watch) continue;
    const char* out = nullptr;
    if (XGBoosterEvalOneIter(raw, iter, evals, eval_names, 1, &out) != 0)
      return XgbError(Code::kInternal, "evaluating round " + std::to_string(iter));
    EMP_ASSIGN_OR_RETURN(const EvalResult eval, ParseEval(out));
    // NaN (a metric undefined on this data) never counts as an improvement.
    const bool better = !std::isnan(eval.value) &&
                        (kept == 0 || (Maximised(eval.metric) ? eval.value > best : eval.value < best));
    if (better) {
      best = eval.value;
      kept = trained;
    } else if (trained - kept >= params.early_stopping_rounds) {
      break;
    }
  }
  if (kept == 0) kept = trained;  // no round ever scored: keep them all

  // A slice of the kept rounds is a fresh booster: it drops training's gradient buffers and
  // prediction caches (rows-sized), and is what Load would give back from Save's bytes.
  BoosterHandle sliced = nullptr;
  if (XGBoosterSlice(raw, 0, kept, 1, &sliced) != 0)
    return XgbError(Code::kInternal, "keeping the best rounds");
  BoosterPtr result(sliced);
  EMP_ASSIGN_OR_RETURN(const size_t result_features, ConfiguredFeatures(sliced, "trained booster"));
  int rounds = 0;
  if (XGBoosterBoostedRounds(sliced, &rounds) != 0) return XgbError(Code::kInternal, "counting rounds");
  return std::unique_ptr<Booster>(new Booster(result.release(), result_features, rounds));
}

Result<std::unique_ptr<Booster>> Booster::Load(std::string_view model_bytes, int threads) {
  if (model_bytes.empty()) return InvalidArgument("empty model bytes");
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(nullptr, 0, &raw) != 0) return XgbError(Code::kInternal, "creating booster");
  BoosterPtr booster(raw);
  if (XGBoosterLoadModelFromBuffer(raw, model_bytes.data(), model_bytes.size()) != 0)
    return XgbError(Code::kInvalidArgument, "loading model");
  const std::string nthread = std::to_string(threads);
  if (XGBoosterSetParam(raw, "nthread", nthread.c_str()) != 0)
    return XgbError(Code::kInvalidArgument, "parameter nthread=" + nthread);
  EMP_ASSIGN_OR_RETURN(const size_t features, ConfiguredFeatures(raw, "loading model"));
  if (features == 0) return InvalidArgument("model has no features");
  int rounds = 0;
  if (XGBoosterBoostedRounds(raw, &rounds) != 0) return XgbError(Code::kInvalidArgument, "loading model");
  return std::unique_ptr<Booster>(new Booster(booster.release(), features, rounds));
}

Result<std::string> Booster::Save() const {
  std::lock_guard lock(serial_mu_);
  bst_ulong len = 0;
  const char* bytes = nullptr;
  if (XGBoosterSaveModelToBuffer(handle_, R"({"format":"ubj"})", &len, &bytes) != 0)
    return XgbError(Code::kInternal, "saving model");
  return std::string(bytes, len);
}

Result<std::vector<float>> Booster::Predict(std::span<const float> rows) const {
  if (rows.empty()) return std::vector<float>{};
  if (rows.size() % num_features_ != 0)
    return InvalidArgument(std::to_string(rows.size()) + " values are not rows of " +
                           std::to_string(num_features_) + " features");
  const size_t n = rows.size() / num_features_;
  // NumPy's __array_interface__, the pointer as an integer.
  const std::string array = R"({"data":[)" + std::to_string(reinterpret_cast<uintptr_t>(rows.data())) +
                            R"(,true],"shape":[)" + std::to_string(n) + "," + std::to_string(num_features_) +
                            R"(],"typestr":"<f4","version":3})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDense(handle_, array.c_str(), kPredictConfig, nullptr, &shape, &dim, &out) != 0)
    return XgbError(Code::kInternal, "predicting");
  size_t size = 1;
  for (bst_ulong i = 0; i < dim; ++i) size *= shape[i];
  if (dim == 0 || shape[0] != n || size % n != 0)
    return Internal("XGBoost returned an unexpected prediction shape");
  return std::vector<float>(out, out + size);
}

Result<std::vector<float>> Booster::Contributions(std::span<const float> row) const {
  if (row.size() != num_features_)
    return InvalidArgument("row has " + std::to_string(row.size()) + " values, the model " +
                           std::to_string(num_features_) + " features");
  DMatrixHandle raw = nullptr;
  if (XGDMatrixCreateFromMat(row.data(), 1, row.size(), kMissing, &raw) != 0)
    return XgbError(Code::kInvalidArgument, "contributions row");
  DMatrixPtr m(raw);
  std::lock_guard lock(serial_mu_);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDMatrix(handle_, raw, kContribConfig, &shape, &dim, &out) != 0)
    return XgbError(Code::kInternal, "computing contributions");
  size_t size = 1;
  for (bst_ulong i = 0; i < dim; ++i) size *= shape[i];
  if (dim == 0 || size % (num_features_ + 1) != 0)
    return Internal("XGBoost returned an unexpected contributions shape");
  return std::vector<float>(out, out + size);
}

}  // namespace emporium::ml
