// Read-through cache of products for the hot GET /v1/products/{id} path.
//
// Correct within this process: every catalog write that commits calls Invalidate() (through the
// module's notify hook), which bumps a generation and so drops every entry at once. Writes made by
// other processes (catalog replicas, the import command) are seen after at most `ttl`.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "platform/core/clock.h"
#include "services/catalog/model.h"

namespace emporium::catalog {

class ProductCache {
 public:
  ProductCache(Clock& clock, Millis ttl, size_t max_entries = 50'000)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  // The generation to pass to Put for a value read now (read it before the database read, so a
  // write that lands in between makes the Put stale).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::optional<Product> Get(const std::string& id);
  void Put(const std::string& id, const Product& p, uint64_t generation);
  void Invalidate() { generation_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  struct Entry {
    Product product;
    uint64_t generation;
    SteadyTime loaded;
  };
  Clock& clock_;
  const Millis ttl_;
  const size_t max_entries_;
  std::atomic<uint64_t> generation_{0};
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace emporium::catalog
