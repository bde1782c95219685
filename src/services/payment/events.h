// What payment publishes through its transactional outbox (topic "payment", key = order id), and
// the relay that ships it. Thread-safety: AddPaymentEvent is pure; Publisher is thread-safe after
// Start().
#pragma once

#include <memory>
#include <string>

#include "platform/bus/outbox.h"
#include "platform/core/status.h"
#include "services/payment/store.h"

namespace emporium::bus {
class Bus;
class Producer;
class Relay;
}  // namespace emporium::bus

namespace emporium::payment {

// payment.<type> {"payment_id","order_id","amount","currency","provider","status","captured",
// "refunded", plus "decline_code" when set and "refund_amount" for refunds}.
Status AddPaymentEvent(sql::Tx& tx, const std::string& type, const Payment& p, int64_t refund_amount = 0);
// payment.chargeback {"payment_id","order_id","provider","amount","currency","reason",
// "provider_reason","dispute_id","at"} (at: RFC 3339, when we recorded it).
Status AddChargebackEvent(sql::Tx& tx, const Chargeback& c);

using Publisher = bus::OutboxPublisher;

}  // namespace emporium::payment
