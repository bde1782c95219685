#include "services/order/events.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "services/order/api.h"

namespace emporium::order {

Status AddOrderEvent(sql::Tx& tx, const std::string& type, const Order& o, int64_t at_ms) {
  boost::json::array items;
  for (const Item& i : o.items) {
    items.push_back(boost::json::object{
        {"product_id", i.product_id}, {"quantity", i.quantity}, {"unit_price", i.unit_price}});
  }
  boost::json::object data{{"order_id", o.id},
                           {"user_id", o.user_id},
                           {"status", o.status},
                           {"reason", o.reason},
                           {"total", boost::json::object{{"amount", o.total}, {"currency", o.currency}}},
                           {"items", std::move(items)},
                           {"created_at", FormatRfc3339UnixMillis(o.created_ms)},
                           {"at", FormatRfc3339UnixMillis(at_ms)}};
  if (!o.tracking_number.empty()) {
    data["shipment_id"] = o.shipment_id;
    data["tracking_number"] = o.tracking_number;
  }
  bus::Event e = bus::MakeEvent(std::string(kEventSource), "order." + type, o.id, json::Dump(data));
  return bus::Outbox::Add(tx, std::string(kOrderTopic), o.id, e);
}

}  // namespace emporium::order
