// Events identity publishes (see api.h for the catalogue) and the relay that ships them.
//
// A state change and its events are written in one SQL transaction (AddToOutbox with the
// change's Tx); the Relay publishes committed rows to the bus. Thread-safety: the builders are
// pure functions; Publisher is thread-safe after Start().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/bus/outbox.h"
#include "platform/core/status.h"

namespace emporium::sql {
class Database;
class Tx;
}  // namespace emporium::sql
namespace emporium::bus {
class Bus;
class Producer;
class Relay;
}  // namespace emporium::bus

namespace emporium::identity {

struct Outgoing {
  std::string type;     // "user.registered"
  std::string subject;  // user id: also the partition key
  std::string data_json;
};
using Events = std::vector<Outgoing>;

Outgoing UserRegistered(const std::string& user_id, const std::vector<std::string>& roles,
                        int64_t created_at_ms);
Outgoing UserUpdated(const std::string& user_id, const std::vector<std::string>& fields);
Outgoing UserLoggedIn(const std::string& user_id, const std::string& client_id, const std::string& grant_type,
                      int64_t at_ms);
Outgoing GuestMerged(const std::string& guest_id, const std::string& user_id);

// Writes the events to the outbox inside the caller's transaction.
Status AddToOutbox(sql::Tx& tx, const Events& events);

using Publisher = bus::OutboxPublisher;

}  // namespace emporium::identity
