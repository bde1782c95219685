// Order data types and the saga's vocabulary (statuses, steps, reasons). Plain data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::order {

// Customer-visible status.
namespace status {
inline constexpr std::string_view kPending = "PENDING";
inline constexpr std::string_view kReview = "REVIEW";
inline constexpr std::string_view kConfirmed = "CONFIRMED";
inline constexpr std::string_view kShipped = "SHIPPED";
inline constexpr std::string_view kDelivered = "DELIVERED";
inline constexpr std::string_view kRejected = "REJECTED";
inline constexpr std::string_view kCancelled = "CANCELLED";
}  // namespace status

// The saga's position. Forward steps, then waiting steps, then compensations; "done" is final.
namespace step {
inline constexpr std::string_view kReserve = "reserve";
inline constexpr std::string_view kFraud = "fraud";
inline constexpr std::string_view kReview = "review";  // waits for an admin decision
inline constexpr std::string_view kAuthorize = "authorize";
inline constexpr std::string_view kAwaitAction = "await_action";  // payment step-up, polled
inline constexpr std::string_view kCapture = "capture";
inline constexpr std::string_view kCommitStock = "commit_stock";
inline constexpr std::string_view kShip = "ship";
inline constexpr std::string_view kFulfilling = "fulfilling";  // waits for shipment events
inline constexpr std::string_view kRefund = "refund";
inline constexpr std::string_view kVoid = "void";
inline constexpr std::string_view kRelease = "release";
inline constexpr std::string_view kDone = "done";
}  // namespace step

// Steps the background worker runs (the others wait for a person or an event).
bool IsActiveStep(std::string_view s);
// Steps where a customer cancel is still honoured: before stock is committed.
bool IsCancellableStep(std::string_view s);

struct Item {
  std::string product_id;
  std::string title;
  int64_t quantity = 0;
  int64_t unit_price = 0;  // minor units
};

struct Order {
  std::string id;
  std::string user_id;
  std::string status;
  std::string reason;         // machine-readable, e.g. "payment_declined"
  std::string reason_detail;  // e.g. the provider's decline code
  std::vector<Item> items;
  int64_t subtotal = 0;
  int64_t shipping = 0;  // quoted by fulfillment at checkout, charged with the goods
  int64_t total = 0;     // subtotal + shipping
  std::string currency;
  std::string address_json;  // plaintext in memory only; sealed at rest
  std::string shipping_country;
  // Payment: a provider token only (a card is tokenized before the order is stored).
  std::string method_token;
  std::string card_brand;
  std::string card_last4;
  std::string billing_country;
  std::string client_ip;
  // Where the order came from, for fraud screening: {"device_id","session_id","ip_country",
  // "user_agent"} (members present when known). Set at checkout, never changed.
  std::string client_json = "{}";
  std::string payment_id;
  std::string payment_status =
      "none";                    // none authorized requires_action captured voided refunded declined failed
  std::string next_action_json;  // provider's step-up instruction, when any
  std::string reservation_id;
  std::string stock_state = "none";  // none held committed released
  std::string payment_provider;      // the provider that authorized
  std::string shipment_id;
  std::string carrier;  // quoted at checkout, then the booking's
  std::string tracking_number;
  std::string fraud_decision;
  std::string fraud_reasons_json = "[]";
  // Saga.
  std::string step;
  std::string final_status;  // status a compensation chain ends in
  int64_t attempts = 0;
  int64_t next_attempt_ms = 0;
  int64_t step_started_ms = 0;
  bool cancel_requested = false;
  int64_t version = 0;
  std::string idempotency_key;
  std::string request_hash;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct HistoryEntry {
  std::string status;
  std::string reason;
  int64_t at_ms = 0;
};

}  // namespace emporium::order
