// JSON Web Tokens signed with ES256 (ECDSA P-256 + SHA-256, RFC 7518 §3.4) through OpenSSL, and
// the JWK/JWKS form of their public keys (RFC 7517).
//
// Verification is strict: the header's alg must be ES256 (so "none" and HS256 key confusion
// are rejected before any key is touched), kid must name a known key, the signature must be the
// 64-byte JOSE form, and exp, nbf, iss and aud are checked against the options.
// Thread-safety: SigningKey and Verifier are immutable after construction and thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/auth/principal.h"
#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::auth {

struct Claims {
  std::string iss, sub, aud, jti, client_id, scope;
  std::vector<std::string> roles;
  bool guest = false;
  int64_t iat = 0, nbf = 0, exp = 0;  // Unix seconds
};

class SigningKey {
 public:
  ~SigningKey();
  // A fresh P-256 key with the given kid.
  static Result<std::unique_ptr<SigningKey>> Generate(std::string kid);
  // From a PKCS#8 PEM private key (as stored by identity, encrypted at rest by the caller).
  static Result<std::unique_ptr<SigningKey>> FromPem(std::string kid, std::string_view pem);
  std::string PrivatePem() const;
  const std::string& kid() const { return kid_; }
  // {"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"alg":"ES256","use":"sig"}
  std::string PublicJwk() const;
  // header.payload.signature
  Result<std::string> Sign(const Claims& claims) const;

 private:
  SigningKey() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string kid_;
};

// An empty issuer or audience leaves that claim unchecked (the auth middleware sets both).
struct VerifyOptions {
  std::string issuer;
  std::string audience;
  std::chrono::seconds leeway{30};
};

// Public keys by kid, built from a JWKS document.
class Verifier {
 public:
  ~Verifier();
  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;
  // kInvalidArgument for a malformed JWKS; keys that are not EC P-256 / ES256 are skipped.
  static Result<Verifier> FromJwks(std::string_view jwks_json);
  bool HasKey(std::string_view kid) const;
  // kUnauthenticated with a reason for every rejection; kNotFound (also unauthenticated for the
  // caller) when the kid is unknown, so the caller may refresh the JWKS once and retry.
  Result<Claims> Verify(std::string_view token, const VerifyOptions& options, const Clock& clock) const;
  // The kid in a token's header without verifying anything (to decide whether to refetch).
  static std::optional<std::string> PeekKid(std::string_view token);

 private:
  Verifier();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// {"keys":[jwk,...]}
std::string JwksDocument(const std::vector<std::string>& public_jwks);

Principal PrincipalFrom(const Claims& claims);

}  // namespace emporium::auth
