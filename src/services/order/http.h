// Order's HTTP routes (see docs/order-flow.md and ../shared/API.md "Orders, payments,
// fulfillment"): customer checkout, reads, cancel and tracking; admin order list and fraud
// review queue. Thread-safety: handlers are thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "platform/core/status.h"
#include "platform/http/router.h"
#include "services/order/model.h"

namespace emporium::order {

class OrderService;

// The order document. `history` adds the status history; `admin` adds fraud and saga details.
boost::json::object OrderJson(const Order& o, const std::vector<HistoryEntry>* history, bool admin);

Status AddRoutes(http::Router& router, OrderService& service);

}  // namespace emporium::order
