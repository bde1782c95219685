// Store: stock per warehouse and reservations.
#include "services/catalog/store.h"

namespace emporium::catalog {

Result<bool> Store::WarehouseExists(sql::Tx& tx, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT 1 FROM warehouses WHERE id = $1", {id}));
  return !rs.rows.empty();
}

Result<std::vector<StockLevel>> Store::Stock(sql::Tx& tx, const std::string& product_id) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT warehouse_id, on_hand, reserved FROM inventory "
                                         "WHERE product_id = $1 ORDER BY warehouse_id",
                                         {product_id}));
  std::vector<StockLevel> out;
  for (const auto& r : rs.rows) out.push_back({r.Text(0), r.Int(1), r.Int(2)});
  return out;
}

Status Store::SetOnHand(sql::Tx& tx, const std::string& product_id, const std::string& warehouse_id,
                        int64_t on_hand) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       tx.Query("SELECT reserved FROM inventory WHERE product_id = $1 AND warehouse_id = $2",
                                {product_id, warehouse_id}));
  if (rs.rows.empty()) {
    return tx.Exec(
        "INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved) VALUES ($1, $2, $3, 0)",
        {product_id, warehouse_id, on_hand});
  }
  int64_t reserved = rs.rows[0].Int(0);
  if (on_hand < reserved) {
    return FailedPrecondition(std::to_string(reserved) + " units are reserved in " + warehouse_id);
  }
  return tx.Exec("UPDATE inventory SET on_hand = $3 WHERE product_id = $1 AND warehouse_id = $2",
                 {product_id, warehouse_id, on_hand});
}

Status Store::Reserve(sql::Tx& tx, const std::string& product_id, const std::string& warehouse_id,
                      int64_t quantity) {
  // The guard in the WHERE clause makes the update itself refuse to oversell, independent of
  // what the caller read before.
  EMP_ASSIGN_OR_RETURN(auto rs,
                       tx.Query("UPDATE inventory SET reserved = reserved + $3 "
                                "WHERE product_id = $1 AND warehouse_id = $2 AND on_hand - reserved >= $3",
                                {product_id, warehouse_id, quantity}));
  if (rs.affected != 1) return Conflict("stock of " + product_id + " in " + warehouse_id + " changed");
  return Status::Ok();
}

Status Store::Unreserve(sql::Tx& tx, const std::string& product_id, const std::string& warehouse_id,
                        int64_t quantity, bool ship) {
  const char* sql = ship ? "UPDATE inventory SET reserved = reserved - $3, on_hand = on_hand - $3 "
                           "WHERE product_id = $1 AND warehouse_id = $2 AND reserved >= $3"
                         : "UPDATE inventory SET reserved = reserved - $3 "
                           "WHERE product_id = $1 AND warehouse_id = $2 AND reserved >= $3";
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query(sql, {product_id, warehouse_id, quantity}));
  if (rs.affected != 1) {
    return Internal("inventory of " + product_id + " in " + warehouse_id +
                    " holds less than its reservations");
  }
  return Status::Ok();
}

Result<int64_t> Store::RefreshAvailable(sql::Tx& tx, const std::string& product_id) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT COALESCE(SUM(on_hand - reserved), 0) FROM inventory "
                                         "WHERE product_id = $1",
                                         {product_id}));
  int64_t available = rs.rows.empty() ? 0 : rs.rows[0].Int(0);
  EMP_RETURN_IF_ERROR(tx.Exec("UPDATE products SET available = $2 WHERE id = $1", {product_id, available}));
  return available;
}

Status Store::InsertReservation(sql::Tx& tx, const Reservation& r,
                                const std::vector<Allocation>& allocations) {
  EMP_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO reservations (id, order_id, state, expires_at, created_at, updated_at) "
              "VALUES ($1, $2, $3, $4, $5, $5)",
              {r.id, r.order_id, r.state, r.expires_at, r.created_at}));
  for (const Allocation& a : allocations) {
    EMP_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO reservation_items (reservation_id, product_id, warehouse_id, quantity) "
                "VALUES ($1, $2, $3, $4)",
                {r.id, a.product_id, a.warehouse_id, a.quantity}));
  }
  return Status::Ok();
}

Result<std::optional<Reservation>> Store::ReservationById(sql::Tx& tx, const std::string& id,
                                                          std::vector<Allocation>* allocations) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       tx.Query("SELECT id, order_id, state, expires_at, created_at FROM reservations "
                                "WHERE id = $1",
                                {id}));
  if (rs.rows.empty()) return std::optional<Reservation>();
  Reservation r;
  r.id = rs.rows[0].Text(0);
  r.order_id = rs.rows[0].Text(1);
  r.state = rs.rows[0].Text(2);
  r.expires_at = rs.rows[0].Int(3);
  r.created_at = rs.rows[0].Int(4);
  EMP_ASSIGN_OR_RETURN(auto items,
                       tx.Query("SELECT product_id, warehouse_id, quantity FROM reservation_items "
                                "WHERE reservation_id = $1 ORDER BY product_id, warehouse_id",
                                {id}));
  for (const auto& row : items.rows) {
    std::string product = row.Text(0);
    int64_t q = row.Int(2);
    if (allocations) allocations->push_back({product, row.Text(1), q});
    if (!r.items.empty() && r.items.back().product_id == product) {
      r.items.back().quantity += q;
    } else {
      r.items.push_back({product, q});
    }
  }
  return std::optional<Reservation>(std::move(r));
}

Result<std::optional<Reservation>> Store::LiveReservationForOrder(sql::Tx& tx, const std::string& order_id) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("SELECT id FROM reservations WHERE order_id = $1 "
                                         "AND state IN ('held', 'committed') ORDER BY created_at DESC",
                                         {order_id}));
  if (rs.rows.empty()) return std::optional<Reservation>();
  return ReservationById(tx, rs.rows[0].Text(0));
}

Status Store::SetReservationState(sql::Tx& tx, const std::string& id, const std::string& state, int64_t now) {
  return tx.Exec("UPDATE reservations SET state = $2, updated_at = $3 WHERE id = $1", {id, state, now});
}

Result<std::vector<std::string>> Store::ExpiredHeld(sql::Tx& tx, int64_t now, int limit) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       tx.Query("SELECT id FROM reservations WHERE state = 'held' AND expires_at <= $1 "
                                "ORDER BY expires_at LIMIT $2",
                                {now, static_cast<int64_t>(limit)}));
  std::vector<std::string> out;
  for (const auto& r : rs.rows) out.push_back(r.Text(0));
  return out;
}

}  // namespace emporium::catalog
