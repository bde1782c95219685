// AuthMiddleware: bearer-token verification with a lazily fetched, rate-limited JWKS and a cache
// of verified tokens, then the route's Access check.
#include "platform/auth/middleware.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <unordered_map>

#include "platform/crypto/crypto.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"

namespace emporium::auth {
namespace {

constexpr std::string_view kRealm = "Bearer realm=\"emporium\"";

// Set while this thread runs a KeySource (see Refresh).
thread_local bool in_fetch = false;

struct CacheEntry {
  Principal principal;
  int64_t valid_until = 0;  // Unix seconds: exp + leeway
  std::string kid;
};

std::optional<std::string_view> BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer";
  if (value.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view rest = value.substr(kScheme.size());
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;  // e.g. "Bearerx": another scheme
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

http::Response Challenge(int status, std::string_view detail, std::string_view path, std::string header) {
  http::Response resp = http::Problem(status, detail, path);
  resp.headers.Set("WWW-Authenticate", std::move(header));
  return resp;
}

}  // namespace

struct AuthMiddleware::Impl {
  KeySource source;
  AuthOptions options;
  Clock& clock;

  std::mutex fetch_mu;  // one KeySource call at a time; taken before mu, never after
  mutable std::mutex mu;
  // shared_ptr: a request keeps verifying with the key set it loaded while a refetch swaps in
  // the next one.
  std::shared_ptr<const Verifier> verifier;
  std::optional<SteadyTime> last_fetch;
  std::unordered_map<std::string, CacheEntry> cache;
  // Counters outside mu: the hot path (a cache hit) should hold the lock as briefly as possible.
  std::atomic<uint64_t> verifications{0}, cache_hits{0}, fetches{0};

  Impl(KeySource s, AuthOptions o, Clock& c) : source(std::move(s)), options(std::move(o)), clock(c) {}

  int64_t NowSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch()).count();
  }

  std::shared_ptr<const Verifier> Current() const {
    std::lock_guard lock(mu);
    return verifier;
  }

  // Fetches the JWKS unless `satisfied` already holds for the current key set or a fetch ran
  // within min_refetch_interval. Returns the key set afterwards (null if never fetched).
  std::shared_ptr<const Verifier> Refresh(const std::function<bool(const Verifier*)>& satisfied) {
    // In embedded mode the KeySource calls identity in-process, through this same middleware on
    // this same thread. Should that call carry a bearer token, waiting for fetch_mu would
    // deadlock: answer it with the keys we have (none → 503) instead.
    if (in_fetch) return Current();
    std::lock_guard fetch_lock(fetch_mu);
    {
      std::lock_guard lock(mu);
      if (verifier && satisfied(verifier.get())) return verifier;
      if (last_fetch && clock.Now() - *last_fetch < options.min_refetch_interval) return verifier;
      last_fetch = clock.Now();
      ++fetches;
    }
    Result<std::string> doc = Internal("the key source failed");
    in_fetch = true;
    try {
      doc = source();
    } catch (const std::exception& e) {
      doc = Internal(std::string("the key source threw: ") + e.what());
    } catch (...) {
    }
    in_fetch = false;
    if (!doc.ok()) {
      log::Warn("JWKS fetch failed", {{"error", doc.status().ToString()}});
      return Current();
    }
    auto parsed = Verifier::FromJwks(*doc);
    if (!parsed.ok()) {
      log::Warn("JWKS document rejected", {{"error", parsed.status().ToString()}});
      return Current();
    }
    auto next = std::make_shared<const Verifier>(std::move(parsed).value());
    std::lock_guard lock(mu);
    verifier = next;
    // A key that left the set may have been withdrawn on purpose: its tokens must verify again.
    std::erase_if(cache, [&](const auto& kv) { return !next->HasKey(kv.second.kid); });
    return verifier;
  }

  std::optional<Principal> CacheLookup(const std::string& hash, int64_t now) {
    std::lock_guard lock(mu);
    auto it = cache.find(hash);
    if (it == cache.end()) return std::nullopt;
    if (it->second.valid_until < now) {
      cache.erase(it);
      return std::nullopt;
    }
    ++cache_hits;
    return it->second.principal;
  }

  void CacheInsert(std::string hash, CacheEntry entry, int64_t now) {
    std::lock_guard lock(mu);
    if (cache.size() >= options.cache_entries) {
      std::erase_if(cache, [now](const auto& kv) { return kv.second.valid_until < now; });
      // Still full of live tokens: drop a tenth (arbitrary ones) so this sweep stays amortised.
      size_t target = options.cache_entries - options.cache_entries / 10 - 1;
      for (auto it = cache.begin(); it != cache.end() && cache.size() > target;) it = cache.erase(it);
    }
    cache.insert_or_assign(std::move(hash), std::move(entry));
  }

  Result<Claims> VerifyWith(const Verifier& v, std::string_view token) {
    ++verifications;
    return v.Verify(token, options.verify, clock);
  }
};

AuthMiddleware::AuthMiddleware(KeySource source, AuthOptions options, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(source), std::move(options), clock)) {}

AuthMiddleware::~AuthMiddleware() = default;

AuthMiddleware::Stats AuthMiddleware::stats() const {
  return {impl_->verifications.load(), impl_->cache_hits.load(), impl_->fetches.load()};
}

Result<Principal> AuthMiddleware::Authenticate(std::string_view token) {
  Impl& m = *impl_;
  int64_t now = m.NowSeconds();
  bool use_cache = m.options.cache_entries > 0;
  std::string hash = use_cache ? crypto::Sha256(token) : std::string();
  if (use_cache) {
    if (auto hit = m.CacheLookup(hash, now)) return *std::move(hit);
  }

  std::shared_ptr<const Verifier> v = m.Current();
  if (!v) v = m.Refresh([](const Verifier*) { return true; });
  if (!v) return Unavailable("the token signing keys are not available");

  Result<Claims> claims = m.VerifyWith(*v, token);
  std::optional<std::string> kid = Verifier::PeekKid(token);
  if (!claims.ok() && claims.status().code() == Code::kNotFound && kid) {
    // Possibly a key identity rotated in after our fetch: look again (rate-limited).
    auto next = m.Refresh([&](const Verifier* cur) { return cur->HasKey(*kid); });
    if (next && next->HasKey(*kid)) claims = m.VerifyWith(*next, token);
  }
  if (!claims.ok()) return Unauthenticated(claims.status().message());

  Principal principal = PrincipalFrom(*claims);
  if (use_cache && kid) {
    int64_t leeway = m.options.verify.leeway.count();
    int64_t valid_until = claims->exp > INT64_MAX - leeway ? INT64_MAX : claims->exp + leeway;
    m.CacheInsert(std::move(hash), CacheEntry{principal, valid_until, std::move(*kid)}, now);
  }
  return principal;
}

std::optional<http::Response> AuthMiddleware::Before(http::Request& req, const http::Route& route) {
  if (auto header = req.headers.Get("Authorization")) {
    if (auto token = BearerToken(*header)) {
      if (token->empty()) {
        return Challenge(401, "The Authorization header has no bearer token.", req.path,
                         std::string(kRealm) + ", error=\"invalid_request\"");
      }
      auto principal = Authenticate(*token);
      if (!principal.ok()) {
        if (principal.status().code() == Code::kUnavailable) {
          http::Response resp = http::Problem(503, "The access token cannot be checked right now.", req.path);
          auto secs = std::chrono::ceil<std::chrono::seconds>(impl_->options.min_refetch_interval).count();
          resp.headers.Set("Retry-After", std::to_string(std::max<int64_t>(1, secs)));
          return resp;
        }
        const std::string& why = principal.status().message();
        return Challenge(
            401, "The access token is invalid: " + why + ".", req.path,
            std::string(kRealm) + ", error=\"invalid_token\", error_description=\"" + why + "\"");
      }
      req.principal = std::move(principal).value();
    }
  }

  Status access = CheckAccess(req.principal, route.options.access);
  if (access.ok()) return std::nullopt;
  if (access.code() == Code::kUnauthenticated) {
    return Challenge(401, "This resource needs an access token.", req.path, std::string(kRealm));
  }
  return Challenge(403, "You are not allowed to do this: " + access.message() + ".", req.path,
                   std::string(kRealm) + ", error=\"insufficient_scope\"");
}

std::unique_ptr<http::Middleware> NewAuthMiddleware(KeySource source, AuthOptions options, Clock& clock) {
  return std::make_unique<AuthMiddleware>(std::move(source), std::move(options), clock);
}

}  // namespace emporium::auth
