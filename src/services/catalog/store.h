// Catalog persistence: categories, products, stock per warehouse and reservations.
//
// Every function takes the caller's transaction, so a state change, the denormalised
// products.available column and the outbox events commit together. Thread-safety: stateless
// apart from the Database reference; safe from many threads.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform/sql/sql.h"
#include "services/catalog/model.h"

namespace emporium::catalog {

std::span<const sql::Migration> Migrations();

// "p-000123" for 123 (at least six digits).
std::string ProductId(int64_t num);

class Store {
 public:
  explicit Store(sql::Database& db) : db_(db) {}
  sql::Database& db() { return db_; }
  // Applies catalog's and the outbox's migrations.
  Status Migrate();

  // Reserves `count` consecutive numbers of sequence `name`; returns the first.
  Result<int64_t> NextNumbers(sql::Tx& tx, const std::string& name, int64_t count);

  // Categories.
  Result<std::optional<Category>> CategoryById(sql::Tx& tx, const std::string& id);
  Result<std::vector<Category>> AllCategories(sql::Tx& tx);
  // The child of parent_id ("" for a root) named name, created when missing.
  Result<Category> EnsureCategory(sql::Tx& tx, const std::string& parent_id, const std::string& name,
                                  int64_t now);
  // Product counts (not deleted) per category id (direct members only).
  Result<std::vector<std::pair<std::string, int64_t>>> CategoryCounts(sql::Tx& tx);

  // Products. InsertProduct fills num/id/times/version of the result; `num` must come from
  // NextNumbers("product"). kAlreadyExists for a duplicate sku.
  Result<Product> InsertProduct(sql::Tx& tx, int64_t num, const NewProduct& in, const Category& category,
                                int64_t now);
  Result<std::optional<Product>> ProductById(sql::Tx& tx, const std::string& id);
  Result<bool> SkuExists(sql::Tx& tx, const std::string& sku);
  // Writes every mutable field of p (version and updated_at as given).
  Status UpdateProduct(sql::Tx& tx, const Product& p);
  Status MarkDeleted(sql::Tx& tx, const std::string& id, int64_t now);
  // kInvalidArgument for a page token that does not belong to this sort.
  Result<ProductPage> ListProducts(sql::Tx& tx, const ProductQuery& q);
  Result<int64_t> CountProducts(sql::Tx& tx);

  // Inventory.
  Result<bool> WarehouseExists(sql::Tx& tx, const std::string& id);
  Result<std::vector<StockLevel>> Stock(sql::Tx& tx, const std::string& product_id);
  // Sets on_hand of one warehouse row (created when missing). kFailedPrecondition when it would
  // fall below what is reserved there.
  Status SetOnHand(sql::Tx& tx, const std::string& product_id, const std::string& warehouse_id,
                   int64_t on_hand);
  // reserved += delta where on_hand - reserved >= delta; kConflict when the row cannot take it.
  Status Reserve(sql::Tx& tx, const std::string& product_id, const std::string& warehouse_id,
                 int64_t quantity);
  // reserved -= quantity (release) or, with ship=true, on_hand and reserved -= quantity (commit).
  Status Unreserve(sql::Tx& tx, const std::string& product_id, const std::string& warehouse_id,
                   int64_t quantity, bool ship);
  // Recomputes products.available from the inventory rows; returns it.
  Result<int64_t> RefreshAvailable(sql::Tx& tx, const std::string& product_id);

  // Reservations. Items are per warehouse (allocation), as stored.
  struct Allocation {
    std::string product_id;
    std::string warehouse_id;
    int64_t quantity = 0;
  };
  Status InsertReservation(sql::Tx& tx, const Reservation& r, const std::vector<Allocation>& allocations);
  Result<std::optional<Reservation>> ReservationById(sql::Tx& tx, const std::string& id,
                                                     std::vector<Allocation>* allocations = nullptr);
  Result<std::optional<Reservation>> LiveReservationForOrder(sql::Tx& tx, const std::string& order_id);
  Status SetReservationState(sql::Tx& tx, const std::string& id, const std::string& state, int64_t now);
  // Ids of held reservations whose expires_at <= now (at most `limit`).
  Result<std::vector<std::string>> ExpiredHeld(sql::Tx& tx, int64_t now, int limit);

 private:
  sql::Database& db_;
};

}  // namespace emporium::catalog
