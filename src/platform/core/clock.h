// Time source. Production code takes a Clock& so tests can substitute FakeClock and run
// timeouts, backoff and TTL logic deterministically without sleeping.
//
// SystemClock is thread-safe. FakeClock is thread-safe; Sleep() advances fake time immediately.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace emporium {

using SteadyTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for deadlines and durations.
  virtual SteadyTime Now() const = 0;
  // Wall time for timestamps and TTLs that must survive a restart.
  virtual SystemTime WallNow() const = 0;
  virtual void Sleep(std::chrono::nanoseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override;
  SystemTime WallNow() const override;
  void Sleep(std::chrono::nanoseconds d) override;
  // Process-wide instance.
  static SystemClock& Get();
};

class FakeClock final : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime(std::chrono::nanoseconds(ns_.load())); }
  SystemTime WallNow() const override {
    return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
        std::chrono::nanoseconds(wall_base_ns_ + ns_.load())));
  }
  void Sleep(std::chrono::nanoseconds d) override { Advance(d); }
  void Advance(std::chrono::nanoseconds d) { ns_ += d.count(); }

 private:
  std::atomic<int64_t> ns_{1'000'000'000};
  int64_t wall_base_ns_ = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
};

// Milliseconds since the Unix epoch.
int64_t UnixMillis(SystemTime t);
// RFC 3339 UTC with millisecond precision: "2026-11-26T10:39:49.123Z".
std::string FormatRfc3339(SystemTime t);

}  // namespace emporium
