#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "platform/auth/jwt.h"
#include "platform/auth/test_util.h"

namespace emporium::auth {
namespace {

using testing::Options;
using testing::UserClaims;

std::unique_ptr<SigningKey> NewKey(std::string kid) {
  auto key = SigningKey::Generate(std::move(kid));
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

Verifier VerifierFor(const std::vector<const SigningKey*>& keys) {
  std::vector<std::string> jwks;
  for (const auto* k : keys) jwks.push_back(k->PublicJwk());
  auto v = Verifier::FromJwks(JwksDocument(jwks));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return std::move(v).value();
}

TEST(Jwt, SignAndVerifyRoundTrip) {
  FakeClock clock;
  auto key = NewKey("k1");
  Claims in = UserClaims(clock, "42", {"customer", "admin"});
  in.guest = false;
  auto token = key->Sign(in);
  ASSERT_TRUE(token.ok());

  Verifier v = VerifierFor({key.get()});
  auto out = v.Verify(*token, Options(), clock);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->iss, in.iss);
  EXPECT_EQ(out->sub, "user:42");
  EXPECT_EQ(out->aud, "emporium");
  EXPECT_EQ(out->jti, in.jti);
  EXPECT_EQ(out->client_id, "storefront");
  EXPECT_EQ(out->scope, "openid profile");
  EXPECT_EQ(out->roles, (std::vector<std::string>{"customer", "admin"}));
  EXPECT_EQ(out->exp, in.exp);
  EXPECT_EQ(out->iat, in.iat);
  EXPECT_FALSE(out->guest);

  Principal p = PrincipalFrom(*out);
  EXPECT_EQ(p.UserId(), "42");
  EXPECT_TRUE(p.HasRole("admin"));
  EXPECT_EQ(p.token_id, in.jti);
}

TEST(Jwt, HeaderIsEs256WithKidAndSignatureIs64Bytes) {
  FakeClock clock;
  auto key = NewKey("key-2026-01");
  std::string token = *key->Sign(UserClaims(clock));
  size_t dot = token.find('.');
  auto header = boost::json::parse(*crypto::Base64UrlDecode(token.substr(0, dot))).as_object();
  EXPECT_EQ(header.at("alg"), "ES256");
  EXPECT_EQ(header.at("typ"), "JWT");
  EXPECT_EQ(header.at("kid"), "key-2026-01");
  EXPECT_EQ(crypto::Base64UrlDecode(token.substr(token.rfind('.') + 1))->size(), 64u);
  EXPECT_EQ(Verifier::PeekKid(token), "key-2026-01");
  EXPECT_EQ(Verifier::PeekKid("garbage"), std::nullopt);
}

TEST(Jwt, GuestClaimRoundTrips) {
  FakeClock clock;
  auto key = NewKey("k1");
  Claims c = UserClaims(clock);
  c.sub = "guest:abc";
  c.roles.clear();
  c.guest = true;
  auto out = VerifierFor({key.get()}).Verify(*key->Sign(c), Options(), clock);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->guest);
  EXPECT_TRUE(out->roles.empty());
}

TEST(Jwk, HasP256CoordinatesOf32Bytes) {
  auto key = NewKey("k1");
  auto jwk = boost::json::parse(key->PublicJwk()).as_object();
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(jwk.at("alg"), "ES256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("kid"), "k1");
  EXPECT_EQ(crypto::Base64UrlDecode(std::string(jwk.at("x").as_string()))->size(), 32u);
  EXPECT_EQ(crypto::Base64UrlDecode(std::string(jwk.at("y").as_string()))->size(), 32u);
  EXPECT_FALSE(jwk.contains("d"));  // never the private scalar
}

TEST(SigningKey, PemRoundTripKeepsTheKey) {
  FakeClock clock;
  auto key = NewKey("k1");
  std::string pem = key->PrivatePem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto again = SigningKey::FromPem("k1", pem);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->PublicJwk(), key->PublicJwk());
  // A token from the reloaded key verifies against the original's JWK.
  EXPECT_TRUE(VerifierFor({key.get()}).Verify(*(*again)->Sign(UserClaims(clock)), Options(), clock).ok());
}

TEST(SigningKey, FromPemRejectsGarbageAndEmptyKid) {
  EXPECT_EQ(SigningKey::FromPem("k1", "not a pem").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SigningKey::Generate("").status().code(), Code::kInvalidArgument);
}

TEST(Jwks, RotationKeepsOldTokensValidWhileTheirKeyIsPublished) {
  FakeClock clock;
  auto old_key = NewKey("k-old");
  auto new_key = NewKey("k-new");
  std::string old_token = *old_key->Sign(UserClaims(clock));
  std::string new_token = *new_key->Sign(UserClaims(clock));

  Verifier both = VerifierFor({new_key.get(), old_key.get()});
  EXPECT_TRUE(both.HasKey("k-old"));
  EXPECT_TRUE(both.HasKey("k-new"));
  EXPECT_TRUE(both.Verify(old_token, Options(), clock).ok());
  EXPECT_TRUE(both.Verify(new_token, Options(), clock).ok());

  // Once the old key is retired from the JWKS, its tokens no longer verify.
  Verifier only_new = VerifierFor({new_key.get()});
  EXPECT_EQ(only_new.Verify(old_token, Options(), clock).status().code(), Code::kNotFound);
  EXPECT_TRUE(only_new.Verify(new_token, Options(), clock).ok());
}

TEST(Jwks, MalformedDocumentIsInvalidArgument) {
  EXPECT_EQ(Verifier::FromJwks("nope").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Verifier::FromJwks("[]").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Verifier::FromJwks("{\"keys\":{}}").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Verifier::FromJwks("{\"keys\":[]}").ok());
}

TEST(Jwks, SkipsKeysThatAreNotEs256P256) {
  auto key = NewKey("good");
  auto jwk = boost::json::parse(key->PublicJwk()).as_object();
  std::string x(jwk.at("x").as_string()), y(jwk.at("y").as_string());
  std::string bad_point_y = crypto::Base64UrlEncode(std::string(32, '\x01'));
  std::string doc = JwksDocument({
      key->PublicJwk(),
      R"({"kty":"RSA","kid":"rsa","n":"AQAB","e":"AQAB"})",
      R"({"kty":"oct","kid":"hmac","k":"c2VjcmV0"})",
      R"({"kty":"EC","crv":"P-384","kid":"p384","x":")" + x + R"(","y":")" + y + R"("})",
      R"({"kty":"EC","crv":"P-256","kid":"rs","alg":"RS256","x":")" + x + R"(","y":")" + y + R"("})",
      R"({"kty":"EC","crv":"P-256","kid":"enc","use":"enc","x":")" + x + R"(","y":")" + y + R"("})",
      R"({"kty":"EC","crv":"P-256","kid":"offcurve","x":")" + x + R"(","y":")" + bad_point_y + R"("})",
      R"({"kty":"EC","crv":"P-256","kid":"short","x":"AAAA","y":"AAAA"})",
      R"({"kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + y + R"("})",
      R"("not an object")",
  });
  auto v = Verifier::FromJwks(doc);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->HasKey("good"));
  for (const char* kid : {"rsa", "hmac", "p384", "rs", "enc", "offcurve", "short"})
    EXPECT_FALSE(v->HasKey(kid)) << kid;
}

}  // namespace
}  // namespace emporium::auth
