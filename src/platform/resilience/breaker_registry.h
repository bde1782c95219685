// One CircuitBreaker per upstream name, created on first use, so the RPC client can look its
// breaker up by upstream and the admin/metrics endpoints can list every breaker's state.
//
// Thread-safe. Breakers live as long as the registry; references returned stay valid.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/clock.h"
#include "platform/resilience/circuit_breaker.h"

namespace emporium::resilience {

class BreakerRegistry {
 public:
  // `clock` must outlive the registry; `defaults` apply to breakers created by Get().
  explicit BreakerRegistry(Clock& clock, CircuitBreakerOptions defaults = {});

  // The breaker for `upstream`, created with the defaults if it does not exist yet.
  CircuitBreaker& Get(std::string_view upstream);
  // Like Get(), but a breaker created now uses `options` (an existing one keeps its own).
  CircuitBreaker& Get(std::string_view upstream, const CircuitBreakerOptions& options);
  // Snapshots of every breaker, ordered by name.
  std::vector<BreakerSnapshot> Snapshots() const;

 private:
  Clock& clock_;
  const CircuitBreakerOptions defaults_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<CircuitBreaker>, std::less<>> breakers_;
};

}  // namespace emporium::resilience
