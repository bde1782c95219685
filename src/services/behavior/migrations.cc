// Behaviour's schema. Portable SQL for SQLite and PostgreSQL. The (origin, client_event_id) key is
// the idempotency scope: a retried batch finds its events there. subject is who the event belongs
// to (the origin, or the user a guest origin was merged into); the history index serves
// "newest first" per subject, the time index the retention sweep.
#include "services/behavior/store.h"

namespace emporium::behavior {

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_behavior",
       R"sql(
CREATE TABLE behavior_events (
  id TEXT PRIMARY KEY,
  origin TEXT NOT NULL,
  client_event_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  type TEXT NOT NULL,
  event_time BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  session_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  fields_json TEXT NOT NULL,
  UNIQUE (origin, client_event_id)
);
CREATE INDEX behavior_events_history ON behavior_events (subject, event_time, id);
CREATE INDEX behavior_events_age ON behavior_events (event_time);
CREATE TABLE behavior_aliases (
  guest_subject TEXT PRIMARY KEY,
  user_subject TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
)sql",
       "", ""},
  };
  return kMigrations;
}

}  // namespace emporium::behavior
