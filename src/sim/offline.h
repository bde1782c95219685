// Offline mode: the whole period simulated in memory, fast, and written to files — no shop is
// involved. Deterministic: the same catalog, options and seed give byte-identical files.
//
//   <out>/history.jsonl  one record per line, in time order:
//       {"record":"user", ...}        a shopper's account (created before or during the period)
//       {"record":"signin", ...}      a sign-in on a device (with the guest it merged, if any)
//       {"record":"event", ...}       a behaviour event as POST /v1/events takes it, with who sent it
//       {"record":"address", ...}     an address added to an account
//       {"record":"order", ...}       an order as checkout would have received it, and its outcome
//       {"record":"cancel", ...}      the customer cancelled an order
//       {"record":"chargeback", ...}  the issuer disputed a payment (the label the fraud model sees)
//   <out>/truth.json     the ground truth (truth.h)
//   <out>/summary.json   what was generated (also printed)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "platform/core/status.h"
#include "sim/population.h"
#include "sim/schedule.h"

namespace emporium::sim {

struct OfflineOptions {
  std::filesystem::path out_dir;
  ScheduleOptions schedule;
  uint64_t seed = 42;
  int threads = 2;
  // Called every so often with (sessions done, sessions in all).
  std::function<void(size_t, size_t)> progress;
};

struct Summary {
  std::map<std::string, int64_t> counts;  // "sessions", "events.search", "orders.CONFIRMED", ...
  std::map<std::string, int64_t> fraud;   // fraud orders (and accounts) by kind
  std::string ToText() const;
  std::string ToJson() const;
};

Result<Summary> RunOffline(const World& world, const Population& population, const OfflineOptions& options);

}  // namespace emporium::sim
