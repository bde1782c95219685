// Catalog's HTTP routes: request parsing, status codes and bodies around Catalog and Inventory.
// Called once at start; handlers are thread-safe.
#pragma once

#include "platform/http/router.h"
#include "services/catalog/inventory.h"
#include "services/catalog/service.h"

namespace emporium::catalog {

// /v1/products..., /v1/categories, /v1/admin/products..., /v1/admin/categories (http.cc).
Status AddProductRoutes(http::Router& router, Catalog& catalog);
// /v1/admin/inventory/{product_id}, /v1/internal/reservations... (http_inventory.cc).
Status AddInventoryRoutes(http::Router& router, Inventory& inventory);

}  // namespace emporium::catalog
