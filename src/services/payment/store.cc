#include "services/payment/store.h"

#include "platform/bus/outbox.h"

namespace emporium::payment {
namespace {

constexpr std::string_view kPaymentColumns =
    "id, order_id, amount, currency, method_token, status, provider, provider_ref, capture_ref, "
    "decline_code, "
    "action_url, captured, refunded, lease_until, created_at, updated_at";

Payment FromRow(const sql::Row& r) {
  return Payment{r.Text(0), r.Text(1), r.Int(2),   r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7),
                 r.Text(8), r.Text(9), r.Text(10), r.Int(11), r.Int(12), r.Int(13), r.Int(14), r.Int(15)};
}

Result<std::optional<Payment>> One(sql::Tx& tx, const std::string& column, const std::string& value) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs, tx.Query("SELECT " + std::string(kPaymentColumns) +
                                                       " FROM payments WHERE " + column + " = $1",
                                                   {value}));
  if (rs.rows.empty()) return std::optional<Payment>();
  return std::optional<Payment>(FromRow(rs.rows[0]));
}

}  // namespace

std::span<const sql::Migration> Migrations() {
  static const sql::Migration kMigrations[] = {
      {1, "create_payment",
       R"sql(
CREATE TABLE payment_methods (
  method_token TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  brand TEXT NOT NULL,
  last4 TEXT NOT NULL,
  exp_month BIGINT NOT NULL,
  exp_year BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE payment_method_tokens (
  method_token TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_token TEXT NOT NULL,
  PRIMARY KEY (method_token, provider)
);
CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  method_token TEXT NOT NULL,
  status TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_ref TEXT NOT NULL,
  capture_ref TEXT NOT NULL,
  decline_code TEXT NOT NULL,
  action_url TEXT NOT NULL,
  captured BIGINT NOT NULL,
  refunded BIGINT NOT NULL,
  lease_until BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE payment_attempts (
  payment_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  outcome TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (payment_id, provider)
);
CREATE TABLE payment_refunds (
  id TEXT PRIMARY KEY,
  payment_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  amount BIGINT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (payment_id, idempotency_key)
);
CREATE TABLE payment_webhook_inbox (
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (provider, event_id)
);
)sql",
       "", ""},
      {2, "create_chargebacks",
       R"sql(
CREATE TABLE payment_chargebacks (
  id TEXT PRIMARY KEY,
  payment_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  dispute_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  reason TEXT NOT NULL,
  provider_reason TEXT NOT NULL,
  source TEXT NOT NULL,
  note TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (provider, dispute_id),
  UNIQUE (payment_id, idempotency_key)
);
CREATE INDEX payments_provider_ref ON payments (provider, provider_ref);
CREATE INDEX payments_capture_ref ON payments (provider, capture_ref);
)sql",
       "", ""},
  };
  return kMigrations;
}

Status Migrate(sql::Database& db) {
  EMP_RETURN_IF_ERROR(sql::Migrate(db, "payment", Migrations()));
  return bus::MigrateOutbox(db);
}

Result<std::optional<Payment>> PaymentByOrder(sql::Tx& tx, const std::string& order_id) {
  return One(tx, "order_id", order_id);
}

Result<std::optional<Payment>> PaymentById(sql::Tx& tx, const std::string& id) {
  return One(tx, "id", id);
}

Status InsertPayment(sql::Tx& tx, const Payment& p) {
  return tx.Exec("INSERT INTO payments (" + std::string(kPaymentColumns) +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                 {p.id, p.order_id, p.amount, p.currency, p.method_token, p.status, p.provider,
                  p.provider_ref, p.capture_ref, p.decline_code, p.action_url, p.captured, p.refunded,
                  p.lease_until, p.created_at, p.updated_at});
}

Status UpdatePayment(sql::Tx& tx, const Payment& p) {
  return tx.Exec(
      "UPDATE payments SET status = $2, provider = $3, provider_ref = $4, capture_ref = $5, decline_code = "
      "$6, "
      "action_url = $7, captured = $8, refunded = $9, lease_until = $10, updated_at = $11 WHERE id = $1",
      {p.id, p.status, p.provider, p.provider_ref, p.capture_ref, p.decline_code, p.action_url, p.captured,
       p.refunded, p.lease_until, p.updated_at});
}

Result<std::vector<Payment>> AllPayments(sql::Database& db) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs, db.Query("SELECT " + std::string(kPaymentColumns) +
                                                   " FROM payments ORDER BY created_at"));
  std::vector<Payment> out;
  for (const sql::Row& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

Result<std::vector<Payment>> StalePending(sql::Database& db, int64_t lease_before_ms) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       db.Query("SELECT " + std::string(kPaymentColumns) +
                                    " FROM payments WHERE status = 'pending' AND lease_until < $1",
                                {lease_before_ms}));
  std::vector<Payment> out;
  for (const sql::Row& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

Status InsertMethod(sql::Tx& tx, const Method& m, int64_t now_ms) {
  EMP_RETURN_IF_ERROR(tx.Exec(
      "INSERT INTO payment_methods (method_token, subject, brand, last4, exp_month, exp_year, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {m.method_token, m.subject, m.brand, m.last4, m.exp_month, m.exp_year, now_ms}));
  for (const auto& [provider, token] : m.provider_tokens) {
    EMP_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO payment_method_tokens (method_token, provider, provider_token) VALUES ($1, $2, $3)",
        {m.method_token, provider, token}));
  }
  return Status::Ok();
}

Result<std::optional<Method>> MethodByToken(sql::Database& db, const std::string& method_token) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db.Query("SELECT method_token, subject, brand, last4, exp_month, exp_year FROM payment_methods "
               "WHERE method_token = $1",
               {method_token}));
  if (rs.rows.empty()) return std::optional<Method>();
  const sql::Row& r = rs.rows[0];
  Method m{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.Int(5), {}};
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet tokens,
      db.Query("SELECT provider, provider_token FROM payment_method_tokens WHERE method_token = $1",
               {method_token}));
  for (const sql::Row& t : tokens.rows) m.provider_tokens[t.Text(0)] = t.Text(1);
  return std::optional<Method>(std::move(m));
}

Status SetAttempt(sql::Database& db, const std::string& payment_id, const std::string& order_id,
                  const std::string& provider, const std::string& outcome, int64_t now_ms) {
  return db.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                         tx.Query("UPDATE payment_attempts SET outcome = $3, updated_at = $4 "
                                  "WHERE payment_id = $1 AND provider = $2",
                                  {payment_id, provider, outcome, now_ms}));
    if (rs.affected > 0) return Status::Ok();
    return tx.Exec(
        "INSERT INTO payment_attempts (payment_id, order_id, provider, outcome, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $5)",
        {payment_id, order_id, provider, outcome, now_ms});
  });
}

Result<std::vector<Attempt>> UncertainAttempts(sql::Database& db, int64_t since_ms) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db.Query("SELECT payment_id, order_id, provider, outcome, created_at FROM payment_attempts "
               "WHERE outcome IN ('error', 'pending') AND created_at >= $1",
               {since_ms}));
  std::vector<Attempt> out;
  for (const sql::Row& r : rs.rows)
    out.push_back(Attempt{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4)});
  return out;
}

Result<std::optional<RefundRow>> RefundByKey(sql::Tx& tx, const std::string& payment_id,
                                             const std::string& key) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       tx.Query("SELECT id, payment_id, idempotency_key, amount, status FROM payment_refunds "
                                "WHERE payment_id = $1 AND idempotency_key = $2",
                                {payment_id, key}));
  if (rs.rows.empty()) return std::optional<RefundRow>();
  const sql::Row& r = rs.rows[0];
  return std::optional<RefundRow>(RefundRow{r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4)});
}

Status InsertRefund(sql::Tx& tx, const RefundRow& r, int64_t now_ms) {
  return tx.Exec(
      "INSERT INTO payment_refunds (id, payment_id, idempotency_key, amount, status, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {r.id, r.payment_id, r.idempotency_key, r.amount, r.status, now_ms});
}

Status MarkRefundSucceeded(sql::Tx& tx, const std::string& refund_id) {
  return tx.Exec("UPDATE payment_refunds SET status = 'succeeded' WHERE id = $1", {refund_id});
}

namespace {

constexpr std::string_view kChargebackColumns =
    "id, payment_id, order_id, provider, dispute_id, amount, currency, reason, provider_reason, source, "
    "note, "
    "idempotency_key, created_at";

Result<std::vector<Chargeback>> Chargebacks(sql::Tx& tx, const std::string& where,
                                            std::vector<sql::Value> args) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       tx.Query("SELECT " + std::string(kChargebackColumns) +
                                    " FROM payment_chargebacks WHERE " + where + " ORDER BY created_at, id",
                                args));
  std::vector<Chargeback> out;
  for (const sql::Row& r : rs.rows) {
    out.push_back(Chargeback{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Text(6),
                             r.Text(7), r.Text(8), r.Text(9), r.Text(10), r.Text(11), r.Int(12)});
  }
  return out;
}

Result<std::optional<Chargeback>> FirstOf(Result<std::vector<Chargeback>> all) {
  if (!all.ok()) return all.status();
  if (all->empty()) return std::optional<Chargeback>();
  return std::optional<Chargeback>(std::move(all->front()));
}

}  // namespace

Result<std::optional<Chargeback>> ChargebackByDispute(sql::Tx& tx, const std::string& provider,
                                                      const std::string& dispute_id) {
  return FirstOf(Chargebacks(tx, "provider = $1 AND dispute_id = $2", {provider, dispute_id}));
}

Result<std::optional<Chargeback>> ChargebackByKey(sql::Tx& tx, const std::string& payment_id,
                                                  const std::string& key) {
  return FirstOf(Chargebacks(tx, "payment_id = $1 AND idempotency_key = $2", {payment_id, key}));
}

Result<std::vector<Chargeback>> ChargebacksOf(sql::Tx& tx, const std::string& payment_id) {
  return Chargebacks(tx, "payment_id = $1", {payment_id});
}

Status InsertChargeback(sql::Tx& tx, const Chargeback& c) {
  return tx.Exec("INSERT INTO payment_chargebacks (" + std::string(kChargebackColumns) +
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                 {c.id, c.payment_id, c.order_id, c.provider, c.dispute_id, c.amount, c.currency, c.reason,
                  c.provider_reason, c.source, c.note, c.idempotency_key, c.created_at});
}

Result<std::optional<Payment>> PaymentByProviderRef(sql::Tx& tx, const std::string& provider,
                                                    const std::string& ref) {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      tx.Query("SELECT " + std::string(kPaymentColumns) +
                   " FROM payments WHERE provider = $1 AND (provider_ref = $2 OR capture_ref = $2)",
               {provider, ref}));
  if (rs.rows.empty()) return std::optional<Payment>();
  return std::optional<Payment>(FromRow(rs.rows[0]));
}

Result<bool> RecordWebhook(sql::Tx& tx, const std::string& provider, const std::string& event_id,
                           int64_t now_ms) {
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       tx.Query("SELECT 1 FROM payment_webhook_inbox WHERE provider = $1 AND event_id = $2",
                                {provider, event_id}));
  if (!rs.rows.empty()) return false;
  EMP_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO payment_webhook_inbox (provider, event_id, received_at) VALUES ($1, $2, $3)",
              {provider, event_id, now_ms}));
  return true;
}

}  // namespace emporium::payment
