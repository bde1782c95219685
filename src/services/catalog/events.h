// Events catalog publishes (catalogue in api.h) and the relay that ships them.
//
// State changes and their events are written in one SQL transaction (AddToOutbox with the
// change's Tx); the Relay publishes committed rows. Thread-safety: builders are pure;
// Publisher is thread-safe after Start().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/bus/outbox.h"
#include "platform/core/status.h"
#include "services/catalog/model.h"

namespace emporium::sql {
class Database;
class Tx;
}  // namespace emporium::sql
namespace emporium::bus {
class Bus;
class Producer;
class Relay;
}  // namespace emporium::bus

namespace emporium::catalog {

struct Outgoing {
  std::string topic;
  std::string type;     // "catalog.product.created"
  std::string subject;  // product id (partition key) or reservation id
  std::string data_json;
};
using Events = std::vector<Outgoing>;

Outgoing ProductCreated(const Product& p);
Outgoing ProductUpdated(const Product& p);
Outgoing ProductDeleted(const std::string& id);
Outgoing InventoryChanged(const std::string& product_id, int64_t available);
// type: "inventory.reserved", "inventory.released" or "inventory.committed". Keyed by the
// first product id so a reservation's events stay in order with that product's stock changes.
Outgoing ReservationEvent(const std::string& type, const Reservation& r);

Status AddToOutbox(sql::Tx& tx, const Events& events);

using Publisher = bus::OutboxPublisher;

}  // namespace emporium::catalog
