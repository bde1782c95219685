// Behaviour persistence in the module's own database: behavior_events (every accepted event,
// unique per (origin, client_event_id)), behavior_aliases (guest → user after sign-in), plus the
// outbox and inbox tables (bus::MigrateOutbox).
//
// The static Tx functions run inside the caller's transaction so that events, aliases and their
// outbox rows commit together. Times are Unix milliseconds.
// Thread-safety: Store is thread-safe (the Database pools connections).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "platform/core/status.h"
#include "platform/sql/sql.h"
#include "services/behavior/model.h"

namespace emporium::behavior {

std::span<const sql::Migration> Migrations();

// A row to insert: the event as the history keeps it, who posted it and to whom it belongs.
struct NewRow {
  const StoredEvent* stored;
  const std::string* origin;   // the token's subject: the idempotency scope
  const std::string* subject;  // the user the event is attributed to
};

// Where a history page starts (exclusive): the last event of the previous page.
struct Cursor {
  int64_t time_ms = 0;
  std::string id;
};

struct HistoryQuery {
  std::string subject;
  std::string origin;  // when set, only events posted with this token subject
  std::string type;    // when set, only this type
  int page_size = 20;
  std::optional<Cursor> after;
};

class Store {
 public:
  explicit Store(sql::Database& db) : db_(db) {}
  sql::Database& db() { return db_; }
  // Applies behavior's migrations and the outbox/inbox tables.
  Status Migrate();

  // The user a guest subject was merged into; the subject itself otherwise.
  static Result<std::string> Attributed(sql::Tx& tx, const std::string& subject);
  // Inserts rows whose (origin, client_event_id) is new; returns the client ids inserted. A few
  // multi-row statements per batch (fixed sizes, so the prepared statements are reused).
  static Result<std::unordered_set<std::string>> Insert(sql::Tx& tx, std::span<const NewRow> rows);
  // Records guest → user and moves the guest's events to the user; returns how many moved.
  static Result<int64_t> Reattribute(sql::Tx& tx, const std::string& guest, const std::string& user,
                                     int64_t now_ms);

  // Newest first; one more row than page_size is read to know whether a next page exists.
  Result<std::vector<StoredEvent>> History(const HistoryQuery& q);
  // Deletes events whose time is before cutoff_ms and aliases created before it, in chunks so
  // that writers are never held up long. Returns the events deleted.
  Result<int64_t> DeleteOlderThan(int64_t cutoff_ms);

 private:
  sql::Database& db_;
};

}  // namespace emporium::behavior
