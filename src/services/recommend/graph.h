// The live user–item graph of the recommend module: every shopper's interactions and every
// product's facts, as the module's event feed (feed.h) learns them, in memory.
//
// Users are subjects ("user:<id>", "guest:<id>"), items product ids; both get dense indices in
// arrival order, so the generators (generators.h) fitted on a Snapshot() can be asked about any
// user's live History() at once: a product view changes the next answer without a refit.
// Carts (what the cart topic says a shopper's cart holds) sit beside the interactions and are not
// interactions: behaviour's add_to_cart is the interaction. The whole state can be encoded as a
// snapshot (snapshot.h) so a restart need not replay the feed's log from its start.
// Thread-safe: one writer (the feed) and any number of readers (requests, the trainer).
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/core/status.h"
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
  ItemCatalog catalog;  // per item, as the catalog's events said when the snapshot was taken
  size_t interactions = 0;
};

// What serving needs of one shopper, read under one lock.
struct Shopper {
  History history;  // everything, with the generators' affinity half-life
  // The current session: the interactions since the last pause of at least the session gap
  // before the latest one (affinities without decay; a history of one session is all of it).
  History session;
  std::vector<int32_t> bought;  // items the shopper purchased, ascending
  std::vector<int32_t> recent;  // the last 3 distinct items, latest first
};

class Graph {
 public:
  void Add(const std::vector<LiveInteraction>& batch);
  void SetFacts(ItemFacts facts);  // a deleted product keeps its index, never recommended again
  void SetStock(const std::string& product_id, bool in_stock);
  // Moves a guest's interactions and cart to the user who signed in (guest merge); quantities of
  // a product in both carts add up (the cart's own events then say the merged quantity).
  void Merge(const std::string& guest, const std::string& user);
  // How many of a product the subject's cart holds; 0 takes it out.
  void SetCartQuantity(const std::string& subject, const std::string& product_id, int32_t quantity);
  // Forgets everything (a snapshot found not to match its log).
  void Clear();

  // The user's history over item indices (empty for an unknown subject), with the affinity
  // half-life of the generators, and the user's last `recent` items (latest first).
  History HistoryOf(const std::string& subject, double half_life_days) const;
  std::vector<int32_t> RecentItems(const std::string& subject, size_t recent) const;
  // The shopper's history, session (pauses of `session_gap_ms` or more end one) and purchases.
  Shopper ShopperOf(const std::string& subject, double half_life_days, int64_t session_gap_ms) const;
  // The item indices of the subject's cart in the order they were put in; products the graph has
  // no index for are left out (nothing is known of them).
  std::vector<int32_t> CartOf(const std::string& subject) const;

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
  // The categories of items ("" without facts), under one lock.
  std::vector<std::string> CategoriesOf(std::span<const int32_t> items) const;
  // Whether an item may be shown: known, not deleted, in stock.
  bool Showable(int32_t item) const;

  // The whole state in the snapshot format, saying it covers the log's first `log_offset` bytes.
  // Under the shared lock: requests go on meanwhile. Deterministic: equal graphs, equal bytes.
  std::string EncodeSnapshot(uint64_t log_offset) const;
  // Replaces the state with a snapshot's, all or nothing, and returns the log offset it covers;
  // kInvalidArgument saying why when the bytes are truncated, corrupt or of another version (the
  // graph is then unchanged). Both are defined in snapshot.cc, beside the format.
  Result<uint64_t> DecodeSnapshot(std::string_view bytes);

 private:
  struct CartEntry {
    std::string product_id;
    int32_t quantity = 0;
  };

  int32_t ItemLocked(const std::string& product_id);
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, int32_t> user_index_, item_index_;
  std::vector<std::string> item_ids_;
  std::vector<std::optional<ItemFacts>> facts_;                    // per item
  std::vector<Interaction> rows_;                                  // every interaction, arrival order
  std::vector<std::vector<size_t>> by_user_;                       // per user, positions in rows_ by time
  std::unordered_map<std::string, std::vector<CartEntry>> carts_;  // by subject, never empty
};

}  // namespace emporium::recommend
