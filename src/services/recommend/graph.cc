#include "services/recommend/graph.h"

#include <algorithm>
#include <cstdint>
#include <mutex>

namespace emporium::recommend {

float SignalWeight(Signal s) {
  switch (s) {
    case Signal::kView: return 1;
    case Signal::kClick: return 1;
    case Signal::kWishlist: return 2;
    case Signal::kCart: return 3;
    case Signal::kPurchase: return 5;
  }
  return 1;
}

std::string_view SignalName(Signal s) {
  switch (s) {
    case Signal::kView: return "view";
    case Signal::kClick: return "click";
    case Signal::kWishlist: return "wishlist";
    case Signal::kCart: return "cart";
    case Signal::kPurchase: return "purchase";
  }
  return "view";
}

std::optional<Signal> SignalOf(std::string_view name) {
  for (Signal s : {Signal::kView, Signal::kClick, Signal::kWishlist, Signal::kCart, Signal::kPurchase})
    if (SignalName(s) == name) return s;
  return std::nullopt;
}

int32_t Graph::ItemLocked(const std::string& product_id) {
  auto [it, added] = item_index_.emplace(product_id, static_cast<int32_t>(item_ids_.size()));
  if (added) {
    item_ids_.push_back(product_id);
    facts_.emplace_back();
  }
  return it->second;
}

void Graph::Add(const std::vector<LiveInteraction>& batch) {
  std::unique_lock lock(mu_);
  for (const LiveInteraction& x : batch) {
    auto [u, added] = user_index_.emplace(x.subject, static_cast<int32_t>(by_user_.size()));
    if (added) by_user_.emplace_back();
    by_user_[static_cast<size_t>(u->second)].push_back(rows_.size());
    rows_.push_back(Interaction{u->second, ItemLocked(x.product_id), SignalWeight(x.signal), x.at_ms});
  }
}

void Graph::SetFacts(ItemFacts facts) {
  std::unique_lock lock(mu_);
  const int32_t i = ItemLocked(facts.id);
  facts_[static_cast<size_t>(i)] = std::move(facts);
}

void Graph::SetStock(const std::string& product_id, bool in_stock) {
  std::unique_lock lock(mu_);
  auto it = item_index_.find(product_id);
  if (it == item_index_.end()) return;
  if (auto& f = facts_[static_cast<size_t>(it->second)]) f->in_stock = in_stock;
}

void Graph::Merge(const std::string& guest, const std::string& user) {
  std::unique_lock lock(mu_);
  if (guest == user) return;
  if (auto from = carts_.find(guest); from != carts_.end()) {
    std::vector<CartEntry> lines = std::move(from->second);
    carts_.erase(from);
    std::vector<CartEntry>& to = carts_[user];
    for (CartEntry& line : lines) {
      auto same = std::find_if(to.begin(), to.end(),
                               [&](const CartEntry& e) { return e.product_id == line.product_id; });
      if (same != to.end()) {
        same->quantity += line.quantity;
      } else {
        to.push_back(std::move(line));
      }
    }
  }
  auto g = user_index_.find(guest);
  if (g == user_index_.end()) return;
  auto [u, added] = user_index_.emplace(user, static_cast<int32_t>(by_user_.size()));
  if (added) by_user_.emplace_back();
  std::vector<size_t>& from = by_user_[static_cast<size_t>(g->second)];
  std::vector<size_t>& to = by_user_[static_cast<size_t>(u->second)];
  for (size_t at : from) {
    rows_[at].user = u->second;
    to.push_back(at);
  }
  std::stable_sort(to.begin(), to.end(),
                   [this](size_t a, size_t b) { return rows_[a].at_ms < rows_[b].at_ms; });
  from.clear();
}

void Graph::SetCartQuantity(const std::string& subject, const std::string& product_id, int32_t quantity) {
  std::unique_lock lock(mu_);
  auto cart = carts_.find(subject);
  if (quantity <= 0) {
    if (cart == carts_.end()) return;
    std::erase_if(cart->second, [&](const CartEntry& e) { return e.product_id == product_id; });
    if (cart->second.empty()) carts_.erase(cart);
    return;
  }
  if (cart == carts_.end()) cart = carts_.emplace(subject, std::vector<CartEntry>{}).first;
  for (CartEntry& e : cart->second) {
    if (e.product_id == product_id) {
      e.quantity = quantity;
      return;
    }
  }
  cart->second.push_back(CartEntry{product_id, quantity});
}

void Graph::Clear() {
  std::unique_lock lock(mu_);
  user_index_.clear();
  item_index_.clear();
  item_ids_.clear();
  facts_.clear();
  rows_.clear();
  by_user_.clear();
  carts_.clear();
}

History Graph::HistoryOf(const std::string& subject, double half_life_days) const {
  return ShopperOf(subject, half_life_days, kSessionGapMs).history;
}

std::vector<int32_t> Graph::RecentItems(const std::string& subject, size_t recent) const {
  std::shared_lock lock(mu_);
  std::vector<int32_t> out;
  auto u = user_index_.find(subject);
  if (u == user_index_.end()) return out;
  const std::vector<size_t>& rows = by_user_[static_cast<size_t>(u->second)];
  for (auto it = rows.rbegin(); it != rows.rend() && out.size() < recent; ++it)
    if (std::find(out.begin(), out.end(), rows_[*it].item) == out.end()) out.push_back(rows_[*it].item);
  return out;
}

Shopper Graph::ShopperOf(const std::string& subject, double half_life_days, int64_t session_gap_ms) const {
  std::shared_lock lock(mu_);
  Shopper out;
  auto u = user_index_.find(subject);
  if (u == user_index_.end()) return out;
  const std::vector<size_t>& positions = by_user_[static_cast<size_t>(u->second)];
  std::vector<Interaction> all;
  all.reserve(positions.size());
  for (size_t at : positions) {
    all.push_back(rows_[at]);
    all.back().user = 0;
  }
  lock.unlock();
  size_t start = all.size();  // of the session: positions are in time order
  while (start > 0 && (start == all.size() || all[start].at_ms - all[start - 1].at_ms < session_gap_ms))
    --start;
  const float purchase = SignalWeight(Signal::kPurchase);
  for (const Interaction& r : all)
    if (r.weight == purchase) out.bought.push_back(r.item);
  for (auto it = all.rbegin(); it != all.rend() && out.recent.size() < 3; ++it)
    if (std::find(out.recent.begin(), out.recent.end(), it->item) == out.recent.end())
      out.recent.push_back(it->item);
  std::sort(out.bought.begin(), out.bought.end());
  out.bought.erase(std::unique(out.bought.begin(), out.bought.end()), out.bought.end());
  std::vector<Interaction> session(all.begin() + static_cast<ptrdiff_t>(start), all.end());
  out.session = std::move(Histories(session, 1, 0).front());
  out.history = std::move(Histories(all, 1, half_life_days).front());
  return out;
}

std::vector<int32_t> Graph::CartOf(const std::string& subject) const {
  std::shared_lock lock(mu_);
  std::vector<int32_t> out;
  auto cart = carts_.find(subject);
  if (cart == carts_.end()) return out;
  for (const CartEntry& e : cart->second)
    if (auto it = item_index_.find(e.product_id); it != item_index_.end()) out.push_back(it->second);
  return out;
}

GraphSnapshot Graph::Snapshot() const {
  return Snapshot(SIZE_MAX);
}

GraphSnapshot Graph::Snapshot(size_t arrivals) const {
  std::shared_lock lock(mu_);
  GraphSnapshot s;
  s.users = static_cast<int32_t>(by_user_.size());
  s.items = static_cast<int32_t>(item_ids_.size());
  s.item_ids = item_ids_;
  for (const std::optional<ItemFacts>& f : facts_) {
    s.catalog.categories.push_back(f ? f->category : "");
    s.catalog.brands.push_back(f ? f->brand : "");
    s.catalog.prices.push_back(f ? f->price : -1);
  }
  s.interactions = std::min(arrivals, rows_.size());
  s.rows.assign(rows_.begin(), rows_.begin() + static_cast<ptrdiff_t>(s.interactions));
  return s;
}

std::vector<Interaction> Graph::ArrivedSince(size_t from) const {
  std::shared_lock lock(mu_);
  if (from >= rows_.size()) return {};
  return {rows_.begin() + static_cast<ptrdiff_t>(from), rows_.end()};
}

size_t Graph::interactions() const {
  std::shared_lock lock(mu_);
  return rows_.size();
}

size_t Graph::users() const {
  std::shared_lock lock(mu_);
  return by_user_.size();
}

std::optional<int32_t> Graph::ItemIndex(const std::string& product_id) const {
  std::shared_lock lock(mu_);
  auto it = item_index_.find(product_id);
  if (it == item_index_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Graph::CategoriesOf(std::span<const int32_t> items) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items.size());
  for (int32_t item : items) {
    const bool known =
        item >= 0 && static_cast<size_t>(item) < facts_.size() && facts_[static_cast<size_t>(item)];
    out.push_back(known ? facts_[static_cast<size_t>(item)]->category : "");
  }
  return out;
}

std::optional<ItemFacts> Graph::Facts(int32_t item) const {
  std::shared_lock lock(mu_);
  if (item < 0 || static_cast<size_t>(item) >= facts_.size()) return std::nullopt;
  return facts_[static_cast<size_t>(item)];
}

bool Graph::Showable(int32_t item) const {
  std::shared_lock lock(mu_);
  if (item < 0 || static_cast<size_t>(item) >= facts_.size()) return false;
  const auto& f = facts_[static_cast<size_t>(item)];
  return f && !f->deleted && f->in_stock;
}

}  // namespace emporium::recommend
