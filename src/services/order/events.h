// Events order publishes (see api.h) through its transactional outbox (shipped by a
// bus::OutboxPublisher in module.cc). Thread-safety: AddOrderEvent is a pure function of its inputs.
#pragma once

#include <string>

#include "platform/core/status.h"
#include "services/order/model.h"

namespace emporium::sql {
class Tx;
}

namespace emporium::order {

// Writes order.<type> for o to the outbox in the caller's transaction.
Status AddOrderEvent(sql::Tx& tx, const std::string& type, const Order& o, int64_t at_ms);

}  // namespace emporium::order
