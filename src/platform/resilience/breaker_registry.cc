#include "platform/resilience/breaker_registry.h"

namespace emporium::resilience {

BreakerRegistry::BreakerRegistry(Clock& clock, CircuitBreakerOptions defaults)
    : clock_(clock), defaults_(defaults) {}

CircuitBreaker& BreakerRegistry::Get(std::string_view upstream) {
  return Get(upstream, defaults_);
}

CircuitBreaker& BreakerRegistry::Get(std::string_view upstream, const CircuitBreakerOptions& options) {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(upstream);
  if (it != breakers_.end()) return *it->second;
  auto breaker = std::make_unique<CircuitBreaker>(std::string(upstream), clock_, options);
  CircuitBreaker& ref = *breaker;
  breakers_.emplace(std::string(upstream), std::move(breaker));
  return ref;
}

std::vector<BreakerSnapshot> BreakerRegistry::Snapshots() const {
  std::lock_guard lock(mu_);
  std::vector<BreakerSnapshot> out;
  out.reserve(breakers_.size());
  for (const auto& [name, breaker] : breakers_) out.push_back(breaker->Snapshot());
  return out;
}

}  // namespace emporium::resilience
