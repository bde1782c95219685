// Generated products for search's tests and benchmark: catalog's product JSON built from a small
// vocabulary with a deterministic seed. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace emporium::search {

struct ProductSpec {
  std::string id;
  std::string title;
  std::string description;
  std::string brand;
  std::string category_id;
  std::vector<std::string> category_path;  // root first; the last is the category's name
  int64_t price = 1000;
  bool in_stock = true;
  int64_t available = 5;
  int64_t version = 1;
};

// Catalog's product JSON (the shared contract) for spec.
std::string ProductJson(const ProductSpec& spec);
// n products "p-000001".. over ~20 categories with plausible titles, brands and prices.
std::vector<ProductSpec> GenerateProducts(size_t n, uint64_t seed = 42);
// Query words the generated titles use (for benchmark query mixes).
std::vector<std::string> GeneratedQueryMix();

}  // namespace emporium::search
