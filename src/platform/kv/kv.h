// Key-value store with TTL for carts, sessions, rate limits and feature windows.
//
// Backends: embedded (in-memory, optionally persisted to a snapshot + append-only log under the
// data dir so state survives a restart) and Redis (hiredis). Every operation is atomic with
// respect to the others on the same key. TTLs are wall-clock based; a TTL of zero means "never
// expires". Thread-safety: a Store is safe to use from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::kv {

class Store {
 public:
  virtual ~Store() = default;

  // nullopt when absent or expired.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Status Set(std::string_view key, std::string_view value, Millis ttl = Millis(0)) = 0;
  // True when the key existed.
  virtual Result<bool> Delete(std::string_view key) = 0;
  // Adds delta to the integer at key (absent counts as 0) and returns the new value. When the key
  // is created by this call and ttl > 0, the key expires after ttl. kFailedPrecondition when
  // the current value is not an integer.
  virtual Result<int64_t> Increment(std::string_view key, int64_t delta, Millis ttl = Millis(0)) = 0;
  // Increment for each (key, delta), in order; returns the new values. Not atomic as a group, but
  // one durable write where the backend allows (the embedded journal syncs once).
  virtual Result<std::vector<int64_t>> IncrementMany(std::span<const std::pair<std::string, int64_t>> deltas,
                                                     Millis ttl = Millis(0));
  // Sets key to desired iff its current value equals expected (nullopt: key must be absent).
  // Returns whether the swap happened. ttl applies to the new value (0 = no expiry).
  virtual Result<bool> CompareAndSet(std::string_view key, std::optional<std::string_view> expected,
                                     std::string_view desired, Millis ttl = Millis(0)) = 0;
  // Remaining time to live: nullopt when the key is absent, Millis(0) when it never expires.
  virtual Result<std::optional<Millis>> Ttl(std::string_view key) = 0;
};

// "memory://" (volatile), "memory:///abs/dir" or "file:///abs/dir" (persisted under dir),
// "redis://host:port[/db]". kInvalidArgument for an unknown scheme, kUnavailable when a Redis
// server cannot be reached. `clock` must outlive the store (memory backend only).
Result<std::unique_ptr<Store>> Open(const std::string& url, Clock& clock = SystemClock::Get());

}  // namespace emporium::kv
