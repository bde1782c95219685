// Redis KV backend over hiredis (sync API) and a RedisPool.
//
// Set uses SET PX; Increment (INCRBY, plus PEXPIRE only when the key is new) and CompareAndSet
// run as Lua scripts so each is atomic on the server; scripts go by EVALSHA and fall back to EVAL
// when the server does not have them cached. I/O failures and timeouts are kUnavailable; a value
// that is not an integer (or of another Redis type) is kFailedPrecondition.
//
// Thread-safety: safe to use from many threads (each call borrows a pooled connection).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "platform/kv/kv.h"
#include "platform/kv/redis_pool.h"

struct redisReply;

namespace emporium::kv {

class RedisStore final : public Store {
 public:
  // Connects once (and PINGs) so a missing server is reported here as kUnavailable.
  static Result<std::unique_ptr<RedisStore>> Open(const RedisOptions& options);

  // Default arguments repeat Store's so calls through the concrete type behave the same.
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Set(std::string_view key, std::string_view value, Millis ttl = Millis(0)) override;
  Result<bool> Delete(std::string_view key) override;
  Result<int64_t> Increment(std::string_view key, int64_t delta, Millis ttl = Millis(0)) override;
  Result<bool> CompareAndSet(std::string_view key, std::optional<std::string_view> expected,
                             std::string_view desired, Millis ttl = Millis(0)) override;
  Result<std::optional<Millis>> Ttl(std::string_view key) override;

  // Use Open; public only so make_unique can reach it.
  explicit RedisStore(const RedisOptions& options) : pool_(options) {}

 private:
  struct Script;
  struct ReplyDeleter {
    void operator()(redisReply* reply) const;
  };
  using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

  // Runs one command; an error reply comes back as a reply, I/O failure as kUnavailable.
  Result<ReplyPtr> Command(std::initializer_list<std::string_view> args);
  Result<ReplyPtr> Command(const std::vector<std::string_view>& args);
  Result<ReplyPtr> Eval(const Script& script, std::string_view key,
                        std::initializer_list<std::string_view> args);

  RedisPool pool_;
};

}  // namespace emporium::kv
