// JWT signing (SigningKey), the JWK/JWKS forms of public keys and Claims → Principal.
#include "platform/auth/jwt.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "platform/auth/ec_key.h"
#include "platform/crypto/crypto.h"

namespace emporium::auth {

struct SigningKey::Impl {
  internal::PkeyPtr key;
  std::string public_jwk;
  std::string header_b64;  // constant per key: {"alg":"ES256","typ":"JWT","kid":...}
};

SigningKey::~SigningKey() = default;

namespace {

// The parts of a key that never change: computed once so Sign() only signs.
struct KeyParts {
  internal::PkeyPtr key;
  std::string public_jwk;
  std::string header_b64;
};

Result<KeyParts> MakeParts(const std::string& kid, internal::PkeyPtr key) {
  EMP_ASSIGN_OR_RETURN(auto xy, internal::PublicXY(key.get()));
  KeyParts parts;
  boost::json::object jwk{{"kty", "EC"},
                          {"crv", "P-256"},
                          {"x", crypto::Base64UrlEncode(xy.first)},
                          {"y", crypto::Base64UrlEncode(xy.second)},
                          {"kid", kid},
                          {"alg", "ES256"},
                          {"use", "sig"}};
  parts.public_jwk = boost::json::serialize(jwk);
  boost::json::object header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid}};
  parts.header_b64 = crypto::Base64UrlEncode(boost::json::serialize(header));
  parts.key = std::move(key);
  return parts;
}

std::string ClaimsJson(const Claims& c) {
  boost::json::object o;
  if (!c.iss.empty()) o["iss"] = c.iss;
  if (!c.sub.empty()) o["sub"] = c.sub;
  if (!c.aud.empty()) o["aud"] = c.aud;
  o["iat"] = c.iat;
  if (c.nbf != 0) o["nbf"] = c.nbf;
  o["exp"] = c.exp;
  if (!c.jti.empty()) o["jti"] = c.jti;
  if (!c.client_id.empty()) o["client_id"] = c.client_id;
  if (!c.scope.empty()) o["scope"] = c.scope;
  boost::json::array roles;
  for (const auto& r : c.roles) roles.emplace_back(r);
  o["roles"] = std::move(roles);
  if (c.guest) o["guest"] = true;
  return boost::json::serialize(o);
}

}  // namespace

Result<std::unique_ptr<SigningKey>> SigningKey::Generate(std::string kid) {
  if (kid.empty()) return InvalidArgument("a signing key needs a kid");
  EMP_ASSIGN_OR_RETURN(auto key, internal::GenerateP256());
  EMP_ASSIGN_OR_RETURN(KeyParts parts, MakeParts(kid, std::move(key)));
  std::unique_ptr<SigningKey> out(new SigningKey());  // private constructor: make_unique cannot reach it
  out->impl_ =
      std::make_unique<Impl>(std::move(parts.key), std::move(parts.public_jwk), std::move(parts.header_b64));
  out->kid_ = std::move(kid);
  return out;
}

Result<std::unique_ptr<SigningKey>> SigningKey::FromPem(std::string kid, std::string_view pem) {
  if (kid.empty()) return InvalidArgument("a signing key needs a kid");
  EMP_ASSIGN_OR_RETURN(auto key, internal::PrivateKeyFromPem(pem));
  EMP_ASSIGN_OR_RETURN(KeyParts parts, MakeParts(kid, std::move(key)));
  std::unique_ptr<SigningKey> out(new SigningKey());
  out->impl_ =
      std::make_unique<Impl>(std::move(parts.key), std::move(parts.public_jwk), std::move(parts.header_b64));
  out->kid_ = std::move(kid);
  return out;
}

std::string SigningKey::PrivatePem() const {
  return internal::PrivateKeyToPem(impl_->key.get());
}

std::string SigningKey::PublicJwk() const {
  return impl_->public_jwk;
}

Result<std::string> SigningKey::Sign(const Claims& claims) const {
  std::string signing_input = impl_->header_b64 + "." + crypto::Base64UrlEncode(ClaimsJson(claims));
  EMP_ASSIGN_OR_RETURN(std::string sig, internal::SignEs256(impl_->key.get(), signing_input));
  return signing_input + "." + crypto::Base64UrlEncode(sig);
}

std::string JwksDocument(const std::vector<std::string>& public_jwks) {
  std::string out = "{\"keys\":[";
  for (size_t i = 0; i < public_jwks.size(); ++i) {
    if (i > 0) out += ',';
    out += public_jwks[i];
  }
  return out + "]}";
}

Principal PrincipalFrom(const Claims& claims) {
  Principal p;
  p.subject = claims.sub;
  p.roles = claims.roles;
  p.client_id = claims.client_id;
  p.token_id = claims.jti;
  p.scope = claims.scope;
  p.guest = claims.guest;
  return p;
}

}  // namespace emporium::auth
