// A small pool of synchronous hiredis connections for the Redis KV backend.
//
// Connections are made on demand up to pool_size; a caller waits up to the command timeout for
// one to come free. A connection that failed (I/O error, timeout) is closed instead of being
// returned, and an idle one the server has closed is noticed before reuse, so after a Redis
// restart the next call simply reconnects.
//
// Thread-safety: Acquire and Lease may be used from many threads; one Lease belongs to one thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"

struct redisContext;

namespace emporium::kv {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;  // AUTH when not empty
  size_t pool_size = 8;
  Millis connect_timeout{1000};
  Millis command_timeout{1000};
};

// "redis://[:password@]host[:port][/db][?pool_size=N&timeout_ms=N&connect_timeout_ms=N]".
// Host may be a bracketed IPv6 literal. kInvalidArgument on anything else.
Result<RedisOptions> ParseRedisUrl(std::string_view url);

class RedisPool {
 public:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  // Borrowed connection; returned to the pool on destruction unless marked broken.
  class Lease {
   public:
    Lease(RedisPool* pool, ContextPtr context) : pool_(pool), context_(std::move(context)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    redisContext* get() const { return context_.get(); }
    // The connection's state is unknown (I/O error or timeout): close it instead of reusing it.
    void MarkBroken() { broken_ = true; }

   private:
    RedisPool* pool_;
    ContextPtr context_;
    bool broken_ = false;
  };

  explicit RedisPool(RedisOptions options) : options_(std::move(options)) {}
  // kUnavailable when no connection can be made or none frees up within the command timeout.
  Result<Lease> Acquire();
  const RedisOptions& options() const { return options_; }

 private:
  Result<ContextPtr> Connect();
  void Release(ContextPtr context, bool broken);

  const RedisOptions options_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<ContextPtr> idle_;  // guarded by mu_
  size_t open_ = 0;               // guarded by mu_: idle plus leased
};

}  // namespace emporium::kv
