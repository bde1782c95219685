// Offline evaluation of the recommendation generators on a file of interactions
// (`emporium eval recommend --interactions FILE`): a seeded per-user split (interactions.h),
// each generator fitted on the train side, every user with test items scored on the top k with
// the items of their train side removed. NDCG, precision, recall and MAP at k (binary relevance:
// the user's test items) and catalog coverage, in one table (ml::Report).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/mf/als.h"
#include "services/recommend/generators.h"
#include "services/recommend/hybrid.h"
#include "services/recommend/interactions.h"

namespace emporium::recommend {

struct OfflineOptions {
  size_t k = 10;
  double train_share = 0.75;
  uint64_t seed = 42;
  double half_life_days = 0;
  ml::AlsOptions als;
  CooccurOptions cooccur;
  EaseOptions ease;
  WalkOptions walk;
  HybridOptions hybrid;
  std::vector<std::string> generators;  // empty: all
  bool with_hybrid = true;              // also the ranked hybrid over the generators
};

// The options `eval recommend` and the service start from (tuned on MovieLens development data,
// docs/recommend.md).
OfflineOptions DefaultOfflineOptions();

struct GeneratorResult {
  std::string name;
  double ndcg = 0, precision = 0, recall = 0, map = 0, coverage = 0;
  double fit_seconds = 0;
  double recommend_ms = 0;  // mean per user
};

struct OfflineResult {
  size_t users = 0, items = 0, train_rows = 0, test_rows = 0, scored_users = 0;
  size_t hybrid_rows = 0, hybrid_groups = 0;  // the ranker's training data
  std::vector<GeneratorResult> generators;
};

// A fresh generator by name (popularity, cooccur, als, ease, walk) with these options; null for
// another name.
std::unique_ptr<Generator> MakeGenerator(const std::string& name, const OfflineOptions& options);

Result<OfflineResult> EvaluateOffline(const Interactions& data, const OfflineOptions& options);

// Reads the file, evaluates, prints the table (or JSON).
Status RunOfflineEvalCommand(const std::filesystem::path& file, const OfflineOptions& options, bool json,
                             std::ostream& out);

}  // namespace emporium::recommend
