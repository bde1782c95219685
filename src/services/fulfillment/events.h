// Events fulfillment publishes through its transactional outbox (topic "fulfillment", key =
// order id), and the relay that ships them.
//
// Thread-safety: AddShipmentEvent is a pure function of its arguments; Publisher is thread-safe
// after Start().
#pragma once

#include <memory>
#include <string>

#include "platform/bus/outbox.h"
#include "platform/core/status.h"
#include "services/fulfillment/model.h"

namespace emporium::sql {
class Database;
class Tx;
}  // namespace emporium::sql
namespace emporium::bus {
class Bus;
class Producer;
class Relay;
}  // namespace emporium::bus

namespace emporium::fulfillment {

// Writes shipment.<type> (booked, shipped, delivered) for s:
// {"shipment_id","order_id","carrier","tracking_number","status","at"}.
Status AddShipmentEvent(sql::Tx& tx, const std::string& type, const Shipment& s, const std::string& at);

using Publisher = bus::OutboxPublisher;

}  // namespace emporium::fulfillment
