#include "services/payment/events.h"

#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "services/payment/api.h"

namespace emporium::payment {

Status AddPaymentEvent(sql::Tx& tx, const std::string& type, const Payment& p, int64_t refund_amount) {
  boost::json::object data{{"payment_id", p.id},     {"order_id", p.order_id}, {"amount", p.amount},
                           {"currency", p.currency}, {"provider", p.provider}, {"status", p.status},
                           {"captured", p.captured}, {"refunded", p.refunded}};
  if (!p.decline_code.empty()) data["decline_code"] = p.decline_code;
  if (refund_amount > 0) data["refund_amount"] = refund_amount;
  bus::Event e = bus::MakeEvent(std::string(kEventSource), "payment." + type, p.order_id, json::Dump(data));
  return bus::Outbox::Add(tx, std::string(kPaymentTopic), p.order_id, e);
}

}  // namespace emporium::payment
