// Fulfillment's schema. Portable SQL for SQLite and PostgreSQL.
// shipments.tracking_number is NULL while a booking is in progress (NULLs never collide in the
// unique index). notifications is the notification outbox: rows with sent_at NULL are waiting
// for the sink.
#include "services/fulfillment/store.h"

namespace emporium::fulfillment {

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_fulfillment",
       R"sql(
CREATE TABLE shipments (
  shipment_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE,
  carrier TEXT NOT NULL,
  service TEXT NOT NULL,
  tracking_number TEXT,
  label_url TEXT NOT NULL,
  status TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX shipments_tracking ON shipments (carrier, tracking_number);
CREATE TABLE shipment_events (
  shipment_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  at TEXT NOT NULL,
  description TEXT NOT NULL,
  PRIMARY KEY (shipment_id, seq)
);
CREATE TABLE carrier_webhooks (
  carrier TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (carrier, event_id)
);
CREATE TABLE order_contacts (
  order_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  order_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
CREATE INDEX notifications_pending ON notifications (sent_at, seq);
)sql",
       "", ""},
  };
  return kMigrations;
}

}  // namespace emporium::fulfillment
