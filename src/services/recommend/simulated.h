// `emporium eval recommend --simulated DIR`: the generators and the ranked hybrid on a
// simulation (emporium simulate offline: history.jsonl and truth.json), against what the
// simulator knows and the shop does not.
//
// Interactions are the history's behaviour events (product_view, search and recommendation
// clicks, wishlist, cart) and confirmed orders' items, weighted as the live feed weighs them
// (graph.h). Everything before 75 % of the period trains; the users the truth knows with
// history before the cut are scored there (up to `users`, an even spread):
//   truth NDCG@k  graded: each product's gain is the simulator's click appeal of the user's
//                 want for it at the cut (sim::ClickAppeal), the ideal the k most appealing
//                 products the user has not interacted with;
//   P, R, MAP@k   binary: the products the user interacted with after the cut (not before);
//   coverage      distinct products in anyone's top k over the catalog.
#pragma once

#include <cstddef>
#include <filesystem>
#include <ostream>

#include "platform/core/status.h"
#include "services/recommend/offline.h"

namespace emporium::recommend {

struct SimulatedOptions {
  OfflineOptions offline = DefaultOfflineOptions();
  double train_share = 0.75;  // of the period
  size_t users = 1000;        // scored users at most
  bool served = true;         // also the lists serving makes (fused and ranked home lists)
};

struct SimulatedRow {
  std::string name;
  double truth_ndcg = 0, ndcg = 0, precision = 0, recall = 0, map = 0, coverage = 0, fit_seconds = 0;
};

struct SimulatedResult {
  size_t interactions = 0, train_rows = 0, users = 0, items = 0, scored_users = 0, with_future = 0;
  std::vector<SimulatedRow> rows;
};

Result<SimulatedResult> EvaluateSimulated(const std::filesystem::path& dir, const SimulatedOptions& options);
Status RunSimulatedEvalCommand(const std::filesystem::path& dir, const SimulatedOptions& options, bool json,
                               std::ostream& out);

}  // namespace emporium::recommend
