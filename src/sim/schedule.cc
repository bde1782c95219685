#include "sim/schedule.h"

#include <algorithm>
#include <charconv>

#include "sim/rng.h"

namespace emporium::sim {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

// Visits by hour of day (UTC stands in for the shoppers' local time): a quiet night, a lunch
// bump and an evening peak.
constexpr double kHourly[24] = {0.35, 0.25, 0.18, 0.14, 0.14, 0.2,  0.35, 0.6, 0.85, 0.95, 1.0,  1.1,
                                1.25, 1.2,  1.05, 1.0,  1.05, 1.15, 1.35, 1.6, 1.7,  1.55, 1.15, 0.7};
// Monday first (1970-01-01 was a Thursday).
constexpr double kWeekly[7] = {1.05, 0.95, 0.95, 0.95, 1.0, 1.25, 1.2};

}  // namespace

Result<std::vector<std::pair<int, double>>> ParsePromotions(std::string_view text) {
  std::vector<std::pair<int, double>> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (entry.empty()) continue;
    size_t colon = entry.find(':');
    int day = -1;
    double factor = 0;
    bool ok = colon != std::string_view::npos;
    if (ok) {
      auto d = std::from_chars(entry.data(), entry.data() + colon, day);
      auto f = std::from_chars(entry.data() + colon + 1, entry.data() + entry.size(), factor);
      ok = d.ec == std::errc() && d.ptr == entry.data() + colon && f.ec == std::errc() &&
           f.ptr == entry.data() + entry.size() && day >= 0 && factor > 0 && factor <= 20;
    }
    if (!ok)
      return InvalidArgument("promotion '" + std::string(entry) + "': expected DAY:FACTOR, e.g. 10:2.5");
    out.emplace_back(day, factor);
  }
  return out;
}

std::vector<std::pair<int, double>> DefaultPromotions(int days) {
  std::vector<std::pair<int, double>> out;
  if (days >= 6) out.emplace_back(days / 3, 2.0);
  if (days >= 10) out.emplace_back(days - 5, 3.0);
  return out;
}

double Intensity(int64_t unix_ms, const ScheduleOptions& options) {
  const int64_t day = unix_ms / kDayMs;
  const int hour = static_cast<int>((unix_ms % kDayMs) / kHourMs);
  const int weekday = static_cast<int>((day + 3) % 7);  // 0 = Monday
  double f = kHourly[hour] * kWeekly[weekday];
  const int64_t from_start = (unix_ms - options.start_ms) / kDayMs;
  for (const auto& [d, factor] : options.promotions)
    if (from_start == d) f *= factor;
  return f;
}

std::vector<PlannedSession> PlanSessions(const Population& population, const ScheduleOptions& options,
                                         uint64_t seed) {
  std::vector<PlannedSession> out;
  const int64_t span = std::max<int64_t>(kHourMs, options.end_ms - options.start_ms);
  const int64_t hours = (span + kHourMs - 1) / kHourMs;
  std::vector<double> cdf(static_cast<size_t>(hours));
  double total = 0;
  for (int64_t h = 0; h < hours; ++h) {
    total += Intensity(options.start_ms + h * kHourMs, options);
    cdf[static_cast<size_t>(h)] = total;
  }
  auto sample = [&](Rng& rng) {
    const double r = rng.Uniform() * total;
    const size_t h = static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), r) - cdf.begin());
    const int64_t at = options.start_ms +
                       static_cast<int64_t>(std::min<size_t>(h, cdf.size() - 1)) * kHourMs +
                       static_cast<int64_t>(rng.Uniform() * kHourMs);
    return std::min(at, options.end_ms - 1);
  };
  const double days = static_cast<double>(span) / kDayMs;
  for (const SimUser& u : population.shoppers()) {
    Rng rng(Hash(seed, "sessions:" + u.key));
    const int n = rng.Poisson(u.sessions_per_month * days / 30.0);
    std::vector<int64_t> times;
    for (int i = 0; i < n; ++i) times.push_back(sample(rng));
    std::sort(times.begin(), times.end());
    for (int i = 0; i < n; ++i)
      out.push_back(PlannedSession{times[static_cast<size_t>(i)], u.index, false, i});
  }
  for (size_t f = 0; f < population.fraudsters().size(); ++f) {
    Rng rng(Hash(seed, "fraud-session:" + population.fraudsters()[f].key));
    out.push_back(PlannedSession{sample(rng), static_cast<int>(f), true, 0});
  }
  std::sort(out.begin(), out.end(), [](const PlannedSession& a, const PlannedSession& b) {
    if (a.at_ms != b.at_ms) return a.at_ms < b.at_ms;
    if (a.fraud != b.fraud) return a.fraud < b.fraud;
    return a.user < b.user;
  });
  return out;
}

}  // namespace emporium::sim
