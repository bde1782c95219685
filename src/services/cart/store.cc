#include "services/cart/store.h"

#include "platform/bus/outbox.h"
#include "platform/core/random.h"

namespace emporium::cart {

Status Store::Migrate() {
  EMP_RETURN_IF_ERROR(sql::Migrate(db_, "cart", Migrations()));
  return bus::MigrateOutbox(db_);
}

Result<CartState> Store::LoadCart(sql::Tx& tx, const std::string& subject, int64_t now, bool create) {
  CartState cart;
  cart.subject = subject;
  EMP_ASSIGN_OR_RETURN(sql::ResultSet head,
                       tx.Query("SELECT id, version, updated_at FROM carts WHERE subject = $1", {subject}));
  if (head.rows.empty()) {
    if (!create) return cart;
    // ON CONFLICT: a concurrent first write of the same subject (PostgreSQL) must not fail.
    EMP_RETURN_IF_ERROR(
        tx.Exec("INSERT INTO carts (subject, id, version, created_at, updated_at) VALUES ($1, $2, 0, $3, $3) "
                "ON CONFLICT (subject) DO NOTHING",
                {subject, NewUuidV7(), now}));
    EMP_ASSIGN_OR_RETURN(head,
                         tx.Query("SELECT id, version, updated_at FROM carts WHERE subject = $1", {subject}));
    if (head.rows.empty()) return Internal("cart row missing after insert");
  }
  cart.id = head.rows[0].Text(0);
  cart.version = head.rows[0].Int(1);
  cart.updated_at = head.rows[0].Int(2);
  EMP_ASSIGN_OR_RETURN(sql::ResultSet lines,
                       tx.Query("SELECT product_id, quantity, added_at FROM cart_items WHERE subject = $1 "
                                "ORDER BY added_at, product_id",
                                {subject}));
  for (const sql::Row& r : lines.rows) {
    cart.items.push_back({r.Text(0), static_cast<int>(r.Int(1)), r.Int(2)});
  }
  return cart;
}

Status Store::SetLine(sql::Tx& tx, const std::string& subject, const std::string& product_id, int quantity,
                      int64_t now) {
  if (quantity <= 0) {
    return tx.Exec("DELETE FROM cart_items WHERE subject = $1 AND product_id = $2", {subject, product_id});
  }
  return tx.Exec(
      "INSERT INTO cart_items (subject, product_id, quantity, added_at, updated_at) VALUES ($1, $2, $3, $4, "
      "$4) "
      "ON CONFLICT (subject, product_id) DO UPDATE SET quantity = excluded.quantity, updated_at = "
      "excluded.updated_at",
      {subject, product_id, static_cast<int64_t>(quantity), now});
}

Status Store::ClearLines(sql::Tx& tx, const std::string& subject) {
  return tx.Exec("DELETE FROM cart_items WHERE subject = $1", {subject});
}

Status Store::SaveVersion(sql::Tx& tx, const std::string& subject, int64_t version, int64_t now) {
  return tx.Exec("UPDATE carts SET version = $2, updated_at = $3 WHERE subject = $1",
                 {subject, version, now});
}

Status Store::AddChange(sql::Tx& tx, const Change& change, int64_t now, const Retention& retention) {
  EMP_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO cart_changes (subject, seq, event_json, created_at) VALUES ($1, $2, $3, $4)",
              {change.subject, change.seq, change.json, now}));
  // Trimming on every write keeps the log bounded without a sweeper; the primary key makes it a
  // range delete on this subject only.
  return tx.Exec("DELETE FROM cart_changes WHERE subject = $1 AND (seq <= $2 OR created_at < $3)",
                 {change.subject, change.seq - retention.max_changes, now - retention.max_age_ms});
}

Result<std::vector<Change>> Store::ChangesAfter(const std::string& subject, int64_t after, int limit) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       db_.Query("SELECT seq, event_json FROM cart_changes WHERE subject = $1 AND seq > $2 "
                                 "ORDER BY seq LIMIT $3",
                                 {subject, after, static_cast<int64_t>(limit)}));
  std::vector<Change> out;
  for (const sql::Row& r : rs.rows) out.push_back({subject, r.Int(0), r.Text(1)});
  return out;
}

Result<std::optional<Change>> Store::FindChange(const std::string& subject, int64_t seq) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db_.Query("SELECT event_json FROM cart_changes WHERE subject = $1 AND seq = $2", {subject, seq}));
  if (rs.rows.empty()) return std::optional<Change>();
  return std::optional<Change>(Change{subject, seq, rs.rows[0].Text(0)});
}

Result<int64_t> Store::Version(const std::string& subject) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       db_.Query("SELECT version FROM carts WHERE subject = $1", {subject}));
  return rs.rows.empty() ? int64_t{0} : rs.rows[0].Int(0);
}

Result<std::vector<WishItem>> Store::Wishlist(const std::string& subject) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       db_.Query("SELECT product_id, added_at FROM wishlist_items WHERE subject = $1 "
                                 "ORDER BY added_at DESC, product_id",
                                 {subject}));
  std::vector<WishItem> out;
  for (const sql::Row& r : rs.rows) out.push_back({r.Text(0), r.Int(1)});
  return out;
}

Result<bool> Store::AddWish(sql::Tx& tx, const std::string& subject, const std::string& product_id,
                            int64_t now) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      tx.Query("INSERT INTO wishlist_items (subject, product_id, added_at) VALUES ($1, $2, $3) "
               "ON CONFLICT (subject, product_id) DO NOTHING",
               {subject, product_id, now}));
  return rs.affected > 0;
}

Result<bool> Store::RemoveWish(const std::string& subject, const std::string& product_id) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db_.Query("DELETE FROM wishlist_items WHERE subject = $1 AND product_id = $2", {subject, product_id}));
  return rs.affected > 0;
}

}  // namespace emporium::cart
