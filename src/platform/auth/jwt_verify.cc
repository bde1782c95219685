// JWT verification (Verifier): strict ES256 with a key set from a JWKS document.
//
// Order matters: the header is checked (alg, kid) before any key is used, the signature before
// any claim is trusted, and only then the claims. Rejection messages name the reason, never
// token contents.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>

#include "platform/auth/ec_key.h"
#include "platform/auth/jwt.h"
#include "platform/core/json.h"
#include "platform/crypto/crypto.h"

namespace emporium::auth {
namespace {

// Far above any token identity issues; bounds the work an attacker can cause per request.
constexpr size_t kMaxTokenBytes = 8 * 1024;

const boost::json::string* GetString(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// Decodes a base64url JSON object segment.
Result<boost::json::object> DecodeObject(std::string_view segment) {
  auto bytes = crypto::Base64UrlDecode(segment);
  if (!bytes.ok()) return Unauthenticated("malformed token: bad base64url");
  auto parsed = json::Parse(*bytes);
  if (!parsed.ok() || !parsed->is_object()) return Unauthenticated("malformed token: not a JSON object");
  return std::move(parsed->as_object());
}

// A NumericDate claim: absent (nullopt), an integer, or a rejection for any other type.
Result<std::optional<int64_t>> GetTime(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v->as_uint64()));
  }
  if (v->is_double()) {
    double d = v->as_double();
    if (d > -9.2e18 && d < 9.2e18) return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  return Unauthenticated("invalid claim: " + std::string(key) + " is not a number");
}

Result<std::string> GetOptionalString(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return std::string();
  if (!v->is_string()) return Unauthenticated("invalid claim: " + std::string(key) + " is not a string");
  return std::string(v->as_string());
}

// aud is a string or an array of strings (RFC 7519 §4.1.3); returns the matching audience.
Result<std::string> CheckAudience(const boost::json::object& o, const std::string& expected) {
  const boost::json::value* v = o.if_contains("aud");
  if (!v) {
    if (expected.empty()) return std::string();
    return Unauthenticated("token has no audience");
  }
  if (v->is_string()) {
    if (expected.empty() || v->as_string() == expected) return std::string(v->as_string());
    return Unauthenticated("token is for another audience");
  }
  if (!v->is_array()) return Unauthenticated("invalid claim: aud");
  const auto& auds = v->as_array();
  for (const auto& a : auds) {
    if (!a.is_string()) return Unauthenticated("invalid claim: aud");
  }
  for (const auto& a : auds) {
    if (expected.empty() || a.as_string() == expected) return std::string(a.as_string());
  }
  return Unauthenticated("token is for another audience");
}

Result<Claims> ParseClaims(const boost::json::object& o, const VerifyOptions& options, int64_t now) {
  Claims c;
  int64_t leeway = options.leeway.count();
  EMP_ASSIGN_OR_RETURN(auto exp, GetTime(o, "exp"));
  if (!exp) return Unauthenticated("token has no expiry");
  EMP_ASSIGN_OR_RETURN(auto nbf, GetTime(o, "nbf"));
  EMP_ASSIGN_OR_RETURN(auto iat, GetTime(o, "iat"));
  // Written as now ± leeway so a hostile exp/nbf near INT64 limits cannot overflow.
  if (*exp < now - leeway) return Unauthenticated("token expired");
  if (nbf && *nbf > now + leeway) return Unauthenticated("token not yet valid");
  c.exp = *exp;
  c.nbf = nbf.value_or(0);
  c.iat = iat.value_or(0);

  EMP_ASSIGN_OR_RETURN(c.iss, GetOptionalString(o, "iss"));
  if (!options.issuer.empty() && c.iss != options.issuer) return Unauthenticated("token from another issuer");
  EMP_ASSIGN_OR_RETURN(c.aud, CheckAudience(o, options.audience));
  EMP_ASSIGN_OR_RETURN(c.sub, GetOptionalString(o, "sub"));
  EMP_ASSIGN_OR_RETURN(c.jti, GetOptionalString(o, "jti"));
  EMP_ASSIGN_OR_RETURN(c.client_id, GetOptionalString(o, "client_id"));
  EMP_ASSIGN_OR_RETURN(c.scope, GetOptionalString(o, "scope"));
  if (const boost::json::value* roles = o.if_contains("roles")) {
    if (!roles->is_array()) return Unauthenticated("invalid claim: roles");
    for (const auto& r : roles->as_array()) {
      if (!r.is_string()) return Unauthenticated("invalid claim: roles");
      c.roles.emplace_back(r.as_string());
    }
  }
  if (const boost::json::value* guest = o.if_contains("guest")) {
    if (!guest->is_bool()) return Unauthenticated("invalid claim: guest");
    c.guest = guest->as_bool();
  }
  return c;
}

struct Segments {
  std::string_view header, payload, signature, signing_input;
};

Result<Segments> Split(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Unauthenticated("malformed token");
  size_t a = token.find('.');
  if (a == std::string_view::npos) return Unauthenticated("malformed token");
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return Unauthenticated("malformed token");
  }
  return Segments{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1),
                  token.substr(0, b)};
}

}  // namespace

struct Verifier::Impl {
  std::map<std::string, internal::PkeyPtr, std::less<>> keys;
};

Verifier::Verifier() : impl_(std::make_unique<Impl>()) {}
Verifier::~Verifier() = default;
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;

Result<Verifier> Verifier::FromJwks(std::string_view jwks_json) {
  auto parsed = json::Parse(jwks_json);
  if (!parsed.ok() || !parsed->is_object()) return InvalidArgument("JWKS is not a JSON object");
  const boost::json::value* keys = parsed->as_object().if_contains("keys");
  if (!keys || !keys->is_array()) return InvalidArgument("JWKS has no keys array");
  Verifier verifier;
  for (const auto& entry : keys->as_array()) {
    if (!entry.is_object()) continue;
    const auto& jwk = entry.as_object();
    const auto* kty = GetString(jwk, "kty");
    const auto* crv = GetString(jwk, "crv");
    const auto* alg = GetString(jwk, "alg");
    const auto* use = GetString(jwk, "use");
    const auto* kid = GetString(jwk, "kid");
    const auto* x = GetString(jwk, "x");
    const auto* y = GetString(jwk, "y");
    if (!kty || *kty != "EC" || !crv || *crv != "P-256" || !kid || kid->empty() || !x || !y) continue;
    if ((jwk.contains("alg") && (!alg || *alg != "ES256")) ||
        (jwk.contains("use") && (!use || *use != "sig"))) {
      continue;
    }
    auto xb = crypto::Base64UrlDecode(*x);
    auto yb = crypto::Base64UrlDecode(*y);
    if (!xb.ok() || !yb.ok()) continue;
    auto key = internal::PublicKeyFromXY(*xb, *yb);
    if (!key.ok()) continue;
    // A repeated kid keeps the first key: which one a token meant would be ambiguous otherwise.
    verifier.impl_->keys.emplace(std::string(*kid), std::move(key).value());
  }
  return verifier;
}

bool Verifier::HasKey(std::string_view kid) const {
  return impl_->keys.find(kid) != impl_->keys.end();
}

std::optional<std::string> Verifier::PeekKid(std::string_view token) {
  auto parts = Split(token);
  if (!parts.ok()) return std::nullopt;
  auto header = DecodeObject(parts->header);
  if (!header.ok()) return std::nullopt;
  const auto* kid = GetString(*header, "kid");
  if (!kid || kid->empty()) return std::nullopt;
  return std::string(*kid);
}

Result<Claims> Verifier::Verify(std::string_view token, const VerifyOptions& options,
                                const Clock& clock) const {
  EMP_ASSIGN_OR_RETURN(Segments parts, Split(token));
  EMP_ASSIGN_OR_RETURN(boost::json::object header, DecodeObject(parts.header));

  // Only ES256: "none", HMAC (key confusion with the public key as secret) and RSA never reach
  // a key. The comparison is exact, so "es256" or "ES256 " fail too.
  const auto* alg = GetString(header, "alg");
  if (!alg || *alg != "ES256") return Unauthenticated("token algorithm not allowed");
  // No extension we understand, so any critical one must fail (RFC 7515 §4.1.11).
  if (header.contains("crit")) return Unauthenticated("token has unsupported critical headers");
  if (const auto* typ = header.if_contains("typ");
      typ && !(typ->is_string() && (typ->as_string() == "JWT" || typ->as_string() == "at+jwt"))) {
    return Unauthenticated("token type not allowed");
  }
  const auto* kid = GetString(header, "kid");
  if (!kid || kid->empty()) return NotFound("token has no key id");
  auto key = impl_->keys.find(std::string_view(*kid));
  if (key == impl_->keys.end()) return NotFound("token signed by an unknown key");

  auto sig = crypto::Base64UrlDecode(parts.signature);
  if (!sig.ok()) return Unauthenticated("malformed token: bad signature encoding");
  if (sig->size() != internal::kJoseSigBytes) return Unauthenticated("malformed token: bad signature length");
  if (!internal::VerifyEs256(key->second.get(), parts.signing_input, *sig)) {
    return Unauthenticated("token signature invalid");
  }

  EMP_ASSIGN_OR_RETURN(boost::json::object payload, DecodeObject(parts.payload));
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch()).count();
  return ParseClaims(payload, options, now);
}

}  // namespace emporium::auth
