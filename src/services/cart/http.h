// Cart's HTTP routes: /v1/cart, /v1/cart/items, /v1/cart/events (SSE) and /v1/wishlist.
// Every route takes any user or guest token (client tokens get 403); the cart is the caller's.
#pragma once

#include <memory>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/router.h"
#include "services/cart/broadcaster.h"
#include "services/cart/service.h"

namespace emporium::cart {

struct HttpDeps {
  CartService& service;
  // Shared with the SSE streams, which may outlive the module during server shutdown.
  std::shared_ptr<Broadcaster> broadcaster;
  Millis heartbeat{15'000};
};

Status AddRoutes(http::Router& router, HttpDeps deps);

}  // namespace emporium::cart
