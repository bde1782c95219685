#include "platform/kv/redis_pool.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <charconv>
#include <string_view>

namespace emporium::kv {
namespace {

timeval ToTimeval(Millis d) {
  return timeval{.tv_sec = static_cast<time_t>(d.count() / 1000),
                 .tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// An idle connection should have nothing to read; readable means the server closed it (EOF) or
// sent something we did not ask for. Either way it must not carry the next command.
bool IsStale(redisContext* c) {
  pollfd p{.fd = c->fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) != 0;
}

Status RunSetup(redisContext* c, std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply =
      static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) return Unavailable(std::string("redis: ") + c->errstr);
  bool failed = reply->type == REDIS_REPLY_ERROR;
  std::string message = failed ? std::string(reply->str, reply->len) : "";
  freeReplyObject(reply);
  if (failed) return Unavailable("redis: " + std::string(*args.begin()) + ": " + message);
  return Status::Ok();
}

}  // namespace

Result<RedisOptions> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  auto invalid = [&](std::string_view why) {
    return InvalidArgument("kv: bad redis url '" + std::string(url) + "': " + std::string(why));
  };
  if (!url.starts_with(kScheme)) return invalid("scheme must be redis://");
  RedisOptions o;
  std::string_view rest = url.substr(kScheme.size());
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    o.password = std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  std::string_view port;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return invalid("unterminated [");
    o.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return invalid("junk after ]");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    size_t colon = rest.find(':');
    o.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (o.host.empty()) return invalid("missing host");
  if (!port.empty() && (!ParseNumber(port, o.port) || o.port <= 0 || o.port > 65535)) {
    return invalid("bad port");
  }
  if (!path.empty() && (!ParseNumber(path, o.db) || o.db < 0)) return invalid("bad db index");
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return invalid("query parameter without value");
    std::string_view key = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    int64_t n = 0;
    if (!ParseNumber(value, n) || n <= 0) return invalid("query values must be positive integers");
    if (key == "pool_size") {
      o.pool_size = static_cast<size_t>(n);
    } else if (key == "timeout_ms") {
      o.command_timeout = Millis(n);
    } else if (key == "connect_timeout_ms") {
      o.connect_timeout = Millis(n);
    } else {
      return invalid("unknown query parameter " + std::string(key));
    }
  }
  return o;
}

void RedisPool::ContextDeleter::operator()(redisContext* c) const {
  redisFree(c);
}

RedisPool::Lease::~Lease() {
  if (context_) pool_->Release(std::move(context_), broken_);
}

Result<RedisPool::ContextPtr> RedisPool::Connect() {
  std::string where = options_.host + ":" + std::to_string(options_.port);
  ContextPtr c(
      redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.connect_timeout)));
  if (!c) return Unavailable("redis " + where + ": out of memory");
  if (c->err != 0) return Unavailable("redis " + where + ": " + c->errstr);
  if (redisSetTimeout(c.get(), ToTimeval(options_.command_timeout)) != REDIS_OK ||
      redisEnableKeepAlive(c.get()) != REDIS_OK) {
    return Unavailable("redis " + where + ": " + c->errstr);
  }
  if (!options_.password.empty()) EMP_RETURN_IF_ERROR(RunSetup(c.get(), {"AUTH", options_.password}));
  if (options_.db != 0) {
    std::string db = std::to_string(options_.db);
    EMP_RETURN_IF_ERROR(RunSetup(c.get(), {"SELECT", db}));
  }
  return c;
}

Result<RedisPool::Lease> RedisPool::Acquire() {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
  while (true) {
    while (!idle_.empty()) {
      ContextPtr c = std::move(idle_.back());
      idle_.pop_back();
      if (!IsStale(c.get())) return Lease(this, std::move(c));
      --open_;
    }
    if (open_ < options_.pool_size) break;
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      return Unavailable("redis: no connection free within the command timeout");
    }
  }
  ++open_;
  lock.unlock();
  // Connect without the lock so a slow connect does not hold up the others.
  Result<ContextPtr> c = Connect();
  if (!c.ok()) {
    lock.lock();
    --open_;
    freed_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(c).value());
}

void RedisPool::Release(ContextPtr context, bool broken) {
  std::lock_guard lock(mu_);
  if (broken || context->err != 0) {
    --open_;
    context.reset();
  } else {
    idle_.push_back(std::move(context));
  }
  freed_.notify_one();
}

}  // namespace emporium::kv
