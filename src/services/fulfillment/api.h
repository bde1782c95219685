// fulfillment: shipments with carriers, tracking webhooks and customer notifications.
//
// Other modules include only this header. Routes (see docs/fulfillment.md):
//   POST /v1/internal/shipments            (service) book a shipment, idempotent per order id
//   GET  /v1/internal/shipments/{id}       (service) a shipment with its tracking history
//   GET  /v1/internal/shipments?order_id=  (service) {"items":[...],"events":[...]}
//   POST /v1/webhooks/carriers/{carrier}   (public, HMAC-signed) tracking updates
// Events go to topic kTopic (CloudEvents, source kEventSource, key = order id):
//   shipment.booked | shipment.shipped | shipment.delivered
//   {"shipment_id","order_id","carrier","tracking_number","status","at"}
// Notifications (order confirmed / shipped / delivered) are derived from order.confirmed (topic
// "order") and the shipment events, queued in an outbox table and appended to
// <data-dir>/notifications.log, one JSON line each.
//
// The two carrier sandboxes (rapidship: JSON REST; cargoline: form-encoded) are modules of
// their own, each serving its own port.
#pragma once

#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/module/module.h"

namespace emporium::fulfillment {

inline constexpr std::string_view kTopic = "fulfillment";
inline constexpr std::string_view kEventSource = "/emporium/fulfillment";
inline constexpr std::string_view kOrderTopic = "order";

std::vector<config::Key> ConfigKeys();
ModuleDef Module();

// Carrier simulators ("rapidship-sandbox", "cargoline-sandbox").
std::vector<config::Key> RapidshipSandboxKeys();
std::vector<config::Key> CargolineSandboxKeys();
ModuleDef RapidshipSandboxModule();
ModuleDef CargolineSandboxModule();

}  // namespace emporium::fulfillment
