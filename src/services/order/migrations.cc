// Order's schema. Portable SQL for SQLite and PostgreSQL. Times are Unix milliseconds.
// orders.address_sealed is the shipping address sealed with the module's data key (AEAD bound to
// the order id); no card data exists here: cards are tokenized before an order is stored.
#include "services/order/store.h"

namespace emporium::order {

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_orders",
       R"sql(
CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  reason_detail TEXT NOT NULL,
  items_json TEXT NOT NULL,
  subtotal BIGINT NOT NULL,
  total BIGINT NOT NULL,
  currency TEXT NOT NULL,
  address_sealed TEXT NOT NULL,
  shipping_country TEXT NOT NULL,
  method_token TEXT NOT NULL,
  card_brand TEXT NOT NULL,
  card_last4 TEXT NOT NULL,
  billing_country TEXT NOT NULL,
  client_ip TEXT NOT NULL,
  payment_id TEXT NOT NULL,
  payment_status TEXT NOT NULL,
  next_action_json TEXT NOT NULL,
  reservation_id TEXT NOT NULL,
  stock_state TEXT NOT NULL,
  shipment_id TEXT NOT NULL,
  carrier TEXT NOT NULL,
  tracking_number TEXT NOT NULL,
  fraud_decision TEXT NOT NULL,
  fraud_reasons_json TEXT NOT NULL,
  step TEXT NOT NULL,
  final_status TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  step_started_at BIGINT NOT NULL,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  version BIGINT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX orders_idempotency ON orders (user_id, idempotency_key);
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_due ON orders (step, next_attempt_at);
CREATE INDEX orders_status ON orders (status, created_at);
CREATE TABLE order_history (
  order_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (order_id, seq)
);
)sql",
       "", ""},
      {2, "shipping_and_provider",
       R"sql(
ALTER TABLE orders ADD COLUMN shipping BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN payment_provider TEXT NOT NULL DEFAULT '';
)sql",
       "", ""},
      {3, "client_context",
       R"sql(
ALTER TABLE orders ADD COLUMN client_json TEXT NOT NULL DEFAULT '{}';
)sql",
       "", ""},
  };
  return kMigrations;
}

}  // namespace emporium::order
