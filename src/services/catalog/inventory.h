// Inventory: stock per warehouse and reservations with a TTL (reserve / commit / release).
//
// Reserve takes every item of an order in one SQL transaction: either all items are reserved
// or none. A product's quantity may be spread over several warehouses (the one with the most
// available first). Commit and release are idempotent. A background sweeper releases held
// reservations past their expiry (state "expired"). See docs/catalog.md for why this cannot
// oversell. Thread-safety: thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/clock.h"
#include "services/catalog/store.h"

namespace emporium::catalog {

struct StockView {
  std::vector<StockLevel> warehouses;
  int64_t available = 0;
};

struct ReserveRequest {
  std::string order_id;
  std::vector<ReservationItem> items;
  int64_t ttl_seconds = 900;
};

class Inventory {
 public:
  Inventory(Store& store, Clock& clock, std::function<void()> notify);
  ~Inventory();

  // kNotFound for an unknown product.
  Result<StockView> Stock(const std::string& product_id);
  // Sets on_hand per warehouse. kInvalidArgument with field errors (unknown warehouse,
  // negative), kConflict with field errors when on_hand would fall below what is reserved.
  Result<StockView> SetStock(const std::string& product_id, const std::vector<StockLevel>& levels,
                             FieldErrors* errors);

  // kInvalidArgument with field errors for a malformed request or unknown product; kConflict
  // with "items[i].quantity: only N available" when stock is short (nothing is reserved).
  // A held or committed reservation of the same order_id is returned as is (created = false).
  Result<Reservation> Reserve(const ReserveRequest& req, FieldErrors* errors, bool* created = nullptr);
  // kNotFound; kConflict when released/expired (commit) or committed (release), or when a held
  // reservation is past its expiry (commit).
  Result<Reservation> Commit(const std::string& id);
  Result<Reservation> Release(const std::string& id);
  Result<std::optional<Reservation>> Find(const std::string& id);

  // Releases up to `limit` expired held reservations now; returns how many.
  Result<int> SweepOnce(int limit = 200);
  // Runs SweepOnce every `interval` on a thread until StopSweeper().
  void StartSweeper(Millis interval);
  void StopSweeper();

 private:
  Result<Reservation> Finish(const std::string& id, bool commit, const std::string& release_state);
  int64_t Now() const;

  Store& store_;
  Clock& clock_;
  std::function<void()> notify_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread sweeper_;
};

}  // namespace emporium::catalog
