// Re-indexing from catalog's API: every product is fetched page by page (GET /v1/products) and
// upserted, then products the catalog no longer lists are removed. The index stays searchable
// throughout (commits every few pages). Thread-safety: one rebuild at a time per Index (the
// caller serialises); concurrent event indexing is fine (newer versions win).
#pragma once

#include <cstdint>
#include <functional>

#include "platform/core/status.h"
#include "platform/rpc/rpc.h"
#include "services/search/index.h"

namespace emporium::search {

// Returns how many products were indexed. `progress` (optional) gets the running count.
Result<int64_t> Rebuild(Index& index, rpc::ModuleClient& catalog,
                        const std::function<void(int64_t)>& progress = nullptr);

}  // namespace emporium::search
