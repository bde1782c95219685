// The live user–item graph of the recommend module: every shopper's interactions and every
// product's facts, as the module's event feed (feed.h) learns them, in memory.
//
// Users are subjects ("user:<id>", "guest:<id>"), items product ids; both get dense indices in
// arrival order, so the generators (generators.h) fitted on a Snapshot() can be asked about any
// user's live History() at once: a product view changes the next answer without a refit.
// Thread-safe: one writer (the feed) and any number of readers (requests, the trainer).
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/recommend/generators.h"
#include "services/recommend/interactions.h"

namespace emporium::recommend {

// What a shopper did with a product, as a weight: view or click 1, wishlist 2, cart 3, purchase 5.
enum class Signal { kView, kClick, kWishlist, kCart, kPurchase };
float SignalWeight(Signal s);
std::string_view SignalName(Signal s);
std::optional<Signal> SignalOf(std::string_view name);

struct LiveInteraction {
  std::string subject;
  std::string product_id;
  Signal signal = Signal::kView;
  int64_t at_ms = 0;
};

struct ItemFacts {
  std::string id;
  std::string title;
  std::string category;
  std::string brand;
  int64_t price = 0;
  bool in_stock = true;
  bool deleted = false;
};

// A consistent copy for training: the first `interactions` rows in arrival order, over dense
// users and items (the item ids behind the indices alongside).
struct GraphSnapshot {
  std::vector<Interaction> rows;
  int32_t users = 0, items = 0;
  std::vector<std::string> item_ids;
  size_t interactions = 0;
};

class Graph {
 public:
  void Add(const std::vector<LiveInteraction>& batch);
  void SetFacts(ItemFacts facts);  // a deleted product keeps its index, never recommended again
  void SetStock(const std::string& product_id, bool in_stock);
  // Moves a guest's interactions to the user who signed in (guest merge).
  void Merge(const std::string& guest, const std::string& user);

  // The user's history over item indices (empty for an unknown subject), with the affinity
  // half-life of the generators, and the user's last `recent` items (latest first).
  History HistoryOf(const std::string& subject, double half_life_days) const;
  std::vector<int32_t> RecentItems(const std::string& subject, size_t recent) const;

  // Every interaction so far, or the first `arrivals` of them (fewer when there are fewer).
  GraphSnapshot Snapshot() const;
  GraphSnapshot Snapshot(size_t arrivals) const;
  // The interactions that arrived from `from` on.
  std::vector<Interaction> ArrivedSince(size_t from) const;
  size_t interactions() const;
  size_t users() const;

  std::optional<int32_t> ItemIndex(const std::string& product_id) const;
  // Facts of an item index (nullopt: no facts yet, or out of range).
  std::optional<ItemFacts> Facts(int32_t item) const;
  // Whether an item may be shown: known, not deleted, in stock.
  bool Showable(int32_t item) const;

 private:
  int32_t ItemLocked(const std::string& product_id);
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, int32_t> user_index_, item_index_;
  std::vector<std::string> item_ids_;
  std::vector<std::optional<ItemFacts>> facts_;  // per item
  std::vector<Interaction> rows_;                // every interaction, arrival order
  std::vector<std::vector<size_t>> by_user_;     // per user, positions in rows_ by time
};

}  // namespace emporium::recommend
