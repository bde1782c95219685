// Events cart publishes (see api.h) through its transactional outbox, and the relay that ships
// them. Also builds the change documents SSE clients receive, which ride inside the events so
// that other cart replicas can push them to their own connections.
//
// Thread-safety: the builders are pure functions; Publisher is thread-safe after Start().
#pragma once

#include <memory>
#include <string>

#include "platform/bus/outbox.h"
#include "platform/core/status.h"
#include "services/cart/model.h"

namespace emporium::sql {
class Database;
class Tx;
}  // namespace emporium::sql
namespace emporium::bus {
class Bus;
class Producer;
class Relay;
}  // namespace emporium::bus

namespace emporium::cart {

// The change document of a cart after a change: {"seq","type","product_id","quantity",
// "version","items":[{"product_id","quantity"}],"at"} (type: item_added, item_updated,
// item_removed, merged, merged_away). product_id/quantity are omitted for merges.
Change MakeChange(const CartState& after, const std::string& type, const std::string& product_id,
                  int quantity, int64_t at_ms);

// Writes cart.<type> (item_added, item_updated, item_removed) for subject to the outbox.
Status AddCartEvent(sql::Tx& tx, const std::string& type, const std::string& subject,
                    const std::string& product_id, int quantity, const Change& change);
Status AddWishlistEvent(sql::Tx& tx, const std::string& subject, const std::string& product_id);

// Extracts the change carried by a cart.* event's data; kInvalidArgument when it has none.
Result<Change> ChangeFromEventData(const std::string& subject, std::string_view data_json);

using Publisher = bus::OutboxPublisher;

}  // namespace emporium::cart
