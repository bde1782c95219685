// Catalog data types shared by the store, the services, the seeder and the importer.
// Plain values; no SQL or HTTP types. Times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emporium::catalog {

struct FieldError {
  std::string field;
  std::string message;
};
using FieldErrors = std::vector<FieldError>;

struct Money {
  int64_t amount = 0;  // minor units
  std::string currency = "USD";
};

struct Category {
  std::string id;  // "c-12"
  std::string parent_id;
  std::string name;
  std::vector<std::string> path;      // names from the root, this one last
  std::vector<std::string> path_ids;  // ids from the root, this one last
};

struct Product {
  int64_t num = 0;  // internal key; id = "p-" + zero-padded num
  std::string id;
  std::string sku;
  std::string title;
  std::string description;
  std::string brand;
  Category category;
  Money price;
  std::string attributes_json = "{}";  // a JSON object
  double rating_average = 0;
  int64_t rating_count = 0;
  int64_t available = 0;  // on_hand - reserved over all warehouses
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t version = 1;
};

// A product to create (id, times and version are assigned by the store).
struct NewProduct {
  std::string sku;  // empty: derived from the id
  std::string title;
  std::string description;
  std::string brand;
  std::string category_id;
  Money price;
  std::string attributes_json = "{}";
  double rating_average = 0;
  int64_t rating_count = 0;
  // Initial stock per warehouse (warehouse id, on hand).
  std::vector<std::pair<std::string, int64_t>> stock;
  int64_t created_at = 0;  // 0: now
};

// Changes of PATCH; unset fields stay as they are.
struct ProductPatch {
  std::optional<std::string> sku, title, description, brand, category_id, attributes_json;
  std::optional<Money> price;
  std::optional<int64_t> if_version;  // If-Match
};

enum class Sort { kId, kPriceAsc, kPriceDesc, kRating, kNewest };

struct ProductQuery {
  std::string category_id;  // includes descendants
  std::string brand;
  std::optional<int64_t> min_price, max_price;
  std::vector<std::string> ids;
  Sort sort = Sort::kId;
  int page_size = 20;
  std::string page_token;
};

struct ProductPage {
  std::vector<Product> items;
  std::string next_page_token;
};

struct StockLevel {
  std::string warehouse_id;
  int64_t on_hand = 0;
  int64_t reserved = 0;
};

struct ReservationItem {
  std::string product_id;
  int64_t quantity = 0;
};

struct Reservation {
  std::string id;
  std::string order_id;
  std::string state;  // held, committed, released, expired
  std::vector<ReservationItem> items;
  int64_t expires_at = 0;
  int64_t created_at = 0;
};

}  // namespace emporium::catalog
