// catalog: products, the category tree, prices, inventory per warehouse and stock reservations.
//
// Other modules include only this header and talk to catalog over HTTP (rt.Client("catalog")):
//   GET /v1/products?ids=a,b,c (max 100), GET /v1/products/{id}        product JSON (docs/catalog.md)
//   POST /v1/internal/reservations, .../{id}/commit, .../{id}/release   (Access kService, or an
//   in-process caller that sets req.principal itself)
// Events (CloudEvents, source kEventSource, keyed by product id):
//   topic kProductTopic:   catalog.product.created|updated  data = product JSON
//                          catalog.product.deleted          {"id"}
//   topic kInventoryTopic: inventory.changed                {"product_id","available","in_stock"}
//                          inventory.reserved|released|committed
//                                                           {"reservation_id","order_id","items":[{"product_id","quantity"}]}
#pragma once

#include <string_view>

#include "platform/module/module.h"

namespace emporium::catalog {

inline constexpr std::string_view kProductTopic = "catalog.product";
inline constexpr std::string_view kInventoryTopic = "catalog.inventory";
inline constexpr std::string_view kEventSource = "/emporium/catalog";

ModuleDef Module();

}  // namespace emporium::catalog
