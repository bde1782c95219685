// Events behavior publishes (see api.h) through its transactional outbox: one behavior.<type>
// per accepted event and one behavior.guest_merged per merged guest, keyed by the user subject.
// The CloudEvents id of an accepted event is its stored id, so the relay's redeliveries carry
// the same id and consumers de-duplicate on it.
// Thread-safety: pure functions over the caller's transaction.
#pragma once

#include <cstdint>
#include <string>

#include "platform/bus/outbox.h"
#include "platform/core/status.h"
#include "services/behavior/model.h"

namespace emporium::sql {
class Tx;
}  // namespace emporium::sql

namespace emporium::behavior {

// The data of behavior.<type>: {"user_id","client_event_id","type","time","received_at",
// "session_id"?,"device_id"?,"ip","user_agent", ...the type's fields}; ip and user_agent are null
// when unknown.
std::string EventData(const std::string& subject, const StoredEvent& e, const Origin& origin);

// Writes behavior.<type> for `e`, attributed to subject, to the outbox.
Status AddBehaviorEvent(sql::Tx& tx, const std::string& subject, const StoredEvent& e, const Origin& origin);
// Writes behavior.guest_merged {"guest_id","user_id","events"} (subjects with their prefixes).
Status AddGuestMerged(sql::Tx& tx, const std::string& guest, const std::string& user, int64_t events);

using Publisher = bus::OutboxPublisher;

}  // namespace emporium::behavior
