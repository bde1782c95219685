// Cart's view of catalog: product price, title and availability, read through the catalog
// module's HTTP API (rt.Client("catalog"): in-process or remote, by configuration).
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "services/cart/model.h"

namespace emporium {
class Runtime;
}

namespace emporium::cart {

class Catalog {
 public:
  virtual ~Catalog() = default;
  // The product, nullopt when catalog does not know it; an error when catalog cannot answer.
  virtual Result<std::optional<Product>> Get(const std::string& product_id) = 0;
  // The products catalog knows among ids (missing ids are absent from the map).
  virtual Result<std::map<std::string, Product>> GetMany(const std::vector<std::string>& ids) = 0;
};

// Calls GET /v1/products/{id} and GET /v1/products?ids=a,b,c (batches of 100) on module
// "catalog". The client is looked up on first use, so catalog may start after cart.
std::unique_ptr<Catalog> NewCatalog(Runtime& rt);

// Parses catalog's product JSON; kInvalidArgument when id or price is missing.
Result<Product> ParseProduct(std::string_view json);

}  // namespace emporium::cart
