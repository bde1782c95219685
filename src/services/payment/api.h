// The payment module: card tokenization, authorization with routing and failover across payment
// providers, capture/void/refund, provider webhooks and reconciliation. Other modules call it
// over HTTP routes (docs/payment.md, /work/shared/API.md):
//   POST /v1/payments/methods                         (user)    tokenize a card
//   POST /v1/internal/payments/authorize              (service)
//   {"order_id","amount","method_token"|"card",...} POST /v1/internal/payments/{id}/capture|void|refund
//   (service) GET  /v1/internal/payments/{id}                   (service) GET  /v1/admin/payments/providers
//   (admin)   breaker state and health POST /v1/webhooks/payments/{provider}             (public,
//   HMAC-signed)
//   GET  /v1/admin/payments/{id}  (admin) the payment and its chargebacks
//   POST /v1/admin/payments/{id}/chargebacks  (admin) a chargeback the bank reported out of band
// Events on topic "payment", key = order id: payment.authorized, payment.captured, payment.voided,
// payment.refunded, payment.failed, payment.action_completed, payment.chargeback.
#pragma once

#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/module/module.h"

namespace emporium::payment {

inline constexpr std::string_view kPaymentTopic = "payment";
inline constexpr std::string_view kEventSource = "/emporium/payment";

std::vector<config::Key> ConfigKeys();
ModuleDef Module();

}  // namespace emporium::payment
