#include "services/fulfillment/events.h"

#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "services/fulfillment/api.h"

namespace emporium::fulfillment {

Status AddShipmentEvent(sql::Tx& tx, const std::string& type, const Shipment& s, const std::string& at) {
  boost::json::object data{{"shipment_id", s.shipment_id},   {"order_id", s.order_id},
                           {"carrier", s.carrier},           {"tracking_number", s.tracking_number},
                           {"status", StatusName(s.status)}, {"at", at}};
  bus::Event e = bus::MakeEvent(std::string(kEventSource), "shipment." + type, s.order_id, json::Dump(data));
  return bus::Outbox::Add(tx, std::string(kTopic), s.order_id, e);
}

}  // namespace emporium::fulfillment
