#include "services/payment/events.h"

#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
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

Status AddChargebackEvent(sql::Tx& tx, const Chargeback& c) {
  boost::json::object data{{"payment_id", c.payment_id},
                           {"order_id", c.order_id},
                           {"provider", c.provider},
                           {"amount", c.amount},
                           {"currency", c.currency},
                           {"reason", c.reason},
                           {"provider_reason", c.provider_reason},
                           {"dispute_id", c.dispute_id},
                           {"at", FormatRfc3339UnixMillis(c.created_at)}};
  bus::Event e =
      bus::MakeEvent(std::string(kEventSource), "payment.chargeback", c.order_id, json::Dump(data));
  return bus::Outbox::Add(tx, std::string(kPaymentTopic), c.order_id, e);
}

}  // namespace emporium::payment
