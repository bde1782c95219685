// Order use cases: checkout (idempotent), reads, cancel, fraud review decisions, tracking and
// the shipment events from fulfillment. No HTTP routing here; calls made on a customer's behalf
// take the customer's request so their principal and token travel with them.
// Thread-safety: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/http/problem.h"
#include "services/order/model.h"
#include "services/order/peers.h"
#include "services/order/saga.h"
#include "services/order/store.h"

namespace emporium::bus {
struct Record;
}
namespace emporium::sql {
class Tx;
}

namespace emporium::order {

// An expected failure with its HTTP status and field errors (422 validation, 409 state, ...).
struct Failure {
  int status = 500;
  std::string detail;
  std::vector<http::FieldError> errors;
};

struct CheckoutResult {
  Order order;
  bool replayed = false;  // the Idempotency-Key was seen before with the same body
};

template <typename T>
struct Outcome {
  std::optional<T> value;
  std::optional<Failure> failure;
  Status status = Status::Ok();  // an unexpected error (5xx)
};

struct ServiceOptions {
  Millis inline_budget{2000};  // how long POST /v1/orders drives the saga before answering 202
  std::string hash_key;        // HMAC key for request hashes (the body may hold a card number)
};

class OrderService {
 public:
  OrderService(Store& store, Saga& saga, Peers& peers, ServiceOptions options, Clock& clock);

  Outcome<CheckoutResult> Checkout(const http::Request& caller, const std::string& user_id,
                                   const std::string& idempotency_key);
  // The caller's order (kNotFound for another user's, so ids are not confirmed).
  Result<Order> GetOwn(const std::string& user_id, const std::string& id);
  Result<std::optional<Order>> Get(const std::string& id) { return store_.Get(id); }
  Result<std::vector<HistoryEntry>> History(const std::string& id) { return store_.History(id); }
  Result<std::vector<Order>> List(const ListFilter& f) { return store_.List(f); }
  Outcome<Order> Cancel(const std::string& user_id, const std::string& id);
  Outcome<Order> Decide(const std::string& id, const std::string& decision);
  // {"order_id","status","carrier","tracking_number","shipment","events":[...]} from fulfillment.
  Result<boost::json::object> Tracking(const Order& o);

  // shipment.shipped → SHIPPED, shipment.delivered → DELIVERED, in the inbox transaction.
  Status OnFulfillmentEvent(sql::Tx& tx, const bus::Record& record);
  // payment.action_completed: an order waiting for its step-up (await_action) is made due now,
  // instead of at its next poll, and driven for up to the inline budget. Not in a transaction
  // (the saga writes as it goes). Returns the order as stored (kNotFound when absent).
  Result<Order> ResumeAfterStepUp(const std::string& id);

 private:
  // Asks fulfillment for the cheapest carrier's price to `address` and sets o.shipping and
  // o.carrier; a failure to show the customer otherwise.
  std::optional<Failure> QuoteShipping(const boost::json::object& address, Order& o);

  Store& store_;
  Saga& saga_;
  Peers& peers_;
  ServiceOptions options_;
  Clock& clock_;
};

}  // namespace emporium::order
