#include "services/recommend/segments.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "platform/core/pod_bytes.h"
#include "services/recommend/graph.h"

namespace emporium::recommend {
namespace {

using bytes::Put;
using bytes::Take;

constexpr uint32_t kVersion = 1;

}  // namespace

Segments Segments::Fit(const std::vector<Interaction>& rows, std::span<const std::string> categories,
                       std::span<const float> popularity, SegmentOptions options) {
  Segments s;
  s.options_ = options;
  s.category_of_.assign(categories.size(), -1);
  for (size_t i = 0; i < categories.size(); ++i) {
    if (categories[i].empty()) continue;
    auto [it, added] = s.index_.emplace(categories[i], static_cast<int32_t>(s.names_.size()));
    if (added) s.names_.push_back(categories[i]);
    s.category_of_[i] = it->second;
  }
  const size_t n = s.names_.size();
  s.consumable_.assign(n, 0);
  s.popular_.resize(n);
  s.popularity_.resize(n);

  // Consumables: how many of the bought (shopper, item) pairs were bought more than once.
  const float purchase = SignalWeight(Signal::kPurchase);
  std::map<std::pair<int32_t, int32_t>, uint32_t> bought;
  for (const Interaction& r : rows)
    if (r.weight == purchase) ++bought[{r.user, r.item}];
  std::vector<size_t> pairs(n), again(n);
  for (const auto& [pair, times] : bought) {
    const size_t item = static_cast<size_t>(pair.second);
    if (item >= s.category_of_.size() || s.category_of_[item] < 0) continue;
    const size_t c = static_cast<size_t>(s.category_of_[item]);
    ++pairs[c];
    if (times > 1) ++again[c];
  }
  for (size_t c = 0; c < n; ++c)
    s.consumable_[c] = pairs[c] >= options.min_pairs &&
                       static_cast<double>(again[c]) >= options.repeat_rate * static_cast<double>(pairs[c]);

  // Each category's most popular items (ties: lower item first, as the popularity generator).
  std::vector<std::vector<int32_t>> members(n);
  for (size_t i = 0; i < s.category_of_.size() && i < popularity.size(); ++i)
    if (s.category_of_[i] >= 0 && popularity[i] > 0)
      members[static_cast<size_t>(s.category_of_[i])].push_back(static_cast<int32_t>(i));
  for (size_t c = 0; c < n; ++c) {
    std::vector<int32_t>& m = members[c];
    const auto better = [&](int32_t a, int32_t b) {
      const float pa = popularity[static_cast<size_t>(a)], pb = popularity[static_cast<size_t>(b)];
      return pa > pb || (pa == pb && a < b);
    };
    const size_t keep = std::min(m.size(), options.per_category);
    std::partial_sort(m.begin(), m.begin() + static_cast<ptrdiff_t>(keep), m.end(), better);
    m.resize(keep);
    for (int32_t item : m) s.popularity_[c].push_back(popularity[static_cast<size_t>(item)]);
    s.popular_[c] = std::move(m);
  }
  return s;
}

std::string Segments::Save() const {
  std::string out;
  Put(out, kVersion);
  Put<uint64_t>(out, options_.per_category);
  Put<uint64_t>(out, options_.max_categories);
  Put<uint64_t>(out, names_.size());
  for (size_t c = 0; c < names_.size(); ++c) {
    Put<uint64_t>(out, names_[c].size());
    out += names_[c];
    Put(out, consumable_[c]);
    Put<uint64_t>(out, popular_[c].size());
    for (size_t r = 0; r < popular_[c].size(); ++r) {
      Put(out, popular_[c][r]);
      Put(out, popularity_[c][r]);
    }
  }
  Put<uint64_t>(out, category_of_.size());
  for (int32_t c : category_of_) Put(out, c);
  return out;
}

Result<Segments> Segments::Load(std::string_view in) {
  const auto damaged = [] { return InvalidArgument("damaged segments"); };
  Segments s;
  uint32_t version = 0;
  uint64_t per_category = 0, max_categories = 0, n = 0;
  if (!Take(in, &version) || version != kVersion || !Take(in, &per_category) || !Take(in, &max_categories) ||
      !Take(in, &n) || n > in.size())
    return damaged();
  s.options_.per_category = per_category;
  s.options_.max_categories = max_categories;
  s.names_.resize(n);
  s.consumable_.resize(n);
  s.popular_.resize(n);
  s.popularity_.resize(n);
  for (size_t c = 0; c < n; ++c) {
    uint64_t len = 0, items = 0;
    if (!Take(in, &len) || len > in.size()) return damaged();
    s.names_[c] = std::string(in.substr(0, len));
    in.remove_prefix(len);
    if (!s.index_.emplace(s.names_[c], static_cast<int32_t>(c)).second) return damaged();
    if (!Take(in, &s.consumable_[c]) || !Take(in, &items) || items > in.size()) return damaged();
    for (uint64_t r = 0; r < items; ++r) {
      int32_t item = 0;
      float p = 0;
      if (!Take(in, &item) || !Take(in, &p)) return damaged();
      s.popular_[c].push_back(item);
      s.popularity_[c].push_back(p);
    }
  }
  uint64_t items = 0;
  if (!Take(in, &items) || in.size() != items * sizeof(int32_t)) return damaged();
  s.category_of_.resize(items);
  for (int32_t& c : s.category_of_) {
    Take(in, &c);
    if (c < -1 || c >= static_cast<int32_t>(n)) return damaged();
  }
  return s;
}

std::vector<Scored> Segments::Popular(const History& seed, std::span<const std::string> categories, size_t k,
                                      std::span<const int32_t> exclude) const {
  std::map<int32_t, double> share;
  double total = 0;
  for (size_t n = 0; n < seed.items.size() && n < categories.size(); ++n) {
    auto c = index_.find(categories[n]);
    if (c == index_.end()) continue;
    const double a = n < seed.affinity.size() ? seed.affinity[n] : 1.0;
    share[c->second] += a;
    total += a;
  }
  std::vector<std::pair<double, int32_t>> top;
  for (const auto& [c, a] : share) top.push_back({a / total, c});
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  if (top.size() > options_.max_categories) top.resize(options_.max_categories);

  std::vector<Scored> out;
  for (const auto& [weight, c] : top) {
    const std::vector<int32_t>& items = popular_[static_cast<size_t>(c)];
    size_t rank = 0;
    for (size_t r = 0; r < items.size() && rank < k; ++r) {
      if (std::binary_search(exclude.begin(), exclude.end(), items[r])) continue;
      out.push_back({items[r], static_cast<float>(weight / static_cast<double>(++rank))});
    }
  }
  std::sort(out.begin(), out.end(), [](const Scored& a, const Scored& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
  if (out.size() > k) out.resize(k);
  return out;
}

bool Segments::Durable(int32_t item) const {
  if (item < 0 || static_cast<size_t>(item) >= category_of_.size() ||
      category_of_[static_cast<size_t>(item)] < 0)
    return true;
  return !consumable_[static_cast<size_t>(category_of_[static_cast<size_t>(item)])];
}

std::string_view Segments::Category(int32_t item) const {
  if (item < 0 || static_cast<size_t>(item) >= category_of_.size() ||
      category_of_[static_cast<size_t>(item)] < 0)
    return {};
  return names_[static_cast<size_t>(category_of_[static_cast<size_t>(item)])];
}

size_t Segments::consumables() const {
  return static_cast<size_t>(std::count(consumable_.begin(), consumable_.end(), 1));
}

}  // namespace emporium::recommend
