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

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "platform/module/module.h"

namespace emporium::catalog {

inline constexpr std::string_view kProductTopic = "catalog.product";
inline constexpr std::string_view kInventoryTopic = "catalog.inventory";
inline constexpr std::string_view kEventSource = "/emporium/catalog";

ModuleDef Module();

// The demo catalog `emporium up` seeds (same seed and size, same products and ids p-000001...),
// without a database: product JSON documents with the fields of GET /v1/products/{id} that do not
// depend on storage (id, title, description, brand, category {name, path}, price, attributes,
// rating, availability). For tools that need the catalog offline, such as `emporium simulate`.
std::vector<std::string> DemoProductDocuments(uint64_t seed, int size, int64_t now_ms);

}  // namespace emporium::catalog
