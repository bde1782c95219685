// Fulfillment's domain logic, free of HTTP and SQL types: booking shipments with the cheapest
// (or requested) carrier, idempotently per order, and applying verified tracking updates.
//
// Booking is crash-safe: a shipment row in status "booking" claims the order first (with the
// carrier and service chosen), then the carrier is asked for the label with the shipment id as
// its idempotency key, then the row becomes "booked" with shipment.booked in the outbox. A retry
// after a crash finds the claim and asks the carrier again with the same key, so no order gets
// two labels.
//
// Thread-safety: thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"
#include "services/fulfillment/carrier.h"
#include "services/fulfillment/store.h"

namespace emporium::fulfillment {

struct WebhookOutcome {
  bool duplicate = false;  // a replay of a delivery already applied: no effect
  std::string shipment_id;
  ShipmentStatus status = ShipmentStatus::kBooked;  // the shipment's status afterwards
};

class ShipmentService {
 public:
  // carriers: in preference order (ties in price go to the earlier one). on_commit wakes the
  // outbox relay.
  ShipmentService(Store& store, std::vector<std::unique_ptr<Carrier>> carriers, Clock& clock,
                  std::function<void()> on_commit);

  // kInvalidArgument for a malformed request or an unknown carrier; kUnavailable when no carrier
  // could quote or the chosen one could not create the label (retry with the same request).
  Result<Shipment> Book(const ShipmentRequest& req);
  // The price of shipping the parcel (cheapest carrier, or req.carrier), before any order exists:
  // checkout charges it and books with the same carrier. Errors as for Book.
  Result<RateQuote> Quote(const ShipmentRequest& req);
  // With tracking history; kNotFound when absent.
  Result<Shipment> Get(const std::string& shipment_id);
  Result<std::vector<Shipment>> ByOrder(const std::string& order_id);

  // Verifies and applies a carrier webhook. kNotFound for an unknown carrier or tracking
  // number (the carrier retries: the label may not be committed yet), kUnauthenticated for a
  // bad signature or stale timestamp, kInvalidArgument for a malformed body.
  Result<WebhookOutcome> HandleWebhook(const std::string& carrier, const http::Request& req);

  Store& store() { return store_; }

 private:
  Result<RateQuote> ChooseRate(const ShipmentRequest& req);
  Carrier* Find(const std::string& name) const;
  int64_t NowMs() const { return UnixMillis(clock_.WallNow()); }

  Store& store_;
  std::vector<std::unique_ptr<Carrier>> carriers_;
  Clock& clock_;
  std::function<void()> on_commit_;
};

// Checks a request's fields; kInvalidArgument naming the first bad one.
Status Validate(const ShipmentRequest& req);

}  // namespace emporium::fulfillment
