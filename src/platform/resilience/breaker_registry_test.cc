#include "platform/resilience/breaker_registry.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace emporium::resilience {
namespace {

TEST(BreakerRegistryTest, OneBreakerPerUpstreamListedByName) {
  FakeClock clock;
  BreakerRegistry registry(clock, {.consecutive_failures = 1});
  CircuitBreaker& payments = registry.Get("payments");
  EXPECT_EQ(&payments, &registry.Get("payments"));
  registry.Get("catalog", {.consecutive_failures = 100});

  auto ticket = payments.Allow();
  ASSERT_TRUE(ticket.ok());
  ticket->Record(BreakerOutcome::kFailure);

  std::vector<BreakerSnapshot> snaps = registry.Snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[0].name, "catalog");
  EXPECT_EQ(snaps[0].state, BreakerState::kClosed);
  EXPECT_EQ(snaps[1].name, "payments");
  EXPECT_EQ(snaps[1].state, BreakerState::kOpen);
}

TEST(BreakerRegistryTest, ConcurrentGetReturnsSameBreaker) {
  FakeClock clock;
  BreakerRegistry registry(clock);
  std::vector<CircuitBreaker*> seen(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back([&, t] { seen[t] = &registry.Get("orders"); });
  for (auto& th : threads) th.join();
  for (CircuitBreaker* b : seen) EXPECT_EQ(b, seen[0]);
  EXPECT_EQ(registry.Snapshots().size(), 1u);
}

}  // namespace
}  // namespace emporium::resilience
