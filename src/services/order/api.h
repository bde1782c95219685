// order: checkout of the caller's cart into an order, driven by a persisted saga (reserve stock →
// fraud screen → authorize payment → CONFIRMED → capture → commit stock → book shipment), with
// compensations, fraud reviews, cancellation and tracking. See docs/order-flow.md.
//
// Other modules include only this header. Calls out (all through rt.Client, in-process or remote):
// cart GET /v1/cart (caller's principal/token), catalog /v1/internal/reservations, payment
// /v1/payments/methods + /v1/internal/payments/*, fulfillment /v1/internal/shipments.
// Events go to topic kOrderTopic (CloudEvents, source "/emporium/order", key = order id):
//   order.created, order.confirmed, order.review, order.pending (a review approved),
//   order.rejected, order.cancelled, order.shipment_booked, order.shipped, order.delivered
//   data: {"order_id","user_id","status","reason","total":{money},
//          "items":[{"product_id","quantity","unit_price"}],"created_at","at"}
// Consumes (group "order") topic "fulfillment": shipment.shipped → SHIPPED,
// shipment.delivered → DELIVERED; topic "payment": payment.action_completed → the order waiting
// for that step-up is driven at once (the saga's poll stays as the fallback).
#pragma once

#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/module/module.h"

namespace emporium::order {

inline constexpr std::string_view kOrderTopic = "order";
inline constexpr std::string_view kEventSource = "/emporium/order";
inline constexpr std::string_view kFulfillmentTopic = "fulfillment";
inline constexpr std::string_view kPaymentTopic = "payment";
inline constexpr std::string_view kConsumerGroup = "order";

std::vector<config::Key> ConfigKeys();
ModuleDef Module();

}  // namespace emporium::order
