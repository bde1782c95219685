// Online modes: the simulated shoppers drive a live Emporium through its public API.
//
// RunLoad: an open-loop load test. Sessions arrive as a Poisson process at `rate` per second
// (shoppers picked by how active they are, fraudsters at the population's fraud rate) whatever
// the shop answers; every call is sent at its planned time and timed from it (loadgen.h). The
// report has p50/p90/p99/p99.9 per endpoint, errors by kind, the achieved rates and the shop's
// resident memory sampled from its /metrics.
//
// RunHistory: fills a shop with the planned sessions of a past period, as fast as `concurrency`
// parallel sessions allow, with behaviour events dated in that past (orders, carts and payments
// happen now: the shop dates them itself). This is the demo history of `make run`.
//
// Both refuse targets that are not on loopback unless allow_remote is set.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "sim/api_shop.h"
#include "sim/population.h"
#include "sim/schedule.h"

namespace emporium::sim {

struct TargetOptions {
  std::string base_url = "http://127.0.0.1:8080";
  bool allow_remote = false;
  std::map<std::string, std::string> sandboxes = {{"intents", "http://127.0.0.1:8091"},
                                                  {"acquirer", "http://127.0.0.1:8092"},
                                                  {"wallet", "http://127.0.0.1:8093"}};
  Millis chargeback_delay{60'000};
  int workers = 64;
  uint64_t seed = 42;
  // A progress line every few seconds.
  std::function<void(const std::string&)> progress;
};

// kInvalidArgument unless the URL is http:// on a loopback host (or allow_remote).
Status CheckTarget(const TargetOptions& target);

struct LoadOptions {
  double rate = 1.0;  // session arrivals per second
  Millis duration{60'000};
  Millis drain{30'000};         // after the last arrival, how long sessions may take to finish
  Millis sample_every{60'000};  // the shop's RSS
};

struct LoadReport {
  std::map<std::string, EndpointStats> endpoints;
  EndpointStats total;
  ShopCounts counts;
  double seconds = 0;
  std::vector<std::pair<double, int64_t>> rss;  // (seconds since start, bytes)
  std::string ToText() const;
  std::string ToJson() const;
};

Result<LoadReport> RunLoad(const World& world, const Population& population, const TargetOptions& target,
                           const LoadOptions& load);

struct HistoryOptions {
  ScheduleOptions schedule;  // in the past
  int concurrency = 8;
  const std::atomic<bool>* cancel = nullptr;  // set: start no more sessions (kCancelled)
};

struct HistoryResult {
  LoadReport report;
  std::map<std::string, std::string> user_ids;
  std::map<std::string, FraudKind> fraud_orders;
};

Result<HistoryResult> RunHistory(const World& world, const Population& population,
                                 const TargetOptions& target, const HistoryOptions& history);

}  // namespace emporium::sim
