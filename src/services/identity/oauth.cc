#include "services/identity/oauth.h"

#include "platform/core/random.h"
#include "platform/crypto/crypto.h"
#include "platform/log/log.h"

namespace emporium::identity {
namespace {

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::string HashHex(std::string_view token) {
  return crypto::HexEncode(crypto::Sha256(token));
}

OAuthError Err(std::string code, std::string description, int status = 400) {
  return OAuthError{std::move(code), std::move(description), status, Millis(0)};
}

OAuthError ServerError(const Status& s) {
  log::Error("identity token endpoint failed", {{"error", s.ToString()}});
  return Err("server_error", "the server could not complete the request",
             s.code() == Code::kUnavailable ? 503 : 500);
}

OAuthError FromAuthFailure(const Status& s, Millis retry_after) {
  if (s.code() == Code::kResourceExhausted) {
    return OAuthError{"invalid_grant", "too many failed attempts; retry later", 429, retry_after};
  }
  if (s.code() == Code::kUnauthenticated) return Err("invalid_grant", "invalid email or password");
  return ServerError(s);
}

// RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~].
bool ValidVerifier(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' && c != '~')
      return false;
  }
  return true;
}

}  // namespace

OAuth::OAuth(Store& store, Accounts& accounts, KeyRing& keys, Clock& clock, TokenOptions options)
    : store_(store), accounts_(accounts), keys_(keys), clock_(clock), options_(options) {}

Result<Client> OAuth::FindClient(const std::string& client_id) {
  EMP_ASSIGN_OR_RETURN(auto row, store_.FindClient(client_id));
  if (!row) return NotFound("unknown client");
  return Client{row->client_id,          row->secret_hash,  Words(row->redirect_uris),
                Words(row->grant_types), Words(row->roles), row->first_party};
}

std::variant<Client, OAuthError> OAuth::AuthenticateClient(const std::string& client_id,
                                                           const std::string& secret) {
  if (client_id.empty()) return Err("invalid_client", "client_id is required", 401);
  auto client = FindClient(client_id);
  if (!client.ok()) {
    if (client.status().code() == Code::kNotFound)
      return Err("invalid_client", "client authentication failed", 401);
    return ServerError(client.status());
  }
  bool confidential = !client->secret_hash.empty();
  bool ok = confidential ? !secret.empty() && crypto::ConstantTimeEquals(HashHex(secret), client->secret_hash)
                         : secret.empty();
  if (!ok) return Err("invalid_client", "client authentication failed", 401);
  return std::move(client).value();
}

TokenResult OAuth::Token(const TokenRequest& req) {
  if (req.grant_type.empty()) return Err("invalid_request", "grant_type is required");
  auto auth = AuthenticateClient(req.client_id, req.client_secret);
  if (auto* e = std::get_if<OAuthError>(&auth)) return *e;
  const Client& client = std::get<Client>(auth);
  if (req.grant_type != "password" && req.grant_type != "refresh_token" &&
      req.grant_type != "client_credentials" && req.grant_type != "authorization_code") {
    return Err("unsupported_grant_type", "grant_type is not supported");
  }
  if (!client.Allows(req.grant_type)) {
    return Err("unauthorized_client", "this client may not use grant_type " + req.grant_type);
  }
  if (req.grant_type == "password") return PasswordGrant(client, req);
  if (req.grant_type == "refresh_token") return RefreshGrant(client, req);
  if (req.grant_type == "client_credentials") return ClientCredentialsGrant(client, req);
  return CodeGrant(client, req);
}

Result<std::string> OAuth::AccessToken(const std::string& subject, const std::vector<std::string>& roles,
                                       const std::string& client_id, const std::string& scope, bool guest,
                                       Millis ttl) {
  int64_t now = UnixMillis(clock_.WallNow()) / 1000;
  auth::Claims c;
  c.sub = subject;
  c.roles = roles;
  c.client_id = client_id;
  c.scope = scope;
  c.guest = guest;
  c.jti = NewUuid();
  c.iat = c.nbf = now;
  c.exp = now + std::chrono::duration_cast<std::chrono::seconds>(ttl).count();
  return keys_.Sign(std::move(c));
}

TokenResult OAuth::IssueForUser(const User& user, const Client& client, const std::string& scope,
                                const std::string& grant_type, Events events) {
  auto access =
      AccessToken("user:" + user.id, user.roles, client.client_id, scope, false, options_.access_ttl);
  if (!access.ok()) return ServerError(access.status());
  std::string refresh = crypto::RandomToken();
  int64_t now = UnixMillis(clock_.WallNow());
  RefreshRow row{HashHex(refresh),
                 NewUuidV7(),
                 user.id,
                 client.client_id,
                 scope,
                 now,
                 now + options_.refresh_ttl.count()};
  events.insert(events.begin(), UserLoggedIn(user.id, client.client_id, grant_type, now));
  if (Status s = store_.InsertRefresh(row, events); !s.ok()) return ServerError(s);
  log::Info("tokens issued",
            {{"user_id", user.id}, {"client_id", client.client_id}, {"grant_type", grant_type}});
  return TokenResponse{std::move(access).value(), options_.access_ttl.count() / 1000, std::move(refresh),
                       scope};
}

TokenResult OAuth::PasswordGrant(const Client& client, const TokenRequest& req) {
  // The resource-owner password grant hands the password to the client: first-party only.
  if (!client.first_party)
    return Err("unauthorized_client", "the password grant is for first-party clients only");
  if (req.username.empty() || req.password.empty())
    return Err("invalid_request", "username and password are required");
  std::string guest_id;
  if (!req.guest_token.empty()) {
    auto guest = keys_.Verify(req.guest_token);
    if (!guest.ok() || !guest->guest || guest->sub.rfind("guest:", 0) != 0) {
      return Err("invalid_request", "guest_token is not a valid guest token");
    }
    guest_id = guest->sub.substr(6);
  }
  Millis retry_after{0};
  auto user = accounts_.Authenticate(req.username, req.password, req.ip, &retry_after);
  if (!user.ok()) return FromAuthFailure(user.status(), retry_after);
  Events events;
  if (!guest_id.empty()) events.push_back(GuestMerged(guest_id, user->id));
  return IssueForUser(*user, client, req.scope, "password", std::move(events));
}

TokenResult OAuth::RefreshGrant(const Client& client, const TokenRequest& req) {
  if (req.refresh_token.empty()) return Err("invalid_request", "refresh_token is required");
  std::string next = crypto::RandomToken();
  int64_t now = UnixMillis(clock_.WallNow());
  RefreshRow next_row;
  next_row.id = HashHex(next);
  next_row.created_at = now;
  next_row.expires_at = now + options_.refresh_ttl.count();
  RefreshRow old;
  auto outcome = store_.RotateRefresh(HashHex(req.refresh_token), client.client_id, now, next_row, &old);
  if (!outcome.ok()) return ServerError(outcome.status());
  switch (*outcome) {
    case RotateOutcome::kRotated: break;
    case RotateOutcome::kReused:
      log::Warn("refresh token reused; family revoked",
                {{"user_id", old.user_id}, {"client_id", old.client_id}});
      return Err("invalid_grant", "refresh token is not valid");
    default: return Err("invalid_grant", "refresh token is not valid");
  }
  auto user = accounts_.Get(old.user_id);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound) return Err("invalid_grant", "refresh token is not valid");
    return ServerError(user.status());
  }
  auto access =
      AccessToken("user:" + user->id, user->roles, client.client_id, old.scope, false, options_.access_ttl);
  if (!access.ok()) return ServerError(access.status());
  return TokenResponse{std::move(access).value(), options_.access_ttl.count() / 1000, std::move(next),
                       old.scope};
}

TokenResult OAuth::ClientCredentialsGrant(const Client& client, const TokenRequest& req) {
  if (client.secret_hash.empty())
    return Err("unauthorized_client", "client_credentials needs a confidential client");
  auto access = AccessToken("client:" + client.client_id, client.roles, client.client_id, req.scope, false,
                            options_.access_ttl);
  if (!access.ok()) return ServerError(access.status());
  log::Info("client token issued", {{"client_id", client.client_id}});
  return TokenResponse{std::move(access).value(), options_.access_ttl.count() / 1000, "", req.scope};
}

TokenResult OAuth::CodeGrant(const Client& client, const TokenRequest& req) {
  if (req.code.empty() || req.redirect_uri.empty() || req.code_verifier.empty()) {
    return Err("invalid_request", "code, redirect_uri and code_verifier are required");
  }
  if (!ValidVerifier(req.code_verifier)) return Err("invalid_request", "code_verifier is malformed");
  auto code = store_.ConsumeCode(HashHex(req.code), UnixMillis(clock_.WallNow()));
  if (!code.ok()) return ServerError(code.status());
  if (!*code) return Err("invalid_grant", "authorization code is not valid");
  const CodeRow& row = **code;
  std::string challenge = crypto::Base64UrlEncode(crypto::Sha256(req.code_verifier));
  if (row.client_id != client.client_id || row.redirect_uri != req.redirect_uri ||
      !crypto::ConstantTimeEquals(challenge, row.code_challenge)) {
    return Err("invalid_grant", "authorization code is not valid");
  }
  auto user = accounts_.Get(row.user_id);
  if (!user.ok()) {
    if (user.status().code() == Code::kNotFound)
      return Err("invalid_grant", "authorization code is not valid");
    return ServerError(user.status());
  }
  return IssueForUser(*user, client, row.scope, "authorization_code", {});
}

TokenResult OAuth::Guest() {
  std::string id = NewUuidV7();
  auto access = AccessToken("guest:" + id, {}, "", "", true, options_.guest_ttl);
  if (!access.ok()) return ServerError(access.status());
  return TokenResponse{std::move(access).value(), options_.guest_ttl.count() / 1000, "", ""};
}

std::optional<OAuthError> OAuth::Revoke(const std::string& token, const std::string& client_id,
                                        const std::string& client_secret) {
  auto auth = AuthenticateClient(client_id, client_secret);
  if (auto* e = std::get_if<OAuthError>(&auth)) return *e;
  if (token.empty()) return Err("invalid_request", "token is required");
  Status s = store_.RevokeRefresh(HashHex(token), client_id, UnixMillis(clock_.WallNow()));
  if (!s.ok()) return ServerError(s);
  return std::nullopt;
}

Result<Client> OAuth::AuthorizeClient(const std::string& client_id, const std::string& redirect_uri) {
  auto client = FindClient(client_id);
  if (!client.ok()) {
    if (client.status().code() == Code::kNotFound) return InvalidArgument("unknown client_id");
    return client.status();
  }
  if (!client->Allows("authorization_code"))
    return InvalidArgument("this client may not use the authorization code flow");
  for (const auto& uri : client->redirect_uris) {
    if (uri == redirect_uri) return client;
  }
  return InvalidArgument("redirect_uri is not registered for this client");
}

Result<std::string> OAuth::IssueCode(const Client& client, const std::string& redirect_uri,
                                     const std::string& code_challenge, const std::string& scope,
                                     const std::string& email, const std::string& password,
                                     const std::string& ip, Millis* retry_after) {
  EMP_ASSIGN_OR_RETURN(User user, accounts_.Authenticate(email, password, ip, retry_after));
  std::string code = crypto::RandomToken();
  CodeRow row{HashHex(code),
              client.client_id,
              user.id,
              redirect_uri,
              code_challenge,
              scope,
              UnixMillis(clock_.WallNow()) + options_.code_ttl.count()};
  EMP_RETURN_IF_ERROR(store_.InsertCode(row));
  return code;
}

Result<std::string> OAuth::CreateClient(const Client& client, bool confidential) {
  std::string secret = confidential ? crypto::RandomToken() : "";
  ClientRow row{client.client_id,           confidential ? HashHex(secret) : "",
                Join(client.redirect_uris), Join(client.grant_types),
                Join(client.roles),         client.first_party};
  EMP_RETURN_IF_ERROR(store_.InsertClient(row, UnixMillis(clock_.WallNow())));
  return secret;
}

}  // namespace emporium::identity
