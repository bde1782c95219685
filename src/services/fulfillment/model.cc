#include "services/fulfillment/model.h"

namespace emporium::fulfillment {

std::string_view StatusName(ShipmentStatus s) {
  switch (s) {
    case ShipmentStatus::kBooking: return "booking";
    case ShipmentStatus::kBooked: return "booked";
    case ShipmentStatus::kInTransit: return "in_transit";
    case ShipmentStatus::kOutForDelivery: return "out_for_delivery";
    case ShipmentStatus::kDelivered: return "delivered";
  }
  return "unknown";
}

std::optional<ShipmentStatus> ParseStatus(std::string_view name) {
  for (auto s : {ShipmentStatus::kBooking, ShipmentStatus::kBooked, ShipmentStatus::kInTransit,
                 ShipmentStatus::kOutForDelivery, ShipmentStatus::kDelivered}) {
    if (StatusName(s) == name) return s;
  }
  return std::nullopt;
}

int64_t Units(const std::vector<Item>& items) {
  int64_t n = 0;
  for (const Item& i : items) n += i.quantity;
  return n;
}

}  // namespace emporium::fulfillment
