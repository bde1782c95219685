// Order persistence in the module's own database: orders (the saga's state lives in the row),
// order_history (every status change), plus the outbox/inbox tables (bus::MigrateOutbox).
//
// Writes are optimistic: Save() only applies when the row still has the version the caller
// loaded, and bumps it. cancel_requested is written only by RequestCancel (never by Save), so a
// cancel is never lost to a concurrent saga step. The shipping address is sealed with `aead`
// (context "orders.address:<id>") and opened on load.
// Thread-safety: Store is thread-safe (the Database pools connections).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/crypto/crypto.h"
#include "platform/sql/sql.h"
#include "services/order/model.h"

namespace emporium::order {

std::span<const sql::Migration> Migrations();

struct ListFilter {
  std::string user_id;           // empty: every user (admin)
  std::string status;            // empty: any
  bool needs_attention = false;  // only orders whose refund or void the provider refused
  int64_t before_ms = 0;         // 0: from the newest; else orders before (before_ms, before_id)
  std::string before_id;         // in (created_at, id) order
  int limit = 50;
};

class Store {
 public:
  Store(sql::Database& db, const crypto::Aead& aead) : db_(db), aead_(aead) {}
  sql::Database& db() { return db_; }
  Status Migrate();

  // kAlreadyExists when (user_id, idempotency_key) is taken.
  Status Insert(sql::Tx& tx, const Order& o);
  Result<std::optional<Order>> Load(sql::Tx& tx, const std::string& id);
  Result<std::optional<Order>> Get(const std::string& id);
  Result<std::optional<Order>> FindByIdempotencyKey(const std::string& user_id, const std::string& key);
  // Writes o (all columns but cancel_requested) when the stored version is o.version; bumps
  // o.version. False on a version conflict (nothing written).
  Result<bool> Save(sql::Tx& tx, Order& o);
  static Status AddHistory(sql::Tx& tx, const std::string& order_id, const std::string& status,
                           const std::string& reason, int64_t at_ms);
  Result<std::vector<HistoryEntry>> History(const std::string& order_id);
  // Marks the order for cancellation (the saga acts on it). False when already marked.
  static Result<bool> RequestCancel(sql::Tx& tx, const std::string& id);

  Result<std::vector<Order>> List(const ListFilter& f);
  // Orders whose active step is due (next_attempt_at <= now), oldest first.
  Result<std::vector<std::string>> Due(int64_t now_ms, int limit);

 private:
  Result<Order> FromRow(const sql::Row& r);

  sql::Database& db_;
  const crypto::Aead& aead_;
};

}  // namespace emporium::order
