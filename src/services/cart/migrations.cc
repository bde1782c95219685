// Cart's schema. Portable SQL for SQLite and PostgreSQL. cart_changes.seq is the cart's version
// after the change: per subject, gapless and in commit order (the cart row serialises writers).
#include "services/cart/store.h"

namespace emporium::cart {

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_cart",
       R"sql(
CREATE TABLE carts (
  subject TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE cart_items (
  subject TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  added_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (subject, product_id)
);
CREATE TABLE cart_changes (
  subject TEXT NOT NULL,
  seq BIGINT NOT NULL,
  event_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (subject, seq)
);
CREATE TABLE wishlist_items (
  subject TEXT NOT NULL,
  product_id TEXT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (subject, product_id)
);
)sql",
       "", ""},
  };
  return kMigrations;
}

}  // namespace emporium::cart
