// The catalog objects built from a Runtime, shared by the module (serving) and its commands
// (import), which need storage but no HTTP server, relay or sweeper.
// Thread-safety: thread-safe after Open().
#pragma once

#include <memory>
#include <vector>

#include "platform/module/runtime.h"
#include "services/catalog/events.h"
#include "services/catalog/inventory.h"
#include "services/catalog/service.h"
#include "services/catalog/store.h"

namespace emporium::catalog {

std::vector<config::Key> ConfigKeys();

class Core {
 public:
  Core();
  ~Core();
  // Opens the database and applies migrations.
  Status Open(Runtime& rt);

  Catalog& catalog() { return *catalog_; }
  Inventory& inventory() { return *inventory_; }
  Publisher& publisher() { return publisher_; }
  sql::Database& db() { return *db_; }

 private:
  sql::Database* db_ = nullptr;
  Publisher publisher_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ProductCache> cache_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Inventory> inventory_;
};

}  // namespace emporium::catalog
