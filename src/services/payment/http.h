// Payment's HTTP routes (see api.h) → PaymentService calls. Thread-safe once added.
#pragma once

#include <boost/json/object.hpp>

#include "platform/http/router.h"
#include "services/payment/service.h"

namespace emporium::payment {

Status AddRoutes(http::Router& router, PaymentService& service);
// The payment as the API shows it.
boost::json::object PaymentJson(const Payment& p);

}  // namespace emporium::payment
