#include "services/catalog/product_cache.h"

namespace emporium::catalog {

std::optional<Product> ProductCache::Get(const std::string& id) {
  if (ttl_.count() <= 0) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.generation != generation() || clock_.Now() - it->second.loaded > ttl_) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.product;
}

void ProductCache::Put(const std::string& id, const Product& p, uint64_t generation) {
  if (ttl_.count() <= 0 || generation != this->generation()) return;
  std::lock_guard lock(mu_);
  // Entries of an old generation are dead weight: start afresh when full or stale.
  if (entries_.size() >= max_entries_ ||
      (!entries_.empty() && entries_.begin()->second.generation != generation)) {
    entries_.clear();
  }
  entries_.insert_or_assign(id, Entry{p, generation, clock_.Now()});
}

}  // namespace emporium::catalog
