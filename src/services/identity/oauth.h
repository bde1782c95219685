// OAuth2 token issuing (RFC 6749, 7009, 7636): password (first-party clients only),
// refresh_token (rotation with reuse detection), client_credentials, authorization_code with
// PKCE S256, guest tokens and revocation.
//
// Access tokens are ES256 JWTs from the KeyRing. Refresh tokens and codes are random opaque
// strings stored only as SHA-256 hashes. A refresh token is spent on use and replaced by one of
// the same family; presenting a spent token revokes the whole family.
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <variant>

#include "platform/core/clock.h"
#include "services/identity/model.h"
#include "services/identity/service.h"
#include "services/identity/signing.h"
#include "services/identity/store.h"

namespace emporium::identity {

struct TokenOptions {
  Millis access_ttl{15 * 60 * 1000};
  Millis refresh_ttl{30LL * 24 * 3600 * 1000};
  Millis guest_ttl{24LL * 3600 * 1000};
  Millis code_ttl{60 * 1000};
};

// The parameters of POST /oauth2/token (RFC 6749 §4), already form-decoded.
struct TokenRequest {
  std::string grant_type, client_id, client_secret, scope;
  std::string username, password, guest_token;    // password
  std::string refresh_token;                      // refresh_token
  std::string code, redirect_uri, code_verifier;  // authorization_code
  std::string ip;
};

// An RFC 6749 §5.2 error: {"error": code, "error_description": description}.
struct OAuthError {
  std::string code;  // invalid_request, invalid_client, invalid_grant, unauthorized_client, ...
  std::string description;
  int http_status = 400;
  Millis retry_after{0};  // for 429
};

using TokenResult = std::variant<TokenResponse, OAuthError>;

class OAuth {
 public:
  OAuth(Store& store, Accounts& accounts, KeyRing& keys, Clock& clock, TokenOptions options);

  TokenResult Token(const TokenRequest& req);
  // A guest access token (sub "guest:<id>", guest=true, no refresh token).
  TokenResult Guest();
  // RFC 7009: an unknown token is not an error; only client authentication can fail.
  std::optional<OAuthError> Revoke(const std::string& token, const std::string& client_id,
                                   const std::string& client_secret);

  // Authorization endpoint: the client and redirect_uri must be registered (exact match);
  // otherwise the error must be shown to the user, never redirected.
  Result<Client> AuthorizeClient(const std::string& client_id, const std::string& redirect_uri);
  // Authenticates the user and returns a one-time code bound to client, redirect_uri and challenge.
  Result<std::string> IssueCode(const Client& client, const std::string& redirect_uri,
                                const std::string& code_challenge, const std::string& scope,
                                const std::string& email, const std::string& password, const std::string& ip,
                                Millis* retry_after);

  // Registers a client; returns its secret (shown once) when confidential, else "".
  Result<std::string> CreateClient(const Client& client, bool confidential);

 private:
  Result<Client> FindClient(const std::string& client_id);
  // invalid_client when unknown or the secret does not match (a public client must send none).
  std::variant<Client, OAuthError> AuthenticateClient(const std::string& client_id,
                                                      const std::string& secret);
  TokenResult PasswordGrant(const Client& client, const TokenRequest& req);
  TokenResult RefreshGrant(const Client& client, const TokenRequest& req);
  TokenResult ClientCredentialsGrant(const Client& client, const TokenRequest& req);
  TokenResult CodeGrant(const Client& client, const TokenRequest& req);
  // Access + refresh token for a signed-in user (a new refresh family), with the login events.
  TokenResult IssueForUser(const User& user, const Client& client, const std::string& scope,
                           const std::string& grant_type, Events events);
  Result<std::string> AccessToken(const std::string& subject, const std::vector<std::string>& roles,
                                  const std::string& client_id, const std::string& scope, bool guest,
                                  Millis ttl);

  Store& store_;
  Accounts& accounts_;
  KeyRing& keys_;
  Clock& clock_;
  TokenOptions options_;
};

}  // namespace emporium::identity
