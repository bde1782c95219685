// Test helpers shared by the auth tests: claims for "now" and hand-made (hostile) tokens.
#pragma once

#include <string>
#include <string_view>

#include "platform/auth/ec_key.h"
#include "platform/auth/jwt.h"
#include "platform/core/clock.h"
#include "platform/crypto/crypto.h"

namespace emporium::auth::testing {

inline constexpr std::string_view kIssuer = "http://127.0.0.1:8080";
inline constexpr std::string_view kAudience = "emporium";

inline int64_t NowSec(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow().time_since_epoch()).count();
}

inline VerifyOptions Options() {
  return {std::string(kIssuer), std::string(kAudience), std::chrono::seconds(30)};
}

inline Claims UserClaims(const Clock& clock, std::string user_id = "u1",
                         std::vector<std::string> roles = {"customer"}) {
  Claims c;
  c.iss = kIssuer;
  c.sub = "user:" + user_id;
  c.aud = kAudience;
  c.iat = c.nbf = NowSec(clock);
  c.exp = c.iat + 900;
  c.jti = crypto::RandomToken();
  c.client_id = "storefront";
  c.scope = "openid profile";
  c.roles = std::move(roles);
  return c;
}

inline std::string B64(std::string_view s) {
  return crypto::Base64UrlEncode(s);
}

// A token with exactly these header and payload JSON texts, validly ES256-signed by `key`, so a
// test can show that a claim or header check (not the signature) rejects it.
inline std::string SignRaw(const SigningKey& key, std::string_view header_json,
                           std::string_view payload_json) {
  auto pkey = internal::PrivateKeyFromPem(key.PrivatePem());
  std::string input = B64(header_json) + "." + B64(payload_json);
  auto sig = internal::SignEs256(pkey->get(), input);
  return input + "." + B64(*sig);
}

inline std::string JwksOf(const SigningKey& key) {
  return JwksDocument({key.PublicJwk()});
}

inline std::string Header(std::string_view kid) {
  return "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"" + std::string(kid) + "\"}";
}

}  // namespace emporium::auth::testing
