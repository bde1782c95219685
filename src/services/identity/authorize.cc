// GET/POST /oauth2/authorize: the authorization-code + PKCE (S256) flow's login page.
//
// Errors about the client or redirect_uri are shown on the page and never redirected (an
// unregistered redirect_uri would make us an open redirector); other errors go back to the
// registered redirect_uri as ?error=...&state=... (RFC 6749 §4.1.2.1). Everything echoed into
// the HTML is escaped.
#include <array>

#include "platform/core/markup.h"
#include "platform/http/problem.h"
#include "platform/http/url.h"
#include "platform/log/log.h"
#include "services/identity/http.h"

namespace emporium::identity {
namespace {

using http::Request;
using http::Response;

struct AuthorizeParams {
  std::string response_type, client_id, redirect_uri, code_challenge, code_challenge_method, state, scope;
};

constexpr std::array<const char*, 7> kParamNames = {
    "response_type",         "client_id", "redirect_uri", "code_challenge",
    "code_challenge_method", "state",     "scope"};

std::string* Field(AuthorizeParams& p, std::string_view name) {
  if (name == "response_type") return &p.response_type;
  if (name == "client_id") return &p.client_id;
  if (name == "redirect_uri") return &p.redirect_uri;
  if (name == "code_challenge") return &p.code_challenge;
  if (name == "code_challenge_method") return &p.code_challenge_method;
  if (name == "state") return &p.state;
  return &p.scope;
}

Response Page(int status, const std::string& body) {
  Response r =
      Response::Text(status,
                     "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in - Emporium</title>"
                     "<meta name=\"viewport\" content=\"width=device-width\"></head><body>" +
                         body + "</body></html>",
                     "text/html; charset=utf-8");
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  r.headers.Set("X-Frame-Options", "DENY");
  r.headers.Set("Referrer-Policy", "no-referrer");
  return r;
}

Response ErrorPage(int status, const std::string& message) {
  return Page(status, "<h1>Sign-in request not valid</h1><p>" + EscapeMarkup(message) + "</p>");
}

Response LoginForm(int status, const AuthorizeParams& p, const std::string& error) {
  std::string body = "<h1>Sign in</h1>";
  if (!error.empty()) body += "<p role=\"alert\">" + EscapeMarkup(error) + "</p>";
  body += "<form method=\"post\" action=\"/oauth2/authorize\">";
  AuthorizeParams copy = p;
  for (const char* name : kParamNames) {
    body += "<input type=\"hidden\" name=\"" + std::string(name) + "\" value=\"" +
            EscapeMarkup(*Field(copy, name)) + "\">";
  }
  body +=
      "<label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required></label><br>"
      "<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
      "required></label><br><button type=\"submit\">Sign in</button></form>";
  return Page(status, body);
}

Response Redirect(const AuthorizeParams& p, const std::string& query) {
  Response r = Response::Text(302, "");
  std::string location = p.redirect_uri + (p.redirect_uri.find('?') == std::string::npos ? "?" : "&") + query;
  if (!p.state.empty()) location += "&state=" + http::PercentEncode(p.state);
  r.headers.Set("Location", location);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

// Validates the request; returns the response to send when it is not acceptable.
std::optional<Response> Check(OAuth& oauth, const AuthorizeParams& p, Client* client) {
  if (p.client_id.empty() || p.redirect_uri.empty())
    return ErrorPage(400, "client_id and redirect_uri are required.");
  auto c = oauth.AuthorizeClient(p.client_id, p.redirect_uri);
  if (!c.ok()) {
    if (c.status().code() == Code::kInvalidArgument) return ErrorPage(400, c.status().message() + ".");
    log::Error("authorize failed", {{"error", c.status().ToString()}});
    return ErrorPage(500, "The server could not complete the request.");
  }
  *client = std::move(c).value();
  if (p.response_type != "code") return Redirect(p, "error=unsupported_response_type");
  // base64url of a SHA-256 digest is exactly 43 characters.
  bool challenge_ok = p.code_challenge.size() == 43 && crypto::Base64UrlDecode(p.code_challenge).ok();
  if (p.code_challenge_method != "S256" || !challenge_ok) {
    return Redirect(p, "error=invalid_request&error_description=" +
                           http::PercentEncode("PKCE with code_challenge_method=S256 is required"));
  }
  return std::nullopt;
}

}  // namespace

Status AddAuthorizeRoutes(http::Router& router, HttpDeps deps) {
  OAuth& oauth = deps.oauth;
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/oauth2/authorize", [&oauth](Request& req) {
    AuthorizeParams p;
    for (const char* name : kParamNames) *Field(p, name) = req.QueryParam(name).value_or("");
    Client client;
    if (auto bad = Check(oauth, p, &client)) return std::move(*bad);
    return LoginForm(200, p, "");
  }));
  return router.Add(http::Method::kPost, "/oauth2/authorize", [&oauth](Request& req) {
    if (!IsForm(req)) return ErrorPage(415, "The form must be application/x-www-form-urlencoded.");
    auto form = ParseForm(req.body);
    if (!form.ok()) return ErrorPage(400, form.status().message() + ".");
    AuthorizeParams p;
    for (const char* name : kParamNames) {
      auto it = form->find(name);
      if (it != form->end()) *Field(p, name) = it->second;
    }
    Client client;
    if (auto bad = Check(oauth, p, &client)) return std::move(*bad);
    auto email = form->find("email");
    auto password = form->find("password");
    if (email == form->end() || password == form->end())
      return LoginForm(400, p, "Enter your email and password.");
    Millis retry_after{0};
    auto code =
        oauth.IssueCode(client, p.redirect_uri, p.code_challenge, p.scope, email->second, password->second,
                        req.remote_addr.empty() ? "local" : req.remote_addr, &retry_after);
    if (!code.ok()) {
      if (code.status().code() == Code::kUnauthenticated)
        return LoginForm(401, p, "Invalid email or password.");
      if (code.status().code() == Code::kResourceExhausted) {
        Response r = LoginForm(429, p, "Too many failed attempts. Try again later.");
        r.headers.Set("Retry-After", RetryAfterSeconds(retry_after));
        return r;
      }
      log::Error("authorize failed", {{"error", code.status().ToString()}});
      return ErrorPage(500, "The server could not complete the request.");
    }
    return Redirect(p, "code=" + http::PercentEncode(*code));
  });
}

}  // namespace emporium::identity
