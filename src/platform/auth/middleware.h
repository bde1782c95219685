// The platform's auth middleware: verifies `Authorization: Bearer <jwt>` against identity's
// JWKS, attaches the Principal to the request and enforces each route's auth::Access.
//
// - JWKS: fetched lazily through a KeySource on the first token to verify; refetched when a
//   token names an unknown kid (key rotation), at most once per min_refetch_interval (failed
//   fetches count too, so a down identity or a flood of made-up kids cannot make us hammer it).
//   The fetch runs on the request's thread; it happens only on a first or rotated kid.
// - Verified tokens are cached (key: SHA-256 of the token, bounded, until exp + leeway), so a
//   repeated token skips the ECDSA verification. Entries whose kid leaves the JWKS are dropped.
// - Answers: an invalid bearer token → 401 problem+json with
//   `WWW-Authenticate: Bearer realm="emporium", error="invalid_token"` (on every route, public
//   ones too); no token where one is required → 401 with a bare Bearer challenge; a principal
//   lacking the route's role → 403 (error="insufficient_scope"); a token that cannot be checked
//   because the JWKS is unavailable → 503 + Retry-After.
// - Other Authorization schemes (e.g. HTTP Basic client authentication at /oauth2/token) are
//   left for the handler. A principal already on the request (an in-process call made by code)
//   is kept when no bearer token is present.
//
// Thread-safety: the middleware is thread-safe; the KeySource may be called from any request
// thread (one call at a time). The Clock must outlive the middleware.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "platform/auth/jwt.h"
#include "platform/auth/principal.h"
#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/router.h"

namespace emporium::auth {

// Returns the current JWKS document (`{"keys":[...]}`), e.g. from identity's
// GET /.well-known/jwks.json. An error means "not available now".
using KeySource = std::function<Result<std::string>()>;

struct AuthOptions {
  VerifyOptions verify;
  Millis min_refetch_interval{5000};
  size_t cache_entries = 10000;  // 0 disables the verified-token cache
};

class AuthMiddleware final : public http::Middleware {
 public:
  AuthMiddleware(KeySource source, AuthOptions options, Clock& clock);
  ~AuthMiddleware() override;

  std::optional<http::Response> Before(http::Request& req, const http::Route& route) override;

  // Verifies a bearer token (cache, JWKS fetch and refetch included). kUnauthenticated with the
  // reason for a bad token, kUnavailable when the JWKS cannot be fetched.
  Result<Principal> Authenticate(std::string_view token);

  struct Stats {
    uint64_t verifications = 0;  // signature verifications run (cache misses)
    uint64_t cache_hits = 0;
    uint64_t fetches = 0;  // KeySource calls, successful or not
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<http::Middleware> NewAuthMiddleware(KeySource source, AuthOptions options, Clock& clock);

// kOk when `principal` satisfies `access`; kUnauthenticated when a principal is required and
// absent; kPermissionDenied when it lacks the role. The rules:
//   kPublic: anyone. kAnyToken: any principal. kUser: subject "user:…", not a guest.
//   kAdmin: a user with role admin. kSupport: a user with role support or admin.
//   kService: a client_credentials principal (subject "client:…").
Status CheckAccess(const std::optional<Principal>& principal, Access access);

// For handlers: the signed-in user's principal (kUnauthenticated / kPermissionDenied otherwise),
// e.g. to check ownership against UserId() on routes shared by several access levels.
Result<Principal> RequireUser(const http::Request& req);
// The principal with role admin, else kUnauthenticated / kPermissionDenied.
Result<Principal> RequireAdmin(const http::Request& req);

}  // namespace emporium::auth
