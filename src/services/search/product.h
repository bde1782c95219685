// The part of catalog's product JSON that search indexes and returns, parsed from a
// catalog.product.* event or a GET /v1/products item. Plain values and pure functions:
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"

namespace emporium::search {

struct ProductDoc {
  std::string id;
  std::string title;
  std::string description;
  std::string brand;
  std::string category_id;
  std::string category_name;
  std::vector<std::string> category_path;  // root first, leaf last
  int64_t price = 0;                       // minor units
  std::string currency = "USD";
  bool in_stock = false;
  int64_t available = 0;
  int64_t version = 0;
  double rating = 0;  // average stars, when rating_count > 0
  int64_t rating_count = 0;
  // What a search hit returns (id, title, brand, category, price, images[0], rating,
  // availability), as a JSON object text.
  std::string summary_json;
};

// kInvalidArgument when the document is not an object with a string "id" and "title".
Result<ProductDoc> ParseProduct(std::string_view json);

// The text the product vectors embed: title, brand, category path and the start of the
// description (the encoder reads at most 256 tokens; the title matters most).
std::string EmbeddingText(const ProductDoc& product);

// The category id, or the category path joined by " > " for a document without one (the
// demo catalog's documents before a shop assigns ids).
std::string CategoryKey(const ProductDoc& product);

// Returns summary_json with its "availability" replaced.
std::string WithAvailability(std::string_view summary_json, bool in_stock, int64_t available);

}  // namespace emporium::search
