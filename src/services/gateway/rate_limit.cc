#include "services/gateway/rate_limit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

#include "platform/http/problem.h"
#include "platform/kv/kv.h"

namespace emporium::gateway {
namespace {

using Seconds = std::chrono::duration<double>;

Millis ToMillisCeil(double seconds) {
  return Millis(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace

MemoryRateLimiter::MemoryRateLimiter(Clock& clock, MemoryLimiterOptions options)
    : clock_(clock), per_shard_(std::max<size_t>(1, options.max_keys / std::max<size_t>(1, options.shards))) {
  shards_.reserve(std::max<size_t>(1, options.shards));
  for (size_t i = 0; i < std::max<size_t>(1, options.shards); ++i)
    shards_.push_back(std::make_unique<Shard>());
}

bool MemoryRateLimiter::Refilled(const Bucket& b, SteadyTime now) {
  return b.tokens + Seconds(now - b.last).count() * b.spec.rate >= b.spec.burst;
}

Decision MemoryRateLimiter::Take(std::string_view key, const BucketSpec& spec) {
  if (!spec.enabled()) return {};
  const SteadyTime now = clock_.Now();
  Shard& shard = *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::lock_guard lock(shard.mu);

  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    // Idle buckets sit at the tail; drop those that refilled, then the oldest if still full.
    while (!shard.lru.empty() && (shard.lru.size() >= per_shard_ || Refilled(shard.lru.back(), now))) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
    }
    shard.lru.push_front(Bucket{std::string(key), spec.burst, now, spec});
    it = shard.index.emplace(shard.lru.front().key, shard.lru.begin()).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  }

  Bucket& b = *it->second;
  b.spec = spec;
  b.tokens = std::min(spec.burst, b.tokens + std::max(0.0, Seconds(now - b.last).count()) * spec.rate);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  return Decision{false, ToMillisCeil((1.0 - b.tokens) / spec.rate)};
}

size_t MemoryRateLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->lru.size();
  }
  return n;
}

KvRateLimiter::KvRateLimiter(kv::Store& store, Clock& clock, std::string prefix)
    : store_(store), clock_(clock), prefix_(std::move(prefix)) {}

Decision KvRateLimiter::Take(std::string_view key, const BucketSpec& spec) {
  if (!spec.enabled()) return {};
  const int64_t window_ms = std::max<int64_t>(1000, ToMillisCeil(spec.burst / spec.rate).count());
  const auto limit = static_cast<int64_t>(spec.burst);
  const int64_t now_ms = UnixMillis(clock_.WallNow());
  const int64_t window = now_ms / window_ms;
  std::string k = prefix_;
  k.append(key).append(":").append(std::to_string(window_ms)).append(":").append(std::to_string(window));
  // The TTL outlives the window a little so a key never expires while its window is current.
  Result<int64_t> count = store_.Increment(k, 1, Millis(window_ms + 1000));
  if (!count.ok() || *count <= limit) return {};
  return Decision{false, Millis((window + 1) * window_ms - now_ms)};
}

http::Response TooManyRequests(Millis retry_after, std::string_view instance) {
  const int64_t seconds = std::max<int64_t>(1, (retry_after.count() + 999) / 1000);
  http::Response resp =
      http::Problem(429, "Too many requests; retry after " + std::to_string(seconds) + " s.", instance);
  resp.headers.Set("Retry-After", std::to_string(seconds));
  return resp;
}

RateLimitMiddleware::RateLimitMiddleware(LimitBy by, BucketSpec spec, std::unique_ptr<RateLimiter> limiter)
    : by_(by), spec_(spec), limiter_(std::move(limiter)) {}

std::optional<http::Response> RateLimitMiddleware::Before(http::Request& req, const http::Route& route) {
  if (!spec_.enabled()) return std::nullopt;
  // Orchestrators and scrapers must always get through, or an overloaded pod looks dead.
  if (route.pattern == "/livez" || route.pattern == "/readyz" || route.pattern == "/metrics")
    return std::nullopt;
  // No client address: a call from another module in this process (cart asking catalog for a
  // price), made while serving a request this limiter already counted at the edge.
  if (req.remote_addr.empty()) return std::nullopt;
  std::string key;
  if (by_ == LimitBy::kClientIp) {
    key = "ip:" + req.remote_addr;
  } else {
    if (!req.principal || req.principal->subject.empty()) return std::nullopt;
    key = "sub:" + req.principal->subject;
  }
  Decision d = limiter_->Take(key, spec_);
  if (d.allowed) return std::nullopt;
  return TooManyRequests(d.retry_after, req.path);
}

}  // namespace emporium::gateway
