// Token-bucket rate limits for the gateway: a limiter interface, an in-memory implementation
// (one process), a KV-backed one (shared by every gateway process through Redis), and the
// router middleware that applies them per client IP or per authenticated user.
//
// Thread-safety: every RateLimiter and the middleware are safe to use from many threads.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/core/clock.h"
#include "platform/http/router.h"

namespace emporium::kv {
class Store;
}

namespace emporium::gateway {

// A bucket refills `rate` tokens per second up to `burst`; each request takes one token.
// rate <= 0 disables the limit.
struct BucketSpec {
  double rate = 0;
  double burst = 0;
  bool enabled() const { return rate > 0 && burst >= 1; }
};

struct Decision {
  bool allowed = true;
  Millis retry_after{0};  // when denied: how long until one token is available
};

// The interface a gateway uses, so the in-memory limiter can be swapped for a shared one.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes one token from key's bucket. Never fails: a limiter whose backing store is down lets
  // requests through (a rate limit must not become an outage).
  virtual Decision Take(std::string_view key, const BucketSpec& spec) = 0;
};

struct MemoryLimiterOptions {
  size_t shards = 16;
  // Buckets kept in total; past it the least recently used bucket is dropped (which resets that
  // key to a full bucket: bounded memory is worth more than exactness under a key flood).
  size_t max_keys = 100'000;
};

// Exact token buckets in memory, sharded by key hash, each shard an LRU list. A bucket that has
// refilled completely is indistinguishable from a new one, so such idle buckets are dropped as
// they reach the LRU tail: memory follows the active keys, with no sweeper thread.
class MemoryRateLimiter final : public RateLimiter {
 public:
  explicit MemoryRateLimiter(Clock& clock, MemoryLimiterOptions options = {});
  Decision Take(std::string_view key, const BucketSpec& spec) override;
  // Buckets currently held (for tests and metrics).
  size_t size() const;

 private:
  struct Bucket {
    std::string key;
    double tokens = 0;
    SteadyTime last{};
    BucketSpec spec;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Bucket> lru;  // front: most recently used
    std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;
  };
  static bool Refilled(const Bucket& b, SteadyTime now);

  Clock& clock_;
  const size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// Fixed windows in a kv::Store (atomic Increment with a TTL): a bucket of rate r and burst b is
// approximated by windows of max(1 s, b / r) allowing b requests each. Windows follow wall time,
// so several gateway processes sharing one Redis agree on them. On a store error the request is
// allowed (and the error counted by the caller's logs, not here).
class KvRateLimiter final : public RateLimiter {
 public:
  // store and clock must outlive the limiter.
  KvRateLimiter(kv::Store& store, Clock& clock, std::string prefix = "ratelimit:");
  Decision Take(std::string_view key, const BucketSpec& spec) override;

 private:
  kv::Store& store_;
  Clock& clock_;
  const std::string prefix_;
};

// Which key a middleware limits on.
enum class LimitBy { kClientIp, kUser };

// Applies one limiter to every routed request except the probes and metrics (/livez, /readyz,
// /metrics). kClientIp keys on the connection's peer address (X-Forwarded-For is not trusted);
// kUser keys on the principal's subject and lets requests without a principal through, so it
// must run after the auth middleware. Over the limit: 429 problem+json with Retry-After
// (whole seconds, at least 1).
class RateLimitMiddleware final : public http::Middleware {
 public:
  RateLimitMiddleware(LimitBy by, BucketSpec spec, std::unique_ptr<RateLimiter> limiter);
  std::optional<http::Response> Before(http::Request& req, const http::Route& route) override;

 private:
  const LimitBy by_;
  const BucketSpec spec_;
  std::unique_ptr<RateLimiter> limiter_;
};

// 429 problem+json with Retry-After rounded up to whole seconds (at least 1).
http::Response TooManyRequests(Millis retry_after, std::string_view instance);

}  // namespace emporium::gateway
