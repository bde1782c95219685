// Payment's tables (its own database): stored methods and their per-provider tokens, payments
// (one per order), provider attempts (for the "never two authorizations" checks), refunds,
// chargebacks, and the webhook inbox (replay protection). No card number is ever a column. Functions taking a
// Tx run inside the caller's transaction. Thread-safety: as sql::Database.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/sql/sql.h"

namespace emporium::payment {

std::span<const sql::Migration> Migrations();
Status Migrate(sql::Database& db);

// Statuses: pending (an authorization is in flight), authorized, requires_action, declined,
// failed, captured, voided, refunded (fully).
struct Payment {
  std::string id;
  std::string order_id;
  int64_t amount = 0;
  std::string currency;
  std::string method_token;
  std::string status;
  std::string provider;
  std::string provider_ref;
  std::string capture_ref;
  std::string decline_code;
  std::string action_url;
  int64_t captured = 0;
  int64_t refunded = 0;
  int64_t lease_until = 0;  // unix ms; a pending payment's authorization owner holds it until then
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct Method {
  std::string method_token;
  std::string subject;
  std::string brand;
  std::string last4;
  int64_t exp_month = 0;
  int64_t exp_year = 0;
  std::map<std::string, std::string> provider_tokens;  // provider → its token
};

struct Attempt {
  std::string payment_id;
  std::string order_id;
  std::string provider;
  std::string outcome;  // pending, authorized, declined, requires_action, error, skipped
  int64_t created_at = 0;
};

struct RefundRow {
  std::string id;
  std::string payment_id;
  std::string idempotency_key;
  int64_t amount = 0;
  std::string status;  // pending, succeeded
};

Result<std::optional<Payment>> PaymentByOrder(sql::Tx& tx, const std::string& order_id);
Result<std::optional<Payment>> PaymentById(sql::Tx& tx, const std::string& id);
Status InsertPayment(sql::Tx& tx, const Payment& p);
Status UpdatePayment(sql::Tx& tx, const Payment& p);
Result<std::vector<Payment>> AllPayments(sql::Database& db);
// Pending payments whose lease ended before `lease_before_ms`.
Result<std::vector<Payment>> StalePending(sql::Database& db, int64_t lease_before_ms);

Status InsertMethod(sql::Tx& tx, const Method& m, int64_t now_ms);
Result<std::optional<Method>> MethodByToken(sql::Database& db, const std::string& method_token);

Status SetAttempt(sql::Database& db, const std::string& payment_id, const std::string& order_id,
                  const std::string& provider, const std::string& outcome, int64_t now_ms);
// Attempts that ended in an error (the provider may have authorized anyway) since `since_ms`.
Result<std::vector<Attempt>> UncertainAttempts(sql::Database& db, int64_t since_ms);

Result<std::optional<RefundRow>> RefundByKey(sql::Tx& tx, const std::string& payment_id,
                                             const std::string& key);
Status InsertRefund(sql::Tx& tx, const RefundRow& r, int64_t now_ms);
Status MarkRefundSucceeded(sql::Tx& tx, const std::string& refund_id);

// A disputed payment: from the provider's dispute webhook (source "provider", dispute_id the
// provider's), or entered by an admin from the bank's letter (source "admin", dispute_id our id).
struct Chargeback {
  std::string id;  // cb_…
  std::string payment_id;
  std::string order_id;
  std::string provider;
  std::string dispute_id;  // unique per provider
  int64_t amount = 0;
  std::string currency;
  std::string reason;           // normalized (kChargebackReasons)
  std::string provider_reason;  // the provider's own code; empty for an admin's
  std::string source;           // provider, admin
  std::string note;
  std::string idempotency_key;  // unique per payment
  int64_t created_at = 0;
};

Result<std::optional<Chargeback>> ChargebackByDispute(sql::Tx& tx, const std::string& provider,
                                                      const std::string& dispute_id);
Result<std::optional<Chargeback>> ChargebackByKey(sql::Tx& tx, const std::string& payment_id,
                                                  const std::string& key);
// A payment's chargebacks, oldest first.
Result<std::vector<Chargeback>> ChargebacksOf(sql::Tx& tx, const std::string& payment_id);
Status InsertChargeback(sql::Tx& tx, const Chargeback& c);
// The payment at `provider` whose provider_ref or capture_ref is `ref`.
Result<std::optional<Payment>> PaymentByProviderRef(sql::Tx& tx, const std::string& provider,
                                                    const std::string& ref);

// Records a webhook event id; false when it was already recorded (a replay).
Result<bool> RecordWebhook(sql::Tx& tx, const std::string& provider, const std::string& event_id,
                           int64_t now_ms);

}  // namespace emporium::payment
