// Behaviour's HTTP routes: POST /v1/events (a batch) and GET /v1/events (the caller's history).
// Both take any user or guest token; a client (service) token has no user and gets 403.
#pragma once

#include "platform/core/status.h"
#include "platform/http/router.h"
#include "services/behavior/service.h"

namespace emporium::behavior {

Status AddRoutes(http::Router& router, BehaviorService& service);

}  // namespace emporium::behavior
