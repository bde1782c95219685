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

Publisher::Publisher() = default;
Publisher::~Publisher() {
  Stop();
}

Status Publisher::Start(sql::Database& db, bus::Bus& bus) {
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kTopic), 8));
  EMP_ASSIGN_OR_RETURN(producer_, bus.NewProducer());
  relay_ = std::make_unique<bus::Relay>(db, *producer_);
  relay_->Start();
  return Status::Ok();
}

void Publisher::Stop() {
  if (relay_) relay_->Stop();
  relay_.reset();
  producer_.reset();
}

void Publisher::Notify() {
  if (relay_) relay_->Notify();
}

}  // namespace emporium::fulfillment
