// Bulkhead: bounds how many calls to one upstream (or one pool) run at once, so a slow upstream
// ties up at most max_in_flight callers instead of every thread in the process.
//
// TryAcquire() never blocks. Acquire(deadline) may wait for a permit up to
// min(deadline, now + max_wait), with at most max_waiters callers waiting; max_wait = 0 makes it
// the same as TryAcquire(). Waiting re-reads the injected Clock every few milliseconds (Clock has
// no wait primitive), so a FakeClock advanced by another thread ends the wait promptly.
//
// Thread-safe. Permits are RAII and move-only; the bulkhead must outlive its permits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::resilience {

struct BulkheadOptions {
  int max_in_flight = 64;
  std::chrono::nanoseconds max_wait{0};  // 0: never wait
  int max_waiters = 64;
};

class Bulkhead;

// One unit of concurrency; released on destruction.
class BulkheadPermit {
 public:
  BulkheadPermit(BulkheadPermit&& other) noexcept;
  BulkheadPermit& operator=(BulkheadPermit&& other) noexcept;
  BulkheadPermit(const BulkheadPermit&) = delete;
  BulkheadPermit& operator=(const BulkheadPermit&) = delete;
  ~BulkheadPermit();

  // Gives the slot back early; later calls do nothing.
  void Release();

 private:
  friend class Bulkhead;
  explicit BulkheadPermit(Bulkhead* owner) : owner_(owner) {}
  Bulkhead* owner_ = nullptr;
};

class Bulkhead {
 public:
  // `clock` must outlive the bulkhead.
  Bulkhead(std::string name, Clock& clock, BulkheadOptions options = {});
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  // A permit, or kResourceExhausted "bulkhead full: <name>".
  Result<BulkheadPermit> TryAcquire();
  // Waits as described above. kResourceExhausted when max_wait runs out or too many wait;
  // kDeadlineExceeded when the caller's deadline is what ran out.
  Result<BulkheadPermit> Acquire(SteadyTime deadline);

  int in_flight() const;
  int waiting() const;
  const std::string& name() const { return name_; }

 private:
  friend class BulkheadPermit;
  void ReleaseOne();

  const std::string name_;
  Clock& clock_;
  const BulkheadOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int waiting_ = 0;
};

}  // namespace emporium::resilience
