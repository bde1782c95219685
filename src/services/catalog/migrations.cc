// Catalog's schema. Portable SQL for SQLite and PostgreSQL. Times are Unix milliseconds.
//
// The CHECK on inventory is the last line of defence against overselling: whatever the code
// does, a row can never hold more reserved units than it has on hand, nor a negative count.
#include "services/catalog/store.h"

namespace emporium::catalog {

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_catalog",
       R"sql(
CREATE TABLE sequences (
  name TEXT PRIMARY KEY,
  next_value BIGINT NOT NULL
);
INSERT INTO sequences (name, next_value) VALUES ('product', 1);
INSERT INTO sequences (name, next_value) VALUES ('category', 1);
CREATE TABLE categories (
  id TEXT PRIMARY KEY,
  parent_id TEXT NOT NULL,
  name TEXT NOT NULL,
  path_names TEXT NOT NULL,
  path_ids TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (parent_id, name)
);
CREATE TABLE products (
  num BIGINT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  sku TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  brand TEXT NOT NULL,
  category_id TEXT NOT NULL REFERENCES categories(id),
  price_amount BIGINT NOT NULL CHECK (price_amount >= 0),
  currency TEXT NOT NULL,
  attributes TEXT NOT NULL,
  rating_centi BIGINT NOT NULL,
  rating_count BIGINT NOT NULL,
  available BIGINT NOT NULL,
  deleted INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX products_by_price ON products(price_amount, num);
CREATE INDEX products_by_rating ON products(rating_centi, num);
CREATE INDEX products_by_created ON products(created_at, num);
CREATE INDEX products_by_category ON products(category_id, num);
CREATE INDEX products_by_brand ON products(brand, num);
CREATE TABLE warehouses (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL
);
INSERT INTO warehouses (id, name) VALUES ('wh-1', 'East');
INSERT INTO warehouses (id, name) VALUES ('wh-2', 'West');
CREATE TABLE inventory (
  product_id TEXT NOT NULL,
  warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
  on_hand BIGINT NOT NULL,
  reserved BIGINT NOT NULL,
  PRIMARY KEY (product_id, warehouse_id),
  CHECK (reserved >= 0 AND on_hand >= reserved)
);
CREATE TABLE reservations (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  state TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX reservations_by_state ON reservations(state, expires_at);
CREATE INDEX reservations_by_order ON reservations(order_id);
CREATE TABLE reservation_items (
  reservation_id TEXT NOT NULL REFERENCES reservations(id),
  product_id TEXT NOT NULL,
  warehouse_id TEXT NOT NULL,
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (reservation_id, product_id, warehouse_id)
);
)sql",
       "", ""},
  };
  return kMigrations;
}

}  // namespace emporium::catalog
