// The simulator's view of a shop's catalog: the product facts a shopper reacts to (category,
// brand, price, colour, material, rating, stock), loaded from product JSON documents — the demo
// catalog generated in memory, a JSONL file, or a live shop's public API.
// Immutable once loaded; thread-safe to share.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"

namespace emporium::http {
class HttpClient;
}

namespace emporium::sim {

struct SimProduct {
  std::string id;
  std::string title;
  std::string brand;
  std::string top;          // first level of the category path ("Electronics")
  std::string leaf;         // the category path joined by " > "
  std::string category_id;  // the shop's category id (live catalogs; empty offline)
  int64_t price = 0;        // minor units
  std::string currency = "USD";
  double rating = 0;
  int64_t rating_count = 0;
  int64_t available = 0;
  std::string colour;              // attributes.colour, when any
  std::string material;            // attributes.material, when any
  std::vector<std::string> words;  // lower-case title words, for queries
};

struct SimCatalog {
  std::vector<SimProduct> products;
  // Derived indexes, filled by Index().
  std::vector<std::string> leaves;  // distinct leaves, sorted
  std::vector<std::string> tops;
  std::vector<std::string> brands;
  std::vector<int> leaf_of;   // product → leaf index
  std::vector<int> top_of;    // product → top index
  std::vector<int> brand_of;  // product → brand index
  std::vector<int> top_of_leaf;
  std::vector<std::vector<int>> by_leaf;             // leaf → products
  std::map<std::string, int, std::less<>> index_of;  // product id → index

  // Builds the derived indexes (call once after filling products).
  void Index();
  const SimProduct* Find(std::string_view id) const;
};

// One product JSON document (GET /v1/products/{id} shape). kInvalidArgument when it lacks an id,
// a title or a price.
Result<SimProduct> ParseProduct(std::string_view json);

// The demo catalog `emporium up` seeds (catalog-seed and catalog-demo-size).
SimCatalog DemoCatalog(uint64_t seed, int size);
// One product document per line.
Result<SimCatalog> LoadCatalogFile(const std::string& path);
// Every product of a live shop, through GET /v1/products pages.
Result<SimCatalog> LoadCatalogFromApi(http::HttpClient& client, const std::string& base_url);

}  // namespace emporium::sim
