#include "services/identity/http.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/auth/middleware.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/problem.h"
#include "platform/http/url.h"
#include "platform/log/log.h"

namespace emporium::identity {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

object UserJson(const User& u) {
  array roles;
  for (const auto& r : u.roles) roles.emplace_back(r);
  object o{{"id", u.id},
           {"email", u.email},
           {"name", u.name},
           {"roles", std::move(roles)},
           {"created_at", FormatRfc3339UnixMillis(u.created_at)},
           {"updated_at", FormatRfc3339UnixMillis(u.updated_at)}};
  o["phone"] = u.phone.empty() ? boost::json::value(nullptr) : boost::json::value(u.phone);
  return o;
}

object AddressJson(const Address& a) {
  return object{{"id", a.id},
                {"name", a.name},
                {"line1", a.line1},
                {"line2", a.line2},
                {"city", a.city},
                {"region", a.region},
                {"postal_code", a.postal_code},
                {"country", a.country},
                {"created_at", FormatRfc3339UnixMillis(a.created_at)}};
}

Response Json(int status, const boost::json::value& v) {
  return Response::Json(status, json::Dump(v));
}

Response ValidationProblem(const Request& req, const FieldErrors& errors) {
  std::vector<http::FieldError> out;
  for (const auto& e : errors) out.push_back({e.field, e.message});
  return http::Problem(422, "The request has invalid fields.", req.path, out);
}

Response Failure(const Request& req, const Status& s, const FieldErrors& errors = {}) {
  if (s.code() == Code::kInvalidArgument && !errors.empty()) return ValidationProblem(req, errors);
  if (s.code() >= Code::kInternal)
    log::Error("identity request failed", {{"route", req.path}, {"error", s.ToString()}});
  return http::ProblemFrom(s, req.path);
}

// The JSON object body, or a 400/422 problem.
Result<object> BodyObject(const Request& req) {
  auto doc = json::Parse(req.body);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("the body must be a JSON object");
  return std::move(doc->as_object());
}

// Reads string field `name`; records a field error when it is present but not a string.
std::optional<std::string> StringField(const object& o, const char* name, FieldErrors& errors) {
  auto v = o.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    errors.push_back({name, "must be a string"});
    return std::nullopt;
  }
  return std::string(v->as_string());
}

Response OAuthErrorResponse(const OAuthError& e, bool basic_auth) {
  if (e.http_status == 429) {
    Response r = http::Problem(429, "Too many failed sign-in attempts. Retry later.");
    r.headers.Set("Retry-After", RetryAfterSeconds(e.retry_after));
    return r;
  }
  object o{{"error", e.code}};
  if (!e.description.empty()) o["error_description"] = e.description;
  Response r = Json(e.http_status, o);
  r.headers.Set("Cache-Control", "no-store");
  if (e.http_status == 401)
    r.headers.Set("WWW-Authenticate", basic_auth ? "Basic realm=\"emporium\"" : "Bearer");
  return r;
}

Response TokenJson(const TokenResponse& t) {
  object o{{"access_token", t.access_token}, {"token_type", "Bearer"}, {"expires_in", t.expires_in}};
  if (!t.refresh_token.empty()) o["refresh_token"] = t.refresh_token;
  if (!t.scope.empty()) o["scope"] = t.scope;
  Response r = Json(200, o);
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  return r;
}

// RFC 6749 §2.3.1 HTTP Basic client authentication: base64(urlencode(id) ":" urlencode(secret)).
bool BasicCredentials(const Request& req, std::string* id, std::string* secret) {
  auto h = req.headers.Get("Authorization");
  if (!h || h->size() < 6 || !(h->substr(0, 6) == "Basic " || h->substr(0, 6) == "basic ")) return false;
  std::string b64(h->substr(6));
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  auto raw = crypto::Base64UrlDecode(b64);
  if (!raw.ok()) return false;
  size_t colon = raw->find(':');
  if (colon == std::string::npos) return false;
  *id = http::PercentDecode(raw->substr(0, colon), true);
  *secret = http::PercentDecode(raw->substr(colon + 1), true);
  return true;
}

std::string Get(const std::map<std::string, std::string>& form, const char* name) {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

std::string IpOf(const Request& req) {
  return req.remote_addr.empty() ? "local" : req.remote_addr;
}

class Routes {
 public:
  explicit Routes(HttpDeps deps) : d_(std::move(deps)) {}

  Response Register(Request& req) {
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    NewUser in;
    in.email = StringField(*body, "email", errors).value_or("");
    in.password = StringField(*body, "password", errors).value_or("");
    in.name = StringField(*body, "name", errors).value_or("");
    if (!errors.empty()) return ValidationProblem(req, errors);
    auto user = d_.accounts.Register(in, &errors);
    if (!user.ok()) {
      if (user.status().code() == Code::kAlreadyExists) {
        return http::Problem(409, "An account with this email already exists.", req.path);
      }
      return Failure(req, user.status(), errors);
    }
    Response r = Json(201, UserJson(*user));
    r.headers.Set("Location", "/v1/me");
    return r;
  }

  Response Token(Request& req) {
    if (!IsForm(req)) {
      return OAuthErrorResponse({"invalid_request", "the body must be application/x-www-form-urlencoded"},
                                false);
    }
    auto form = ParseForm(req.body);
    if (!form.ok()) return OAuthErrorResponse({"invalid_request", form.status().message()}, false);
    TokenRequest t;
    bool basic = BasicCredentials(req, &t.client_id, &t.client_secret);
    if (!basic) {
      t.client_id = Get(*form, "client_id");
      t.client_secret = Get(*form, "client_secret");
    } else if (form->count("client_secret")) {
      return OAuthErrorResponse({"invalid_request", "use one client authentication method"}, false);
    }
    t.grant_type = Get(*form, "grant_type");
    t.scope = Get(*form, "scope");
    t.username = Get(*form, "username");
    t.password = Get(*form, "password");
    t.guest_token = Get(*form, "guest_token");
    t.refresh_token = Get(*form, "refresh_token");
    t.code = Get(*form, "code");
    t.redirect_uri = Get(*form, "redirect_uri");
    t.code_verifier = Get(*form, "code_verifier");
    t.ip = IpOf(req);
    TokenResult result = d_.oauth.Token(t);
    if (auto* e = std::get_if<OAuthError>(&result)) return OAuthErrorResponse(*e, basic);
    return TokenJson(std::get<TokenResponse>(result));
  }

  Response Revoke(Request& req) {
    if (!IsForm(req)) {
      return OAuthErrorResponse({"invalid_request", "the body must be application/x-www-form-urlencoded"},
                                false);
    }
    auto form = ParseForm(req.body);
    if (!form.ok()) return OAuthErrorResponse({"invalid_request", form.status().message()}, false);
    std::string id, secret;
    bool basic = BasicCredentials(req, &id, &secret);
    if (!basic) {
      id = Get(*form, "client_id");
      secret = Get(*form, "client_secret");
    }
    if (auto e = d_.oauth.Revoke(Get(*form, "token"), id, secret)) return OAuthErrorResponse(*e, basic);
    Response r = Response::Text(200, "");
    r.headers.Set("Cache-Control", "no-store");
    return r;
  }

  Response Guest(Request&) {
    TokenResult result = d_.oauth.Guest();
    if (auto* e = std::get_if<OAuthError>(&result)) return OAuthErrorResponse(*e, false);
    Response r = TokenJson(std::get<TokenResponse>(result));
    r.status = 201;
    return r;
  }

  Response Jwks(Request& req) {
    auto jwks = d_.keys.Jwks();
    if (!jwks.ok()) return Failure(req, jwks.status());
    Response r = Response::Json(200, std::move(jwks).value());
    r.headers.Set("Content-Type", "application/jwk-set+json");
    r.headers.Set("Cache-Control", "public, max-age=60");
    return r;
  }

  Response Discovery(Request&) {
    // iss must match the tokens' exactly; endpoint URLs are built from it without a trailing '/'.
    std::string i = d_.issuer;
    while (!i.empty() && i.back() == '/') i.pop_back();
    object o{
        {"issuer", d_.issuer},
        {"authorization_endpoint", i + "/oauth2/authorize"},
        {"token_endpoint", i + "/oauth2/token"},
        {"revocation_endpoint", i + "/oauth2/revoke"},
        {"jwks_uri", i + "/.well-known/jwks.json"},
        {"userinfo_endpoint", i + "/v1/me"},
        {"response_types_supported", array{"code"}},
        {"grant_types_supported",
         array{"authorization_code", "refresh_token", "password", "client_credentials"}},
        {"code_challenge_methods_supported", array{"S256"}},
        {"token_endpoint_auth_methods_supported", array{"none", "client_secret_basic", "client_secret_post"}},
        {"revocation_endpoint_auth_methods_supported",
         array{"none", "client_secret_basic", "client_secret_post"}},
        {"subject_types_supported", array{"public"}},
        {"id_token_signing_alg_values_supported", array{"ES256"}},
        {"scopes_supported", array{"openid", "profile", "email"}},
        {"claims_supported",
         array{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "roles", "client_id", "scope"}},
    };
    Response r = Json(200, o);
    r.headers.Set("Cache-Control", "public, max-age=300");
    return r;
  }

  Response Me(Request& req) {
    auto p = auth::RequireUser(req);
    if (!p.ok()) return Failure(req, p.status());
    auto user = d_.accounts.Get(p->UserId());
    if (!user.ok()) return Failure(req, user.status());
    return Json(200, UserJson(*user));
  }

  Response PatchMe(Request& req) {
    auto p = auth::RequireUser(req);
    if (!p.ok()) return Failure(req, p.status());
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    ProfileChange change;
    change.name = StringField(*body, "name", errors);
    change.phone = StringField(*body, "phone", errors);
    if (auto v = body->if_contains("phone"); v && v->is_null()) change.phone = "";
    for (const auto& [k, v] : *body) {
      if (k != "name" && k != "phone") errors.push_back({std::string(k), "cannot be changed here"});
    }
    ValidateProfileChange(change, &errors);
    if (!errors.empty()) return ValidationProblem(req, errors);
    auto user = d_.accounts.UpdateProfile(p->UserId(), change, &errors);
    if (!user.ok()) return Failure(req, user.status(), errors);
    return Json(200, UserJson(*user));
  }

  Response Addresses(Request& req) {
    auto p = auth::RequireUser(req);
    if (!p.ok()) return Failure(req, p.status());
    auto list = d_.accounts.Addresses(p->UserId());
    if (!list.ok()) return Failure(req, list.status());
    array items;
    for (const auto& a : *list) items.push_back(AddressJson(a));
    return Json(200, object{{"addresses", std::move(items)}});
  }

  Response AddAddress(Request& req) {
    auto p = auth::RequireUser(req);
    if (!p.ok()) return Failure(req, p.status());
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    Address in;
    in.name = StringField(*body, "name", errors).value_or("");
    in.line1 = StringField(*body, "line1", errors).value_or("");
    in.line2 = StringField(*body, "line2", errors).value_or("");
    in.city = StringField(*body, "city", errors).value_or("");
    in.region = StringField(*body, "region", errors).value_or("");
    in.postal_code = StringField(*body, "postal_code", errors).value_or("");
    in.country = StringField(*body, "country", errors).value_or("");
    if (!errors.empty()) return ValidationProblem(req, errors);
    auto a = d_.accounts.AddAddress(p->UserId(), in, &errors);
    if (!a.ok()) {
      if (a.status().code() == Code::kResourceExhausted)
        return http::Problem(409, a.status().message(), req.path);
      return Failure(req, a.status(), errors);
    }
    Response r = Json(201, AddressJson(*a));
    r.headers.Set("Location", "/v1/me/addresses/" + a->id);
    return r;
  }

  Response DeleteAddress(Request& req) {
    auto p = auth::RequireUser(req);
    if (!p.ok()) return Failure(req, p.status());
    // Another user's address answers 404 like a missing one, so ids cannot be probed.
    Status s = d_.accounts.DeleteAddress(p->UserId(), std::string(req.PathParam("id").value_or("")));
    if (!s.ok()) return Failure(req, s);
    return Response::Text(204, "");
  }

  Response AdminUsers(Request& req) {
    auto p = auth::RequireAdmin(req);
    if (!p.ok()) return Failure(req, p.status());
    int page_size = 20;
    if (auto v = req.QueryParam("page_size")) {
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || n < 1 || n > 100) {
        return ValidationProblem(req, {{"page_size", "must be an integer from 1 to 100"}});
      }
      page_size = static_cast<int>(n);
    }
    auto page = d_.accounts.List(req.QueryParam("page_token").value_or(""), page_size);
    if (!page.ok()) {
      if (page.status().code() == Code::kInvalidArgument) {
        return ValidationProblem(req, {{"page_token", page.status().message()}});
      }
      return Failure(req, page.status());
    }
    log::Info("admin listed users", {{"admin", p->UserId()}, {"count", page->users.size()}});
    array users;
    for (const auto& u : page->users) users.push_back(UserJson(u));
    object o{{"users", std::move(users)}};
    o["next_page_token"] = page->next_page_token.empty() ? boost::json::value(nullptr)
                                                         : boost::json::value(page->next_page_token);
    return Json(200, o);
  }

 private:
  HttpDeps d_;
};

}  // namespace

bool IsForm(const http::Request& req) {
  auto ct = req.headers.Get("Content-Type");
  if (!ct) return false;
  std::string v(ct->substr(0, ct->find(';')));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "application/x-www-form-urlencoded";
}

Result<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = http::PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : http::PercentDecode(pair.substr(eq + 1), true);
    if (!out.emplace(key, std::move(value)).second)
      return InvalidArgument("parameter '" + key + "' is repeated");
  }
  return out;
}

std::string RetryAfterSeconds(Millis wait) {
  return std::to_string(std::max<int64_t>(1, (wait.count() + 999) / 1000));
}

Status AddRoutes(http::Router& router, HttpDeps deps) {
  using auth::Access;
  using http::Method;
  // Shared by the route closures (std::function must be copyable); lives as long as the router.
  return http::AddMemberRoutes<Routes>(
      router, std::make_shared<Routes>(std::move(deps)),
      {
          {Method::kPost, "/v1/users", &Routes::Register, {.access = Access::kPublic}},
          {Method::kPost, "/oauth2/token", &Routes::Token, {.access = Access::kPublic}},
          {Method::kPost, "/oauth2/revoke", &Routes::Revoke, {.access = Access::kPublic}},
          {Method::kPost, "/v1/sessions/guest", &Routes::Guest, {.access = Access::kPublic}},
          {Method::kGet, "/.well-known/jwks.json", &Routes::Jwks, {.access = Access::kPublic}},
          {Method::kGet,
           "/.well-known/openid-configuration",
           &Routes::Discovery,
           {.access = Access::kPublic}},
          {Method::kGet, "/v1/me", &Routes::Me, {.access = Access::kUser}},
          {Method::kPatch, "/v1/me", &Routes::PatchMe, {.access = Access::kUser}},
          {Method::kGet, "/v1/me/addresses", &Routes::Addresses, {.access = Access::kUser}},
          {Method::kPost, "/v1/me/addresses", &Routes::AddAddress, {.access = Access::kUser}},
          {Method::kDelete, "/v1/me/addresses/{id}", &Routes::DeleteAddress, {.access = Access::kUser}},
          {Method::kGet, "/v1/admin/users", &Routes::AdminUsers, {.access = Access::kAdmin}},
      });
}

}  // namespace emporium::identity
