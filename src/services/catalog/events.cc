#include "services/catalog/events.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "services/catalog/api.h"
#include "services/catalog/product_json.h"

namespace emporium::catalog {

Outgoing ProductCreated(const Product& p) {
  return {std::string(kProductTopic), "catalog.product.created", p.id, json::Dump(ProductJson(p))};
}

Outgoing ProductUpdated(const Product& p) {
  return {std::string(kProductTopic), "catalog.product.updated", p.id, json::Dump(ProductJson(p))};
}

Outgoing ProductDeleted(const std::string& id) {
  return {std::string(kProductTopic), "catalog.product.deleted", id,
          json::Dump(boost::json::object{{"id", id}})};
}

Outgoing InventoryChanged(const std::string& product_id, int64_t available) {
  boost::json::object o{{"product_id", product_id}, {"available", available}, {"in_stock", available > 0}};
  return {std::string(kInventoryTopic), "inventory.changed", product_id, json::Dump(o)};
}

Outgoing ReservationEvent(const std::string& type, const Reservation& r) {
  boost::json::array items;
  for (const auto& i : r.items)
    items.emplace_back(boost::json::object{{"product_id", i.product_id}, {"quantity", i.quantity}});
  boost::json::object o{{"reservation_id", r.id}, {"order_id", r.order_id}, {"items", std::move(items)}};
  std::string key = r.items.empty() ? r.id : r.items.front().product_id;
  return {std::string(kInventoryTopic), type, key, json::Dump(o)};
}

Status AddToOutbox(sql::Tx& tx, const Events& events) {
  for (const Outgoing& o : events) {
    bus::Event e = bus::MakeEvent(std::string(kEventSource), o.type, o.subject, o.data_json);
    EMP_RETURN_IF_ERROR(bus::Outbox::Add(tx, o.topic, o.subject, e));
  }
  return Status::Ok();
}

}  // namespace emporium::catalog
