#include "services/order/store.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"

namespace emporium::order {
namespace {

constexpr std::string_view kColumns =
    "id, user_id, status, reason, reason_detail, items_json, subtotal, total, currency, address_sealed, "
    "shipping_country, method_token, card_brand, card_last4, billing_country, client_ip, payment_id, "
    "payment_status, next_action_json, reservation_id, stock_state, shipment_id, carrier, tracking_number, "
    "fraud_decision, fraud_reasons_json, step, final_status, attempts, next_attempt_at, step_started_at, "
    "shipping, payment_provider, cancel_requested, version, idempotency_key, request_hash, created_at, "
    "updated_at, client_json";

std::string ItemsJson(const std::vector<Item>& items) {
  boost::json::array a;
  for (const Item& i : items) {
    a.push_back(boost::json::object{{"product_id", i.product_id},
                                    {"title", i.title},
                                    {"quantity", i.quantity},
                                    {"unit_price", i.unit_price}});
  }
  return json::Dump(a);
}

std::vector<Item> ParseItems(const std::string& text) {
  std::vector<Item> out;
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_array()) return out;
  for (const auto& e : v->as_array()) {
    const auto& o = e.as_object();
    out.push_back(Item{std::string(o.at("product_id").as_string()), std::string(o.at("title").as_string()),
                       o.at("quantity").as_int64(), o.at("unit_price").as_int64()});
  }
  return out;
}

std::string AddressContext(const std::string& id) {
  return "orders.address:" + id;
}

// Values for every column but cancel_requested, in kColumns order without it, id first.
std::vector<sql::Value> Values(const Order& o, const std::string& sealed) {
  // Built one by one: a large initializer list of variants trips GCC 12's maybe-uninitialized.
  std::vector<sql::Value> v;
  v.reserve(40);
  for (const std::string* t : {&o.id, &o.user_id, &o.status, &o.reason, &o.reason_detail}) v.emplace_back(*t);
  v.emplace_back(ItemsJson(o.items));
  v.emplace_back(o.subtotal);
  v.emplace_back(o.total);
  v.emplace_back(o.currency);
  v.emplace_back(sealed);
  for (const std::string* t :
       {&o.shipping_country, &o.method_token, &o.card_brand, &o.card_last4, &o.billing_country, &o.client_ip,
        &o.payment_id, &o.payment_status, &o.next_action_json, &o.reservation_id, &o.stock_state,
        &o.shipment_id, &o.carrier, &o.tracking_number, &o.fraud_decision, &o.fraud_reasons_json, &o.step,
        &o.final_status})
    v.emplace_back(*t);
  v.emplace_back(o.attempts);
  v.emplace_back(o.next_attempt_ms);
  v.emplace_back(o.step_started_ms);
  v.emplace_back(o.shipping);
  v.emplace_back(o.payment_provider);
  return v;
}

}  // namespace

Status Store::Migrate() {
  EMP_RETURN_IF_ERROR(sql::Migrate(db_, "order", Migrations()));
  return bus::MigrateOutbox(db_);
}

Status Store::Insert(sql::Tx& tx, const Order& o) {
  EMP_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(o.address_json, AddressContext(o.id)));
  std::vector<sql::Value> v = Values(o, sealed);
  v.push_back(int64_t{0});
  v.push_back(o.version);
  v.push_back(o.idempotency_key);
  v.push_back(o.request_hash);
  v.push_back(o.created_ms);
  v.push_back(o.updated_ms);
  v.push_back(o.client_json);
  std::string params;
  for (size_t i = 1; i <= v.size(); ++i) params += (i > 1 ? ",$" : "$") + std::to_string(i);
  return tx.Exec("INSERT INTO orders (" + std::string(kColumns) + ") VALUES (" + params + ")", v);
}

Result<Order> Store::FromRow(const sql::Row& r) {
  Order o;
  size_t i = 0;
  o.id = r.Text(i++);
  o.user_id = r.Text(i++);
  o.status = r.Text(i++);
  o.reason = r.Text(i++);
  o.reason_detail = r.Text(i++);
  o.items = ParseItems(r.Text(i++));
  o.subtotal = r.Int(i++);
  o.total = r.Int(i++);
  o.currency = r.Text(i++);
  EMP_ASSIGN_OR_RETURN(o.address_json, aead_.Open(r.Text(i++), AddressContext(o.id)));
  o.shipping_country = r.Text(i++);
  o.method_token = r.Text(i++);
  o.card_brand = r.Text(i++);
  o.card_last4 = r.Text(i++);
  o.billing_country = r.Text(i++);
  o.client_ip = r.Text(i++);
  o.payment_id = r.Text(i++);
  o.payment_status = r.Text(i++);
  o.next_action_json = r.Text(i++);
  o.reservation_id = r.Text(i++);
  o.stock_state = r.Text(i++);
  o.shipment_id = r.Text(i++);
  o.carrier = r.Text(i++);
  o.tracking_number = r.Text(i++);
  o.fraud_decision = r.Text(i++);
  o.fraud_reasons_json = r.Text(i++);
  o.step = r.Text(i++);
  o.final_status = r.Text(i++);
  o.attempts = r.Int(i++);
  o.next_attempt_ms = r.Int(i++);
  o.step_started_ms = r.Int(i++);
  o.shipping = r.Int(i++);
  o.payment_provider = r.Text(i++);
  o.cancel_requested = r.Int(i++) != 0;
  o.version = r.Int(i++);
  o.idempotency_key = r.Text(i++);
  o.request_hash = r.Text(i++);
  o.created_ms = r.Int(i++);
  o.updated_ms = r.Int(i++);
  o.client_json = r.Text(i++);
  return o;
}

Result<std::optional<Order>> Store::Load(sql::Tx& tx, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       tx.Query("SELECT " + std::string(kColumns) + " FROM orders WHERE id = $1", {id}));
  if (rs.rows.empty()) return std::optional<Order>();
  EMP_ASSIGN_OR_RETURN(Order o, FromRow(rs.rows[0]));
  return std::optional<Order>(std::move(o));
}

Result<std::optional<Order>> Store::Get(const std::string& id) {
  std::optional<Order> out;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(out, Load(tx, id));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<Order>> Store::FindByIdempotencyKey(const std::string& user_id, const std::string& key) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db_.Query("SELECT id FROM orders WHERE user_id = $1 AND idempotency_key = $2", {user_id, key}));
  if (rs.rows.empty()) return std::optional<Order>();
  return Get(rs.rows[0].Text(0));
}

Result<bool> Store::Save(sql::Tx& tx, Order& o) {
  EMP_ASSIGN_OR_RETURN(std::string sealed, aead_.Seal(o.address_json, AddressContext(o.id)));
  std::vector<sql::Value> v = Values(o, sealed);
  v.push_back(o.updated_ms);
  v.push_back(o.version);
  // Column i+1 of kColumns (after id) gets $i+1; updated_at and the version check follow.
  std::string cols(kColumns);
  std::vector<std::string> names;
  for (size_t p = 0; p < cols.size();) {
    size_t c = cols.find(',', p);
    std::string n = cols.substr(p, c == std::string::npos ? std::string::npos : c - p);
    while (!n.empty() && n.front() == ' ') n.erase(0, 1);
    names.push_back(n);
    if (c == std::string::npos) break;
    p = c + 1;
  }
  std::string sql = "UPDATE orders SET ";
  size_t n_values = v.size() - 2;  // without updated_at and version
  for (size_t i = 1; i < n_values; ++i) sql += names[i] + " = $" + std::to_string(i + 1) + ", ";
  sql += "updated_at = $" + std::to_string(n_values + 1) +
         ", version = version + 1 WHERE id = $1 AND version = $" + std::to_string(n_values + 2);
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs, tx.Query(sql, v));
  if (rs.affected != 1) return false;
  ++o.version;
  return true;
}

Status Store::AddHistory(sql::Tx& tx, const std::string& order_id, const std::string& status,
                         const std::string& reason, int64_t at_ms) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      tx.Query("SELECT COALESCE(MAX(seq), 0) FROM order_history WHERE order_id = $1", {order_id}));
  int64_t seq = rs.rows.empty() ? 1 : rs.rows[0].Int(0) + 1;
  return tx.Exec("INSERT INTO order_history (order_id, seq, status, reason, at) VALUES ($1, $2, $3, $4, $5)",
                 {order_id, seq, status, reason, at_ms});
}

Result<std::vector<HistoryEntry>> Store::History(const std::string& order_id) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db_.Query("SELECT status, reason, at FROM order_history WHERE order_id = $1 ORDER BY seq", {order_id}));
  std::vector<HistoryEntry> out;
  for (const auto& r : rs.rows) out.push_back(HistoryEntry{r.Text(0), r.Text(1), r.Int(2)});
  return out;
}

Result<bool> Store::RequestCancel(sql::Tx& tx, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      tx.Query("UPDATE orders SET cancel_requested = 1 WHERE id = $1 AND cancel_requested = 0", {id}));
  return rs.affected == 1;
}

Result<std::vector<Order>> Store::List(const ListFilter& f) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM orders WHERE 1 = 1";
  std::vector<sql::Value> params;
  auto add = [&](std::string_view cond, sql::Value v) {
    params.push_back(std::move(v));
    sql += " AND " + std::string(cond) + " $" + std::to_string(params.size());
  };
  if (!f.user_id.empty()) add("user_id =", f.user_id);
  if (!f.status.empty()) add("status =", f.status);
  if (f.before_ms > 0) {
    params.push_back(f.before_ms);
    params.push_back(f.before_id);
    const std::string ms = "$" + std::to_string(params.size() - 1), id = "$" + std::to_string(params.size());
    sql += " AND (created_at < " + ms + " OR (created_at = " + ms + " AND id < " + id + "))";
  }
  if (f.needs_attention) sql += " AND payment_status IN ('refund_failed', 'void_failed')";
  sql += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(std::clamp(f.limit, 1, 200));
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs, db_.Query(sql, params));
  std::vector<Order> out;
  for (const auto& r : rs.rows) {
    EMP_ASSIGN_OR_RETURN(Order o, FromRow(r));
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<std::string>> Store::Due(int64_t now_ms, int limit) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db_.Query(
          "SELECT id FROM orders WHERE (step IN ('reserve','fraud','authorize','await_action','capture',"
          "'commit_stock','ship','refund','void','release') OR (cancel_requested = 1 AND step = 'review')) "
          "AND next_attempt_at <= $1 "
          "ORDER BY next_attempt_at LIMIT " +
              std::to_string(limit),
          {now_ms}));
  std::vector<std::string> out;
  for (const auto& r : rs.rows) out.push_back(r.Text(0));
  return out;
}

}  // namespace emporium::order
