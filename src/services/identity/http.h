// Identity's HTTP routes: request parsing, status codes and response bodies around the domain
// services (accounts, OAuth2, signing keys). Called once at start; handlers are thread-safe.
#pragma once

#include <map>
#include <string>

#include "platform/core/status.h"
#include "platform/http/router.h"
#include "services/identity/oauth.h"
#include "services/identity/service.h"
#include "services/identity/signing.h"

namespace emporium::identity {

struct HttpDeps {
  Accounts& accounts;
  OAuth& oauth;
  KeyRing& keys;
  std::string issuer;  // public base URL: the tokens' iss
};

// /v1/users, /v1/me..., /v1/admin/users, /v1/sessions/guest, /oauth2/token, /oauth2/revoke,
// /.well-known/*.
Status AddRoutes(http::Router& router, HttpDeps deps);
// GET/POST /oauth2/authorize (login page of the authorization-code flow), in authorize.cc.
Status AddAuthorizeRoutes(http::Router& router, HttpDeps deps);

// Shared by both files.
// application/x-www-form-urlencoded body → name → value. kInvalidArgument for a repeated name.
Result<std::map<std::string, std::string>> ParseForm(std::string_view body);
bool IsForm(const http::Request& req);
// Seconds for a Retry-After header, rounded up, at least 1.
std::string RetryAfterSeconds(Millis wait);

}  // namespace emporium::identity
