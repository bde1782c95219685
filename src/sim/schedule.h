// When shoppers come: session arrival times with a daily and a weekly rhythm and promotion
// spikes, for a period [start, end). Each shopper visits about sessions_per_month × days / 30
// times (Poisson); each fraudster acts once. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "platform/core/status.h"
#include "sim/population.h"

namespace emporium::sim {

struct ScheduleOptions {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // (day index from the start, factor): promotion days multiply arrivals.
  std::vector<std::pair<int, double>> promotions;
};

// "10:2.5,24:3" → {{10, 2.5}, {24, 3}}. kInvalidArgument naming the bad entry.
Result<std::vector<std::pair<int, double>>> ParsePromotions(std::string_view text);
// Two promotions: a flash sale a third of the way in and a bigger one five days before the end.
std::vector<std::pair<int, double>> DefaultPromotions(int days);

// Relative arrival intensity at a time (mean 1 over an ordinary week).
double Intensity(int64_t unix_ms, const ScheduleOptions& options);

struct PlannedSession {
  int64_t at_ms = 0;
  int user = 0;  // index into shoppers(), or into fraudsters() when fraud
  bool fraud = false;
  int number = 0;  // the user's n-th session
};

// Every session of the period, sorted by time (ties by user).
std::vector<PlannedSession> PlanSessions(const Population& population, const ScheduleOptions& options,
                                         uint64_t seed);

}  // namespace emporium::sim
