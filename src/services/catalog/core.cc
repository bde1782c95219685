#include "services/catalog/core.h"

namespace emporium::catalog {

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  auto positive = [](std::string_view v) -> std::string {
    return std::atoll(std::string(v).c_str()) > 0 ? "" : "expected a positive integer";
  };
  return {
      {"catalog-seed-demo", Type::kBool, "true", "Seed a generated demo catalog when the catalog is empty."},
      {"catalog-seed", Type::kInt, "42", "Seed of the demo catalog generator (same seed, same catalog)."},
      {"catalog-demo-size", Type::kInt, "10000", "Number of generated demo products.", positive},
      {"catalog-cache-ttl", Type::kDuration, "2s",
       "How long a product read may be served from memory when another process changed it (0ms: no cache)."},
      {"catalog-reservation-sweep", Type::kDuration, "1s",
       "How often expired stock reservations are released."},
  };
}

Core::Core() = default;
Core::~Core() {
  if (inventory_) inventory_->StopSweeper();
  publisher_.Stop();
}

Status Core::Open(Runtime& rt) {
  EMP_ASSIGN_OR_RETURN(db_, rt.Database("catalog"));
  store_ = std::make_unique<Store>(*db_);
  EMP_RETURN_IF_ERROR(store_->Migrate());
  cache_ = std::make_unique<ProductCache>(rt.clock(), rt.config().Duration("catalog-cache-ttl"));
  auto notify = [this] {
    cache_->Invalidate();
    publisher_.Notify();
  };
  catalog_ = std::make_unique<Catalog>(*store_, rt.clock(), notify, cache_.get());
  inventory_ = std::make_unique<Inventory>(*store_, rt.clock(), notify);
  return Status::Ok();
}

}  // namespace emporium::catalog
