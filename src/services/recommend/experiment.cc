#include "services/recommend/experiment.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/core/rfc3339.h"
#include "platform/core/xoshiro.h"

namespace emporium::recommend {
namespace {

using boost::json::object;
using json::Str;

constexpr std::string_view kIdPrefix = "rec_";
constexpr size_t kClicksPerSubject = 64;  // the newest kept for attribution
constexpr size_t kPruneEvery = 4096;      // clicks between sweeps of expired ones

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string WithPrefix(std::string_view prefix, std::string id) {
  return id.starts_with(prefix) ? id : std::string(prefix) + id;
}

}  // namespace

Result<std::vector<Variant>> ParseVariants(std::string_view spec) {
  std::vector<Variant> out;
  uint64_t total = 0;
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string_view part = Trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string_view name = Trim(part.substr(0, eq));
    const auto strategy = StrategyOf(name);
    if (!strategy)
      return InvalidArgument("unknown strategy \"" + std::string(name) + "\" (fused, ranked, popularity)");
    uint32_t weight = 1;
    if (eq != std::string_view::npos) {
      const std::string_view w = Trim(part.substr(eq + 1));
      auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), weight);
      if (w.empty() || ec != std::errc() || end != w.data() + w.size() || weight > 1000000)
        return InvalidArgument("the weight of " + std::string(name) +
                               " must be an integer from 0 to 1000000");
    }
    for (const Variant& v : out)
      if (v.name == name) return InvalidArgument("variant " + std::string(name) + " is given twice");
    out.push_back(Variant{std::string(name), *strategy, weight});
    total += weight;
  }
  if (out.empty()) return InvalidArgument("no variants (e.g. fused=50,ranked=50)");
  if (total == 0) return InvalidArgument("the variants' weights add up to 0");
  return out;
}

std::optional<std::string> VariantOfRecommendation(std::string_view id) {
  if (!id.starts_with(kIdPrefix)) return std::nullopt;
  id.remove_prefix(kIdPrefix.size());
  const size_t end = id.find('_');
  if (end == std::string_view::npos || end == 0) return std::nullopt;
  return std::string(id.substr(0, end));
}

Experiment::Experiment(std::string name, std::vector<Variant> variants, metrics::Registry& metrics)
    : name_(std::move(name)), variants_(std::move(variants)) {
  for (const Variant& v : variants_) total_weight_ += v.weight;
  auto& served = metrics.AddCounter("recommend_served_total",
                                    "Recommendation lists answered, by experiment variant.", {"variant"});
  auto& impressions =
      metrics.AddCounter("recommend_impressions_total",
                         "Recommended items shown (recommendation_view events), by variant.", {"variant"});
  auto& clicks =
      metrics.AddCounter("recommend_clicks_total", "recommendation_click events, by variant.", {"variant"});
  auto& carts = metrics.AddCounter("recommend_add_to_cart_total",
                                   "Add-to-cart of a product clicked in a recommendation list within 24 h, "
                                   "by variant.",
                                   {"variant"});
  auto& conversions = metrics.AddCounter(
      "recommend_conversions_total",
      "Ordered lines of a product clicked in a recommendation list within 7 days, by variant.", {"variant"});
  auto& revenue = metrics.AddCounter("recommend_revenue_minor_total",
                                     "Revenue (minor units) of those order lines, by variant.", {"variant"});
  for (const Variant& v : variants_) {
    series_.push_back(Series{&served.With({v.name}), &impressions.With({v.name}), &clicks.With({v.name}),
                             &carts.With({v.name}), &conversions.With({v.name}), &revenue.With({v.name})});
  }
}

const Variant& Experiment::Assign(std::string_view subject) const {
  uint64_t x = Fnv1a(subject, Fnv1a(name_ + "/"));
  uint64_t pick = SplitMix64(x) % total_weight_;
  for (const Variant& v : variants_) {
    if (pick < v.weight) return v;
    pick -= v.weight;
  }
  return variants_.back();
}

std::string Experiment::NewRecommendationId(const Variant& v) const {
  return std::string(kIdPrefix) + v.name + "_" + FastRandomHex(12);
}

void Experiment::Served(const Variant& v) {
  if (auto i = IndexOf(v.name)) series_[*i].served->Inc();
}

std::optional<size_t> Experiment::IndexOf(std::string_view variant) const {
  for (size_t i = 0; i < variants_.size(); ++i)
    if (variants_[i].name == variant) return i;
  return std::nullopt;
}

const Experiment::Click* Experiment::LastClick(const std::string& subject, const std::string& product,
                                               int64_t at_ms, int64_t window_ms) const {
  auto it = clicks_.find(subject);
  if (it == clicks_.end()) return nullptr;
  for (auto c = it->second.rbegin(); c != it->second.rend(); ++c)
    if (c->product_id == product && c->at_ms <= at_ms && at_ms - c->at_ms <= window_ms) return &*c;
  return nullptr;
}

void Experiment::Prune(int64_t now_ms) {
  for (auto it = clicks_.begin(); it != clicks_.end();) {
    std::erase_if(it->second, [&](const Click& c) { return now_ms - c.at_ms > kConversionWindowMs; });
    it = it->second.empty() ? clicks_.erase(it) : std::next(it);
  }
}

void Experiment::Observe(const bus::Event& e) {
  const bool behaviour = e.type.starts_with("behavior.");
  if (!behaviour && e.type != "order.confirmed") return;
  auto parsed = json::Parse(e.data);
  if (!parsed.ok() || !parsed->is_object()) return;
  const object& o = parsed->as_object();

  std::lock_guard lock(mu_);
  if (e.type == "behavior.guest_merged") {
    const std::string guest = WithPrefix("guest:", Str(o, "guest_id"));
    const std::string user = WithPrefix("user:", Str(o, "user_id"));
    auto g = clicks_.find(guest);
    if (g == clicks_.end() || guest == user) return;
    std::vector<Click> moved = std::move(g->second);
    clicks_.erase(g);
    std::vector<Click>& to = clicks_[user];
    to.insert(to.end(), moved.begin(), moved.end());
    std::stable_sort(to.begin(), to.end(), [](const Click& a, const Click& b) { return a.at_ms < b.at_ms; });
    return;
  }
  if (e.type == "order.confirmed") {
    const std::string subject = WithPrefix("user:", Str(o, "user_id"));
    const auto at = ParseRfc3339UnixMillis(Str(o, "at"));
    const auto* items = o.if_contains("items");
    if (!at || !items || !items->is_array()) return;
    for (const auto& item : items->as_array()) {
      if (!item.is_object()) continue;
      const object& line = item.as_object();
      const Click* c = LastClick(subject, Str(line, "product_id"), *at, kConversionWindowMs);
      if (!c) continue;
      int64_t quantity = 1, price = 0;
      if (const auto* q = line.if_contains("quantity"); q && q->is_int64()) quantity = q->as_int64();
      if (const auto* p = line.if_contains("unit_price"); p && p->is_int64()) price = p->as_int64();
      series_[c->variant].conversions->Inc();
      if (quantity > 0 && price > 0) series_[c->variant].revenue->Inc(static_cast<double>(quantity * price));
    }
    return;
  }

  const std::string type = Str(o, "type");
  const std::string subject = Str(o, "user_id");
  const auto at = ParseRfc3339UnixMillis(Str(o, "time"));
  if (subject.empty() || !at) return;
  if (type == "recommendation_view" || type == "recommendation_click") {
    const auto variant = VariantOfRecommendation(Str(o, "recommendation_id"));
    const auto index = variant ? IndexOf(*variant) : std::nullopt;
    if (!index) return;  // a list from before the experiment, or of a variant no longer configured
    if (type == "recommendation_view") {
      const auto* shown = o.if_contains("items");
      if (shown && shown->is_array())
        series_[*index].impressions->Inc(static_cast<double>(shown->as_array().size()));
      return;
    }
    series_[*index].clicks->Inc();
    std::vector<Click>& mine = clicks_[subject];
    mine.push_back(Click{Str(o, "product_id"), *index, *at});
    if (mine.size() > kClicksPerSubject) mine.erase(mine.begin());
    if (++since_prune_ >= kPruneEvery) {
      since_prune_ = 0;
      Prune(*at);
    }
    return;
  }
  if (type == "add_to_cart") {
    if (const Click* c = LastClick(subject, Str(o, "product_id"), *at, kCartWindowMs))
      series_[c->variant].add_to_cart->Inc();
  }
}

std::vector<VariantStats> Experiment::Stats() const {
  std::vector<VariantStats> out;
  for (size_t i = 0; i < variants_.size(); ++i) {
    const Series& s = series_[i];
    out.push_back(VariantStats{variants_[i].name, std::string(StrategyName(variants_[i].strategy)),
                               variants_[i].weight, s.served->value(), s.impressions->value(),
                               s.clicks->value(), s.add_to_cart->value(), s.conversions->value(),
                               s.revenue->value()});
  }
  return out;
}

}  // namespace emporium::recommend
