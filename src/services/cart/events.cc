#include "services/cart/events.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "services/cart/api.h"

namespace emporium::cart {

Change MakeChange(const CartState& after, const std::string& type, const std::string& product_id,
                  int quantity, int64_t at_ms) {
  boost::json::array items;
  for (const Line& l : after.items)
    items.push_back(boost::json::object{{"product_id", l.product_id}, {"quantity", l.quantity}});
  boost::json::object o{{"seq", after.version}, {"type", type}};
  if (!product_id.empty()) {
    o["product_id"] = product_id;
    o["quantity"] = quantity;
  }
  o["version"] = after.version;
  o["items"] = std::move(items);
  o["at"] = FormatRfc3339UnixMillis(at_ms);
  return Change{after.subject, after.version, json::Dump(o)};
}

Status AddCartEvent(sql::Tx& tx, const std::string& type, const std::string& subject,
                    const std::string& product_id, int quantity, const Change& change) {
  auto parsed = json::Parse(change.json);
  if (!parsed.ok()) return Internal("malformed change document");
  boost::json::object data{{"subject", subject},
                           {"product_id", product_id},
                           {"quantity", quantity},
                           {"change", std::move(*parsed)}};
  bus::Event e = bus::MakeEvent(std::string(kEventSource), "cart." + type, subject, json::Dump(data));
  return bus::Outbox::Add(tx, std::string(kCartTopic), subject, e);
}

Status AddWishlistEvent(sql::Tx& tx, const std::string& subject, const std::string& product_id) {
  boost::json::object data{{"subject", subject}, {"product_id", product_id}};
  bus::Event e = bus::MakeEvent(std::string(kEventSource), "wishlist.item_added", subject, json::Dump(data));
  return bus::Outbox::Add(tx, std::string(kCartTopic), subject, e);
}

Result<Change> ChangeFromEventData(const std::string& subject, std::string_view data_json) {
  auto doc = json::Parse(data_json);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("event data is not an object");
  auto change = doc->as_object().if_contains("change");
  if (!change || !change->is_object()) return InvalidArgument("event carries no change");
  auto seq = change->as_object().if_contains("seq");
  if (!seq || !seq->is_int64()) return InvalidArgument("change without seq");
  return Change{subject, seq->as_int64(), json::Dump(*change)};
}

}  // namespace emporium::cart
