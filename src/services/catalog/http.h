// Catalog's HTTP routes: request parsing, status codes and bodies around Catalog and Inventory.
// Called once at start; handlers are thread-safe.
#pragma once

#include <functional>
#include <string>

#include "platform/http/router.h"
#include "services/catalog/inventory.h"
#include "services/catalog/service.h"

namespace emporium::catalog {

// GET /v1/products/{id}/similar is recommend's product placement: catalog answers 404 for a
// product it does not have and asks `similar` (recommend's GET /v1/recommendations?placement=
// product, on behalf of the caller) for the rest; null or failing: 503.
using SimilarFn =
    std::function<Result<http::Response>(const http::Request& parent, const std::string& target)>;

// /v1/products..., /v1/categories, /v1/admin/products..., /v1/admin/categories (http.cc).
Status AddProductRoutes(http::Router& router, Catalog& catalog, SimilarFn similar = {});
// /v1/admin/inventory/{product_id}, /v1/internal/reservations... (http_inventory.cc).
Status AddInventoryRoutes(http::Router& router, Inventory& inventory);

}  // namespace emporium::catalog
