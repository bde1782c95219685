#include "platform/resilience/bulkhead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace emporium::resilience {
namespace {

using std::chrono::seconds;

TEST(BulkheadTest, LimitsInFlightAndReleasesOnDestruction) {
  FakeClock clock;
  Bulkhead bulkhead("db", clock, {.max_in_flight = 2});
  auto a = bulkhead.TryAcquire();
  auto b = bulkhead.TryAcquire();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(bulkhead.in_flight(), 2);
  auto c = bulkhead.TryAcquire();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kResourceExhausted);
  a->Release();
  a->Release();  // idempotent
  EXPECT_EQ(bulkhead.in_flight(), 1);
  {
    auto d = bulkhead.TryAcquire();
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(bulkhead.TryAcquire().ok());
  }
  EXPECT_EQ(bulkhead.in_flight(), 1);
  BulkheadPermit moved = std::move(b).value();
  EXPECT_EQ(bulkhead.in_flight(), 1) << "moving a permit keeps one slot";
}

TEST(BulkheadTest, AcquireWithoutMaxWaitDoesNotWait) {
  FakeClock clock;
  Bulkhead bulkhead("db", clock, {.max_in_flight = 1});
  auto held = bulkhead.TryAcquire();
  ASSERT_TRUE(held.ok());
  auto r = bulkhead.Acquire(clock.Now() + seconds(10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
}

TEST(BulkheadTest, WaiterGetsReleasedPermit) {
  FakeClock clock;
  Bulkhead bulkhead("db", clock, {.max_in_flight = 1, .max_wait = seconds(10)});
  auto held = bulkhead.TryAcquire();
  ASSERT_TRUE(held.ok());
  std::atomic<bool> done{false};
  Status waited_status;
  std::thread waiter([&] {
    auto r = bulkhead.Acquire(SteadyTime::max());
    waited_status = r.status();
    done = true;
  });
  while (bulkhead.waiting() == 0) std::this_thread::yield();
  EXPECT_FALSE(done.load());
  held->Release();
  waiter.join();
  EXPECT_TRUE(waited_status.ok()) << waited_status.ToString();
  EXPECT_EQ(bulkhead.in_flight(), 0) << "the waiter's permit is released at the end of its scope";
}

TEST(BulkheadTest, WaitEndsWhenFakeTimeRunsOut) {
  FakeClock clock;
  Bulkhead bulkhead("db", clock, {.max_in_flight = 1, .max_wait = seconds(10)});
  auto held = bulkhead.TryAcquire();
  ASSERT_TRUE(held.ok());

  Status by_max_wait;
  std::thread a([&] { by_max_wait = bulkhead.Acquire(SteadyTime::max()).status(); });
  while (bulkhead.waiting() == 0) std::this_thread::yield();
  clock.Advance(seconds(11));
  a.join();
  EXPECT_EQ(by_max_wait.code(), Code::kResourceExhausted);

  Status by_deadline;
  std::thread b([&] { by_deadline = bulkhead.Acquire(clock.Now() + seconds(1)).status(); });
  while (bulkhead.waiting() == 0) std::this_thread::yield();
  clock.Advance(seconds(2));
  b.join();
  EXPECT_EQ(by_deadline.code(), Code::kDeadlineExceeded);
  EXPECT_EQ(bulkhead.waiting(), 0);
}

TEST(BulkheadTest, WaitQueueIsBounded) {
  FakeClock clock;
  Bulkhead bulkhead("db", clock, {.max_in_flight = 1, .max_wait = seconds(10), .max_waiters = 1});
  auto held = bulkhead.TryAcquire();
  ASSERT_TRUE(held.ok());
  std::thread waiter([&] { (void)bulkhead.Acquire(SteadyTime::max()); });
  while (bulkhead.waiting() == 0) std::this_thread::yield();
  auto r = bulkhead.Acquire(SteadyTime::max());
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  EXPECT_NE(r.status().message().find("queue full"), std::string::npos);
  held->Release();
  waiter.join();
}

TEST(BulkheadTest, ConcurrentUseNeverExceedsLimit) {
  FakeClock clock;
  Bulkhead bulkhead("db", clock, {.max_in_flight = 3});
  std::atomic<int> current{0};
  std::atomic<int> peak{0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto permit = bulkhead.TryAcquire();
        if (!permit.ok()) continue;
        ++admitted;
        int now = ++current;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        --current;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(peak.load(), 3);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_EQ(bulkhead.in_flight(), 0);
}

}  // namespace
}  // namespace emporium::resilience
