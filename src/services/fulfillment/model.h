// Fulfillment's data types: shipment requests, shipments and their tracking history.
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::fulfillment {

struct Address {
  std::string name, line1, line2, city, region, postal_code, country;
};

struct Item {
  std::string product_id;
  int64_t quantity = 0;
};

struct Money {
  int64_t amount = 0;
  std::string currency = "USD";
};

struct ShipmentRequest {
  std::string order_id;
  Address address;
  std::vector<Item> items;
  std::string carrier;  // empty: the cheapest quote wins
  std::string user_id;  // optional, for notifications
};

// Shipment status, in the order a parcel moves through it. A tracking update never moves a
// shipment backwards (carriers deliver webhooks out of order).
enum class ShipmentStatus { kBooking = 0, kBooked, kInTransit, kOutForDelivery, kDelivered };
std::string_view StatusName(ShipmentStatus s);
std::optional<ShipmentStatus> ParseStatus(std::string_view name);

struct TrackingEvent {
  std::string status;
  std::string at;  // RFC 3339
  std::string description;
};

struct Shipment {
  std::string shipment_id;
  std::string order_id;
  std::string carrier;
  std::string service;
  std::string tracking_number;
  std::string label_url;
  ShipmentStatus status = ShipmentStatus::kBooking;
  Money rate;
  std::string user_id;
  std::string created_at;  // RFC 3339
  std::vector<TrackingEvent> events;
};

// Total units in the request (the carriers price by parcel weight, estimated per unit).
int64_t Units(const std::vector<Item>& items);

}  // namespace emporium::fulfillment
