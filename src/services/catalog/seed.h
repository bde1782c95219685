// The demo catalog: a deterministic generator of realistic products (titles, descriptions,
// per-category attributes, prices, ratings, stock in two warehouses) and the seeding that
// inserts them in large transactions with their product.created events.
// Thread-safety: a DemoGenerator is single-threaded; SeedDemoCatalog is safe to call once.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "services/catalog/service.h"

namespace emporium::catalog {

class DemoGenerator {
 public:
  // now_ms anchors created_at (products are spread over the 180 days before it).
  DemoGenerator(uint64_t seed, int64_t now_ms);
  // The next product; category_id is empty and *leaf is the index into seed::Leaves().
  NewProduct Next(size_t* leaf);

 private:
  uint64_t Below(uint64_t n) { return rng_() % n; }
  double Unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

  std::mt19937_64 rng_;
  int64_t now_ms_;
};

// Creates the demo category tree and `size` generated products (ids p-000001...) in
// transactions of `batch` products. Returns how many were inserted.
Result<int> SeedDemoCatalog(Catalog& catalog, uint64_t seed, int size, int batch = 2000);

}  // namespace emporium::catalog
