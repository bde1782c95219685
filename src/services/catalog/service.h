// Catalog domain logic: products and categories (validation, versioning, events). No HTTP or
// SQL types here beyond the Store. Thread-safety: thread-safe (state lives in the database).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "services/catalog/product_cache.h"
#include "services/catalog/store.h"

namespace emporium::catalog {

struct CategoryNode {
  Category category;
  int64_t product_count = 0;  // this category and its descendants
  std::vector<CategoryNode> children;
};

// Checks the fields of a product to create; appends field errors (names as in the API).
void ValidateNewProduct(const NewProduct& p, FieldErrors& errors);

class Catalog {
 public:
  // notify: called after a commit that wrote outbox events (wakes the relay).
  // cache may be null (no caching).
  Catalog(Store& store, Clock& clock, std::function<void()> notify, ProductCache* cache = nullptr);

  // kNotFound for an unknown or deleted product.
  Result<Product> Get(const std::string& id);
  // kInvalidArgument for a bad page token or an unknown category.
  Result<ProductPage> List(const ProductQuery& q);
  Result<std::vector<CategoryNode>> Tree();

  // kInvalidArgument with field errors, kAlreadyExists (field "sku") for a duplicate sku.
  Result<Product> Create(const NewProduct& in, FieldErrors* errors);
  // kNotFound, kFailedPrecondition when patch.if_version is not the current version,
  // kInvalidArgument with field errors.
  Result<Product> Update(const std::string& id, const ProductPatch& patch, FieldErrors* errors);
  Status Delete(const std::string& id);
  // kInvalidArgument (field errors) for a bad name or unknown parent.
  Result<Category> CreateCategory(const std::string& parent_id, const std::string& name, FieldErrors* errors);

  // Bulk insert for the seeder and the importer: one transaction, product.created events in it.
  // Categories must exist. Fails as a whole (e.g. kAlreadyExists for a duplicate sku).
  Status InsertBatch(const std::vector<NewProduct>& products);
  // Finds or creates the category path (names from the root); returns the leaf.
  Result<Category> EnsureCategoryPath(const std::vector<std::string>& names);

  Store& store() { return store_; }
  int64_t Now() const;

 private:
  Store& store_;
  Clock& clock_;
  std::function<void()> notify_;
  ProductCache* cache_;
};

}  // namespace emporium::catalog
