// Cart persistence in the module's own database: carts, cart_items, cart_changes (the SSE replay
// log) and wishlist_items, plus the outbox tables (bus::MigrateOutbox).
//
// The Tx functions run inside the caller's transaction so that a change, its replay-log row and
// its outbox events commit together. Times are Unix milliseconds.
// Thread-safety: Store is thread-safe (the Database pools connections).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/sql/sql.h"
#include "services/cart/model.h"

namespace emporium::cart {

std::span<const sql::Migration> Migrations();

// How many changes per subject cart_changes keeps for Last-Event-ID replays.
struct Retention {
  int64_t max_changes = 1000;
  int64_t max_age_ms = 7LL * 24 * 3600 * 1000;
};

class Store {
 public:
  explicit Store(sql::Database& db) : db_(db) {}
  sql::Database& db() { return db_; }
  // Applies cart's migrations and the outbox/inbox tables.
  Status Migrate();

  // The cart of subject with its lines (oldest first). A missing cart is created when `create`,
  // otherwise returned empty with version 0 and no id.
  static Result<CartState> LoadCart(sql::Tx& tx, const std::string& subject, int64_t now, bool create);
  // Sets a line's quantity (0 deletes it).
  static Status SetLine(sql::Tx& tx, const std::string& subject, const std::string& product_id, int quantity,
                        int64_t now);
  static Status ClearLines(sql::Tx& tx, const std::string& subject);
  static Status SaveVersion(sql::Tx& tx, const std::string& subject, int64_t version, int64_t now);
  // Appends a change to the replay log and trims the subject's log to `retention`.
  static Status AddChange(sql::Tx& tx, const Change& change, int64_t now, const Retention& retention);

  // Changes of subject with seq > after, oldest first, at most limit.
  Result<std::vector<Change>> ChangesAfter(const std::string& subject, int64_t after, int limit);
  // The stored change (subject, seq), nullopt when absent.
  Result<std::optional<Change>> FindChange(const std::string& subject, int64_t seq);
  // The current version of subject's cart (0 when it has none).
  Result<int64_t> Version(const std::string& subject);

  Result<std::vector<WishItem>> Wishlist(const std::string& subject);
  // True when the product was not on the list yet.
  static Result<bool> AddWish(sql::Tx& tx, const std::string& subject, const std::string& product_id,
                              int64_t now);
  // True when the product was on the list.
  Result<bool> RemoveWish(const std::string& subject, const std::string& product_id);

 private:
  sql::Database& db_;
};

}  // namespace emporium::cart
