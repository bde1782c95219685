// `emporium eval search --simulated DIR`: personalized ranking measured against the simulator's
// ground truth (a directory of `emporium simulate offline`: history.jsonl and truth.json).
//
// The searches of the first train_share of the period, with their clicks, train two click models
// (clicks.h) on the same rows: one with the shopper features, one without. Then, at the cut,
// sampled shoppers who have a profile set out to find a product (GroundTruth::SampleWanted) and
// type a query for it as the simulator's shoppers do (World::Query); each ranking of the query's
// candidates is scored by NDCG@k with the truth's graded gains (GroundTruth::SearchGain: how
// likely the shopper would click a product of the category they want, plus 1 for the one they
// want). Side by side, on the same queries: the retrieval order, the ranker without shopper
// features, the personal ranker with the profile withheld, and with it. The examination
// probabilities the click model estimated are printed next to the simulator's own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "services/search/clicks.h"

namespace emporium::ml {
class SentenceEncoder;
}

namespace emporium::search {

struct SimulatedEvalOptions {
  size_t k = 10;
  bool json = false;
  std::shared_ptr<const ml::SentenceEncoder> encoder;  // null: keyword candidates only
  std::vector<std::string> catalog_documents;          // the products the simulation ran on
  size_t queries = 2000;
  uint64_t seed = 7;
  double train_share = 0.75;
  ClickModelParams params = DefaultClickModelParams();
};

struct SimulatedEvalResult {
  size_t products = 0;
  size_t activities = 0;
  size_t train_searches = 0;
  size_t train_rows = 0;
  double click_rate = 0;
  size_t queries = 0;   // scored
  size_t excluded = 0;  // no candidate with a gain
  double retrieval_ndcg = 0;
  double plain_ndcg = 0;              // ranker without shopper features
  double personal_withheld_ndcg = 0;  // personal ranker, profile withheld
  double personal_ndcg = 0;
  std::vector<double> examination;       // estimated θ_k / θ_0
  std::vector<double> true_examination;  // the simulator's (1/k)^0.9
  bool semantic = false;
};

Result<SimulatedEvalResult> EvaluateSimulated(const std::filesystem::path& dir,
                                              const SimulatedEvalOptions& options,
                                              const std::filesystem::path& tmp_root);

Status RunSimulatedEvalCommand(const std::filesystem::path& dir, const SimulatedEvalOptions& options,
                               const std::filesystem::path& tmp_root, std::ostream& out);

}  // namespace emporium::search
