#include "services/gateway/rate_limit.h"

#include <gtest/gtest.h>

#include "platform/kv/kv.h"

namespace emporium::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int TakeUntilDenied(RateLimiter& l, std::string_view key, const BucketSpec& spec, int bound = 1000) {
  for (int i = 0; i < bound; ++i) {
    if (!l.Take(key, spec).allowed) return i;
  }
  return bound;
}

TEST(MemoryRateLimiter, BurstThenRefillAtTheRate) {
  FakeClock clock;
  MemoryRateLimiter l(clock);
  const BucketSpec spec{.rate = 10, .burst = 5};
  EXPECT_EQ(TakeUntilDenied(l, "k", spec), 5);
  Decision d = l.Take("k", spec);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(100)) << "one token refills in 1/rate s";

  clock.Advance(milliseconds(50));
  d = l.Take("k", spec);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(50));
  clock.Advance(milliseconds(50));
  EXPECT_TRUE(l.Take("k", spec).allowed);
  EXPECT_FALSE(l.Take("k", spec).allowed);

  clock.Advance(seconds(60));
  EXPECT_EQ(TakeUntilDenied(l, "k", spec), 5) << "the bucket never holds more than the burst";
}

TEST(MemoryRateLimiter, SustainedRateIsTheConfiguredRate) {
  FakeClock clock;
  MemoryRateLimiter l(clock);
  const BucketSpec spec{.rate = 50, .burst = 100};
  int allowed = 0;
  for (int tick = 0; tick < 10'000; ++tick) {  // 10 s in 1 ms steps, 1 request per ms
    allowed += l.Take("k", spec).allowed ? 1 : 0;
    clock.Advance(milliseconds(1));
  }
  EXPECT_GE(allowed, 100 + 50 * 10 - 2);
  EXPECT_LE(allowed, 100 + 50 * 10 + 1);
}

TEST(MemoryRateLimiter, KeysAreIsolated) {
  FakeClock clock;
  MemoryRateLimiter l(clock);
  const BucketSpec spec{.rate = 1, .burst = 3};
  EXPECT_EQ(TakeUntilDenied(l, "ip:10.0.0.1", spec), 3);
  EXPECT_EQ(TakeUntilDenied(l, "ip:10.0.0.2", spec), 3);
  EXPECT_FALSE(l.Take("ip:10.0.0.1", spec).allowed);
}

TEST(MemoryRateLimiter, DisabledSpecAlwaysAllowsAndKeepsNoState) {
  FakeClock clock;
  MemoryRateLimiter l(clock);
  EXPECT_EQ(TakeUntilDenied(l, "k", BucketSpec{.rate = 0, .burst = 10}), 1000);
  EXPECT_EQ(l.size(), 0u);
}

TEST(MemoryRateLimiter, RefilledIdleBucketsAreEvicted) {
  FakeClock clock;
  MemoryRateLimiter l(clock, MemoryLimiterOptions{.shards = 1, .max_keys = 100});
  const BucketSpec spec{.rate = 10, .burst = 5};
  l.Take("a", spec);
  l.Take("b", spec);
  EXPECT_EQ(l.size(), 2u);
  clock.Advance(milliseconds(50));
  l.Take("c", spec);
  EXPECT_EQ(l.size(), 3u) << "a and b are not refilled yet";
  clock.Advance(seconds(1));
  l.Take("d", spec);
  EXPECT_EQ(l.size(), 1u) << "refilled buckets are dropped as new keys arrive";
}

TEST(MemoryRateLimiter, SizeIsBoundedAndTheLeastRecentlyUsedGoesFirst) {
  FakeClock clock;
  MemoryRateLimiter l(clock, MemoryLimiterOptions{.shards = 1, .max_keys = 2});
  const BucketSpec spec{.rate = 0.001, .burst = 2};
  EXPECT_EQ(TakeUntilDenied(l, "a", spec), 2);
  l.Take("b", spec);
  EXPECT_FALSE(l.Take("a", spec).allowed);  // a becomes the most recently used
  l.Take("c", spec);                        // evicts b, the least recently used
  EXPECT_EQ(l.size(), 2u);
  EXPECT_FALSE(l.Take("a", spec).allowed) << "a kept its (empty) bucket";

  MemoryRateLimiter sharded(clock, MemoryLimiterOptions{.shards = 4, .max_keys = 64});
  for (int i = 0; i < 10'000; ++i) sharded.Take("ip:" + std::to_string(i), spec);
  EXPECT_LE(sharded.size(), 64u);
}

TEST(KvRateLimiter, WindowsAllowTheBurstThenResetAndIsolateKeys) {
  FakeClock clock;
  auto store = kv::Open("memory://", clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  KvRateLimiter l(**store, clock);
  const BucketSpec spec{.rate = 5, .burst = 10};  // windows of 2 s, 10 requests each
  // Start at a window boundary so the count is exact.
  const int64_t now_ms = UnixMillis(clock.WallNow());
  clock.Advance(milliseconds(2000 - now_ms % 2000));

  EXPECT_EQ(TakeUntilDenied(l, "ip:a", spec), 10);
  Decision d = l.Take("ip:a", spec);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(2000));
  EXPECT_EQ(TakeUntilDenied(l, "ip:b", spec), 10);
  clock.Advance(milliseconds(1500));
  d = l.Take("ip:a", spec);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(500));
  clock.Advance(milliseconds(500));
  EXPECT_EQ(TakeUntilDenied(l, "ip:a", spec), 10);
}

http::Route RouteFor(std::string pattern) {
  return http::Route{http::Method::kGet, std::move(pattern), nullptr, {}};
}

TEST(RateLimitMiddleware, AnswersTooManyRequestsWithRetryAfterPerIp) {
  FakeClock clock;
  RateLimitMiddleware mw(LimitBy::kClientIp, BucketSpec{.rate = 1, .burst = 2},
                         std::make_unique<MemoryRateLimiter>(clock));
  const http::Route route = RouteFor("/v1/products");
  http::Request req;
  req.path = "/v1/products";
  req.remote_addr = "192.0.2.7";
  EXPECT_FALSE(mw.Before(req, route).has_value());
  EXPECT_FALSE(mw.Before(req, route).has_value());
  auto denied = mw.Before(req, route);
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->status, 429);
  EXPECT_EQ(denied->headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(denied->headers.Get("Retry-After").value_or(""), "1");
  EXPECT_NE(denied->body.find("\"status\":429"), std::string::npos) << denied->body;

  http::Request other = req;
  other.remote_addr = "192.0.2.8";
  EXPECT_FALSE(mw.Before(other, route).has_value()) << "another client has its own bucket";
  for (const char* probe : {"/livez", "/readyz", "/metrics"}) {
    EXPECT_FALSE(mw.Before(req, RouteFor(probe)).has_value()) << probe << " is exempt";
  }
  http::Request in_process;  // another module's call in this process: no client address
  in_process.path = "/v1/products";
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(mw.Before(in_process, route).has_value());
}

TEST(RateLimitMiddleware, RetryAfterRoundsUpToWholeSeconds) {
  EXPECT_EQ(TooManyRequests(milliseconds(1), "/").headers.Get("Retry-After").value_or(""), "1");
  EXPECT_EQ(TooManyRequests(milliseconds(2001), "/").headers.Get("Retry-After").value_or(""), "3");
  EXPECT_EQ(TooManyRequests(milliseconds(0), "/").headers.Get("Retry-After").value_or(""), "1");
}

TEST(RateLimitMiddleware, PerUserKeysOnTheVerifiedSubjectOnly) {
  FakeClock clock;
  RateLimitMiddleware mw(LimitBy::kUser, BucketSpec{.rate = 1, .burst = 1},
                         std::make_unique<MemoryRateLimiter>(clock));
  const http::Route route = RouteFor("/v1/me");
  http::Request anonymous;
  anonymous.remote_addr = "192.0.2.7";
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(mw.Before(anonymous, route).has_value());

  http::Request alice = anonymous;
  alice.principal = auth::Principal{.subject = "user:alice"};
  http::Request alice_elsewhere = alice;
  alice_elsewhere.remote_addr = "198.51.100.1";
  http::Request bob = anonymous;
  bob.principal = auth::Principal{.subject = "user:bob"};
  EXPECT_FALSE(mw.Before(alice, route).has_value());
  auto denied = mw.Before(alice_elsewhere, route);
  ASSERT_TRUE(denied.has_value()) << "the same user from another IP shares the bucket";
  EXPECT_EQ(denied->status, 429);
  EXPECT_FALSE(mw.Before(bob, route).has_value());
}

}  // namespace
}  // namespace emporium::gateway
