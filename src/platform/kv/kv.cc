#include "platform/kv/kv.h"

#include "platform/kv/memory_store.h"
#include "platform/kv/redis_store.h"

namespace emporium::kv {
namespace {

// "memory://" → volatile; "memory:///dir" and "file:///dir" → persisted under /dir.
Result<std::unique_ptr<Store>> OpenEmbedded(const std::string& url, std::string_view rest, bool needs_dir,
                                            Clock& clock) {
  MemoryStoreOptions options;
  if (!rest.empty()) {
    if (!rest.starts_with('/')) {
      return InvalidArgument("kv: '" + url + "' must name an absolute directory, e.g. file:///var/lib/x");
    }
    options.dir = std::filesystem::path(rest);
  } else if (needs_dir) {
    return InvalidArgument("kv: '" + url + "' needs a directory, e.g. file:///var/lib/x");
  }
  EMP_ASSIGN_OR_RETURN(std::unique_ptr<MemoryStore> store, MemoryStore::Open(clock, std::move(options)));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace

Result<std::vector<int64_t>> Store::IncrementMany(std::span<const std::pair<std::string, int64_t>> deltas,
                                                  Millis ttl) {
  std::vector<int64_t> out;
  out.reserve(deltas.size());
  for (const auto& [key, delta] : deltas) {
    EMP_ASSIGN_OR_RETURN(int64_t v, Increment(key, delta, ttl));
    out.push_back(v);
  }
  return out;
}

Result<std::unique_ptr<Store>> Open(const std::string& url, Clock& clock) {
  std::string_view u = url;
  if (u.starts_with("memory://")) return OpenEmbedded(url, u.substr(9), false, clock);
  if (u.starts_with("file://")) return OpenEmbedded(url, u.substr(7), true, clock);
  if (u.starts_with("redis://")) {
    EMP_ASSIGN_OR_RETURN(RedisOptions options, ParseRedisUrl(u));
    EMP_ASSIGN_OR_RETURN(std::unique_ptr<RedisStore> store, RedisStore::Open(options));
    return std::unique_ptr<Store>(std::move(store));
  }
  return InvalidArgument("kv: unknown store url '" + url + "' (use memory://, file:///dir or redis://)");
}

}  // namespace emporium::kv
