// The carrier interface: rate quotes, label/shipment creation and tracking webhooks, with one
// adapter per carrier protocol (rapidship: JSON REST; cargoline: form-encoded). Adapters reach
// their carrier over real HTTP.
//
// Thread-safety: Carrier implementations are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"
#include "services/fulfillment/model.h"

namespace emporium::http {
class HttpClient;
}

namespace emporium::fulfillment {

struct RateQuote {
  std::string carrier;
  std::string service;
  Money price;
};

struct Label {
  std::string tracking_number;
  std::string label_url;
  std::string service;
  Money price;
};

// A verified tracking update from a carrier webhook.
struct TrackingUpdate {
  std::string event_id;  // the carrier's id of the delivery, for replay protection
  std::string tracking_number;
  ShipmentStatus status = ShipmentStatus::kBooked;
  std::string at;  // RFC 3339
  std::string description;
};

struct CarrierOptions {
  std::string base_url;        // "http://127.0.0.1:8094"
  std::string webhook_secret;  // HMAC key of the carrier's webhook signatures
  Millis timeout{5000};
  Millis webhook_tolerance{300'000};  // accepted clock skew of a signed timestamp
};

class Carrier {
 public:
  virtual ~Carrier() = default;
  virtual const std::string& name() const = 0;
  // The cheapest service for the parcel. kUnavailable when the carrier cannot be reached or
  // answers 5xx; kInvalidArgument when it refuses the destination.
  virtual Result<RateQuote> Quote(const ShipmentRequest& req) = 0;
  // Creates the shipment and its label. `idempotency_key` makes a retry return the same label.
  virtual Result<Label> CreateShipment(const ShipmentRequest& req, const std::string& service,
                                       const std::string& idempotency_key) = 0;
  // Verifies a webhook's signature and timestamp and parses it. kUnauthenticated for a missing
  // or wrong signature or a timestamp outside the tolerance; kInvalidArgument for a malformed
  // body or an unknown status.
  virtual Result<TrackingUpdate> ParseWebhook(const http::Request& req, SystemTime now) const = 0;
};

// `http` must outlive the carrier.
std::unique_ptr<Carrier> NewRapidshipCarrier(CarrierOptions options, http::HttpClient& http);
std::unique_ptr<Carrier> NewCargolineCarrier(CarrierOptions options, http::HttpClient& http);

}  // namespace emporium::fulfillment
