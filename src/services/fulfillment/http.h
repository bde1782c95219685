// Fulfillment's routes (see api.h) → ShipmentService calls.
#pragma once

#include "platform/core/status.h"
#include "platform/http/router.h"
#include "services/fulfillment/service.h"

namespace emporium::fulfillment {

Status AddRoutes(http::Router& router, ShipmentService& service);

// {"shipment_id","order_id","carrier","service","tracking_number","label_url","status",
//  "rate":{"amount","currency"},"created_at","events":[{"status","at","description"}]}
std::string ShipmentJson(const Shipment& s);

}  // namespace emporium::fulfillment
