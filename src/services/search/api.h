// search: full-text product search over a Xapian index kept in step with catalog's events.
//
// Other modules include only this header. Routes (docs/search.md, docs/openapi.yaml):
//   GET  /v1/search?q=&category=&brand=&min_price=&max_price=&in_stock=&page_size=&page_token=
//   GET  /v1/search/suggest?q=
//   POST /v1/search/rebuild            (admin) re-index every product from catalog's API
//   GET  /v1/internal/search/similar?ids=a,b&limit=   (Access kService) the products nearest to
//        the centroid of the given products' text vectors, none of them:
//        {"items":[{"id","similarity"}]}; 503 while product vectors are off (no sentence encoder)
// Commands: `emporium search rebuild`, `emporium eval search --judgments FILE [--k=10]`.
// Consumes topics kProductTopic and kInventoryTopic (catalog's contract); publishes nothing.
#pragma once

#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/module/module.h"

namespace emporium::search {

inline constexpr std::string_view kProductTopic = "catalog.product";
inline constexpr std::string_view kInventoryTopic = "catalog.inventory";
// Used only when search creates a topic before catalog does.
inline constexpr int kTopicPartitions = 8;

std::vector<config::Key> ConfigKeys();
ModuleDef Module();

}  // namespace emporium::search
