#include "platform/kv/redis_store.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <vector>

namespace emporium::kv {

struct RedisStore::Script {
  explicit Script(std::string_view text) : body(text) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(body.data(), body.size(), md, &len, EVP_sha1(), nullptr);
    for (unsigned int i = 0; i < len; ++i) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02x", md[i]);
      sha += hex;
    }
  }
  std::string_view body;
  std::string sha;  // what EVALSHA names it by
};

namespace {

// ARGV: delta, ttl ms (0 = none). Returns the new value as a string: Lua numbers are doubles and
// would round counters above 2^53.
constexpr std::string_view kIncrementLua = R"lua(
local existed = redis.call('EXISTS', KEYS[1])
redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 and ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[1])
)lua";

// ARGV: '1' when a current value is expected ('0': key must be absent), expected, desired, ttl ms.
constexpr std::string_view kCompareAndSetLua = R"lua(
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[3])
end
return 1
)lua";

std::string_view Text(const redisReply* r) {
  return {r->str, r->len};
}

Status FromErrorReply(const redisReply* r) {
  std::string_view msg = Text(r);
  std::string text = "redis: " + std::string(msg);
  if (msg.find("not an integer") != std::string_view::npos ||
      msg.find("overflow") != std::string_view::npos || msg.find("WRONGTYPE") != std::string_view::npos) {
    return FailedPrecondition(std::move(text));
  }
  for (std::string_view transient : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "READONLY"}) {
    if (msg.starts_with(transient)) return Unavailable(std::move(text));
  }
  return Internal(std::move(text));
}

Status Unexpected(const redisReply* r, std::string_view command) {
  if (r->type == REDIS_REPLY_ERROR) return FromErrorReply(r);
  return Internal("redis: unexpected reply type " + std::to_string(r->type) + " to " + std::string(command));
}

std::string TtlArg(Millis ttl) {
  return std::to_string(ttl.count());
}

}  // namespace

void RedisStore::ReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

Result<std::unique_ptr<RedisStore>> RedisStore::Open(const RedisOptions& options) {
  auto store = std::make_unique<RedisStore>(options);
  EMP_ASSIGN_OR_RETURN(ReplyPtr pong, store->Command({"PING"}));
  if (pong->type != REDIS_REPLY_STATUS) return Unexpected(pong.get(), "PING");
  return store;
}

Result<RedisStore::ReplyPtr> RedisStore::Command(std::initializer_list<std::string_view> args) {
  return Command(std::vector<std::string_view>(args));
}

Result<RedisStore::ReplyPtr> RedisStore::Command(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  EMP_ASSIGN_OR_RETURN(RedisPool::Lease lease, pool_.Acquire());
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(lease.get(), static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!reply) {
    // The command may or may not have run; the connection's protocol state is unknown.
    lease.MarkBroken();
    return Unavailable(std::string("redis: ") + lease.get()->errstr);
  }
  return reply;
}

Result<RedisStore::ReplyPtr> RedisStore::Eval(const Script& script, std::string_view key,
                                              std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> argv{"EVALSHA", script.sha, "1", key};
  argv.insert(argv.end(), args.begin(), args.end());
  EMP_ASSIGN_OR_RETURN(ReplyPtr reply, Command(argv));
  if (reply->type != REDIS_REPLY_ERROR || !Text(reply.get()).starts_with("NOSCRIPT")) return reply;
  // Not cached (server restarted or SCRIPT FLUSH): EVAL sends the body and caches it again.
  argv[0] = "EVAL";
  argv[1] = script.body;
  return Command(argv);
}

Result<std::optional<std::string>> RedisStore::Get(std::string_view key) {
  EMP_ASSIGN_OR_RETURN(ReplyPtr r, Command({"GET", key}));
  if (r->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (r->type != REDIS_REPLY_STRING) return Unexpected(r.get(), "GET");
  return std::optional<std::string>(std::string(Text(r.get())));
}

Status RedisStore::Set(std::string_view key, std::string_view value, Millis ttl) {
  if (ttl.count() < 0) return InvalidArgument("kv: negative ttl");
  std::string px = TtlArg(ttl);
  EMP_ASSIGN_OR_RETURN(
      ReplyPtr r, ttl.count() > 0 ? Command({"SET", key, value, "PX", px}) : Command({"SET", key, value}));
  if (r->type != REDIS_REPLY_STATUS) return Unexpected(r.get(), "SET");
  return Status::Ok();
}

Result<bool> RedisStore::Delete(std::string_view key) {
  EMP_ASSIGN_OR_RETURN(ReplyPtr r, Command({"DEL", key}));
  if (r->type != REDIS_REPLY_INTEGER) return Unexpected(r.get(), "DEL");
  return r->integer > 0;
}

Result<int64_t> RedisStore::Increment(std::string_view key, int64_t delta, Millis ttl) {
  if (ttl.count() < 0) return InvalidArgument("kv: negative ttl");
  static const Script kScript(kIncrementLua);
  std::string delta_arg = std::to_string(delta);
  std::string ttl_arg = TtlArg(ttl);
  EMP_ASSIGN_OR_RETURN(ReplyPtr r, Eval(kScript, key, {delta_arg, ttl_arg}));
  if (r->type != REDIS_REPLY_STRING) return Unexpected(r.get(), "increment script");
  int64_t value = 0;
  std::string_view text = Text(r.get());
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Internal("redis: increment returned " + std::string(text));
  }
  return value;
}

Result<bool> RedisStore::CompareAndSet(std::string_view key, std::optional<std::string_view> expected,
                                       std::string_view desired, Millis ttl) {
  if (ttl.count() < 0) return InvalidArgument("kv: negative ttl");
  static const Script kScript(kCompareAndSetLua);
  std::string ttl_arg = TtlArg(ttl);
  EMP_ASSIGN_OR_RETURN(ReplyPtr r,
                       Eval(kScript, key, {expected ? "1" : "0", expected.value_or(""), desired, ttl_arg}));
  if (r->type != REDIS_REPLY_INTEGER) return Unexpected(r.get(), "compare-and-set script");
  return r->integer == 1;
}

Result<std::optional<Millis>> RedisStore::Ttl(std::string_view key) {
  EMP_ASSIGN_OR_RETURN(ReplyPtr r, Command({"PTTL", key}));
  if (r->type != REDIS_REPLY_INTEGER) return Unexpected(r.get(), "PTTL");
  if (r->integer == -2) return std::optional<Millis>();
  if (r->integer == -1) return std::optional<Millis>(Millis(0));
  // Under a millisecond left still means "expires", which Millis(0) would not say.
  return std::optional<Millis>(Millis(std::max<long long>(r->integer, 1)));
}

}  // namespace emporium::kv
