// The attack table: each hostile token must be rejected, one test per attack.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "platform/auth/jwt.h"
#include "platform/auth/test_util.h"

namespace emporium::auth {
namespace {

using testing::B64;
using testing::Header;
using testing::NowSec;
using testing::Options;
using testing::SignRaw;
using testing::UserClaims;

class JwtAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::move(SigningKey::Generate("k1")).value();
    verifier_ =
        std::make_unique<Verifier>(std::move(Verifier::FromJwks(JwksDocument({key_->PublicJwk()}))).value());
  }

  Result<Claims> Verify(std::string_view token) { return verifier_->Verify(token, Options(), clock_); }

  // Asserts the token is rejected as unauthenticated (never accepted, never another code).
  void ExpectRejected(std::string_view token, std::string_view reason_fragment = {}) {
    auto r = Verify(token);
    ASSERT_FALSE(r.ok()) << "accepted: " << token;
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
    EXPECT_NE(r.status().message().find(reason_fragment), std::string::npos) << r.status().ToString();
  }

  std::string Payload(const Claims& c) {
    boost::json::object o{{"iss", c.iss}, {"sub", c.sub}, {"aud", c.aud},
                          {"iat", c.iat}, {"exp", c.exp}, {"roles", boost::json::array{"admin"}}};
    return boost::json::serialize(o);
  }

  FakeClock clock_;
  std::unique_ptr<SigningKey> key_;
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(JwtAttack, ValidTokenIsAcceptedAsBaseline) {
  EXPECT_TRUE(Verify(*key_->Sign(UserClaims(clock_))).ok());
}

TEST_F(JwtAttack, AlgNoneIsRejected) {
  std::string payload = B64(Payload(UserClaims(clock_)));
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = B64(std::string(R"({"alg":")") + alg + R"(","typ":"JWT","kid":"k1"})");
    ExpectRejected(header + "." + payload + ".", "algorithm");
    ExpectRejected(header + "." + payload + "." + B64("x"), "algorithm");
  }
  ExpectRejected(B64(R"({"typ":"JWT","kid":"k1"})") + "." + payload + ".", "algorithm");  // alg missing
}

TEST_F(JwtAttack, Hs256WithThePublicKeyAsSecretIsRejected) {
  // Key confusion: a verifier that let the token choose the algorithm would check an HMAC keyed
  // with the public key it knows, which the attacker knows too.
  std::string input =
      B64(R"({"alg":"HS256","typ":"JWT","kid":"k1"})") + "." + B64(Payload(UserClaims(clock_)));
  auto jwk = boost::json::parse(key_->PublicJwk()).as_object();
  std::string point = "\x04" + *crypto::Base64UrlDecode(std::string(jwk.at("x").as_string())) +
                      *crypto::Base64UrlDecode(std::string(jwk.at("y").as_string()));
  for (const std::string& secret : {key_->PublicJwk(), point, testing::JwksOf(*key_)}) {
    ExpectRejected(input + "." + B64(crypto::HmacSha256(secret, input)), "algorithm");
  }
  // Also with the HMAC output padded to the 64-byte length an ES256 signature has.
  std::string mac = crypto::HmacSha256(key_->PublicJwk(), input);
  ExpectRejected(input + "." + B64(mac + mac), "algorithm");
}

TEST_F(JwtAttack, OtherAlgorithmsAreRejected) {
  std::string good = *key_->Sign(UserClaims(clock_));
  std::string rest = good.substr(good.find('.'));
  for (const char* alg : {"RS256", "PS256", "ES384", "ES512", "EdDSA", "es256", "ES256 "}) {
    std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT","kid":"k1"})";
    ExpectRejected(B64(header) + rest, "algorithm");
    // Even validly signed by the real key: the header's alg itself is refused.
    ExpectRejected(SignRaw(*key_, header, Payload(UserClaims(clock_))), "algorithm");
  }
  ExpectRejected(SignRaw(*key_, R"({"alg":["ES256"],"kid":"k1"})", Payload(UserClaims(clock_))), "algorithm");
}

TEST_F(JwtAttack, ExpiredTokenIsRejected) {
  Claims c = UserClaims(clock_);
  std::string token = *key_->Sign(c);
  clock_.Advance(std::chrono::seconds(900 + 29));  // inside the 30 s leeway
  EXPECT_TRUE(Verify(token).ok());
  clock_.Advance(std::chrono::seconds(2));
  ExpectRejected(token, "expired");
}

TEST_F(JwtAttack, NotYetValidTokenIsRejected) {
  Claims c = UserClaims(clock_);
  c.nbf = NowSec(clock_) + 60;
  c.exp = c.nbf + 900;
  std::string token = *key_->Sign(c);
  ExpectRejected(token, "not yet valid");
  clock_.Advance(std::chrono::seconds(31));  // nbf - leeway reached
  EXPECT_TRUE(Verify(token).ok());
}

TEST_F(JwtAttack, MissingExpiryIsRejected) {
  std::string payload = R"({"iss":"http://127.0.0.1:8080","aud":"emporium","sub":"user:1"})";
  ExpectRejected(SignRaw(*key_, Header("k1"), payload), "expiry");
}

TEST_F(JwtAttack, NonNumericExpiryIsRejected) {
  std::string payload =
      R"({"iss":"http://127.0.0.1:8080","aud":"emporium","sub":"user:1","exp":"9999999999"})";
  ExpectRejected(SignRaw(*key_, Header("k1"), payload), "exp");
}

TEST_F(JwtAttack, HugeExpiryDoesNotOverflow) {
  std::string payload = R"({"iss":"http://127.0.0.1:8080","aud":"emporium","exp":9223372036854775807,)"
                        R"("nbf":-9223372036854775807})";
  EXPECT_TRUE(Verify(SignRaw(*key_, Header("k1"), payload)).ok());
}

TEST_F(JwtAttack, WrongIssuerIsRejected) {
  Claims c = UserClaims(clock_);
  c.iss = "https://evil.example";
  ExpectRejected(*key_->Sign(c), "issuer");
  c.iss.clear();
  ExpectRejected(*key_->Sign(c), "issuer");
}

TEST_F(JwtAttack, WrongAudienceIsRejected) {
  Claims c = UserClaims(clock_);
  c.aud = "another-service";
  ExpectRejected(*key_->Sign(c), "audience");
  c.aud.clear();
  ExpectRejected(*key_->Sign(c), "audience");
}

TEST_F(JwtAttack, AudienceArrayMustContainOurs) {
  int64_t exp = NowSec(clock_) + 60;
  auto payload = [&](std::string aud) {
    return R"({"iss":"http://127.0.0.1:8080","aud":)" + aud + R"(,"exp":)" + std::to_string(exp) + "}";
  };
  auto ok = Verify(SignRaw(*key_, Header("k1"), payload(R"(["other","emporium"])")));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->aud, "emporium");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"(["other","emporium2"])")), "audience");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"([])")), "audience");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"(["emporium",7])")), "aud");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"(7)")), "aud");
}

TEST_F(JwtAttack, TamperedPayloadIsRejected) {
  std::string token = *key_->Sign(UserClaims(clock_, "u1", {"customer"}));
  size_t a = token.find('.'), b = token.rfind('.');
  Claims escalated = UserClaims(clock_, "u1", {"customer", "admin"});
  std::string forged = token.substr(0, a + 1) + B64(Payload(escalated)) + token.substr(b);
  ExpectRejected(forged, "signature");
  // A single flipped character in the payload segment.
  std::string flipped = token;
  flipped[a + 5] = flipped[a + 5] == 'A' ? 'B' : 'A';
  ExpectRejected(flipped);
}

TEST_F(JwtAttack, TamperedHeaderIsRejected) {
  std::string token = *key_->Sign(UserClaims(clock_));
  size_t a = token.find('.');
  // Same alg and kid, different bytes: the signature covers the header as sent.
  std::string header = B64(R"({"alg":"ES256","kid":"k1","typ":"JWT"})");
  ExpectRejected(header + token.substr(a), "signature");
}

TEST_F(JwtAttack, TamperedSignatureIsRejected) {
  std::string token = *key_->Sign(UserClaims(clock_));
  size_t b = token.rfind('.');
  std::string sig = *crypto::Base64UrlDecode(token.substr(b + 1));
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    std::string bad = sig;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    ExpectRejected(token.substr(0, b + 1) + B64(bad), "signature");
  }
  ExpectRejected(token.substr(0, b + 1) + B64(std::string(64, '\0')), "signature");
  // A signature from another P-256 key with the same kid.
  auto other = std::move(SigningKey::Generate("k1")).value();
  ExpectRejected(*other->Sign(UserClaims(clock_)), "signature");
}

TEST_F(JwtAttack, WrongSignatureLengthIsRejected) {
  std::string token = *key_->Sign(UserClaims(clock_));
  size_t b = token.rfind('.');
  std::string sig = *crypto::Base64UrlDecode(token.substr(b + 1));
  ExpectRejected(token.substr(0, b + 1) + B64(sig.substr(0, 63)), "length");
  ExpectRejected(token.substr(0, b + 1) + B64(sig + std::string(1, '\0')), "length");
  ExpectRejected(token.substr(0, b + 1), "length");
  // The DER form OpenSSL produces is not the JOSE form.
  std::string der = "\x30\x44\x02\x20" + sig.substr(0, 32) + "\x02\x20" + sig.substr(32);
  ExpectRejected(token.substr(0, b + 1) + B64(der), "length");
}

TEST_F(JwtAttack, UnknownKidIsNotFound) {
  auto stranger = std::move(SigningKey::Generate("k-unknown")).value();
  auto r = Verify(*stranger->Sign(UserClaims(clock_)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_F(JwtAttack, MissingKidIsRejected) {
  auto r = Verify(SignRaw(*key_, R"({"alg":"ES256","typ":"JWT"})", Payload(UserClaims(clock_))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  r = Verify(SignRaw(*key_, R"({"alg":"ES256","kid":7})", Payload(UserClaims(clock_))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_F(JwtAttack, CriticalHeaderAndForeignTypeAreRejected) {
  std::string payload = Payload(UserClaims(clock_));
  ExpectRejected(SignRaw(*key_, R"({"alg":"ES256","kid":"k1","crit":["exp"],"exp":1})", payload), "critical");
  ExpectRejected(SignRaw(*key_, R"({"alg":"ES256","kid":"k1","typ":"JWE"})", payload), "type");
}

TEST_F(JwtAttack, MalformedTokenStringsAreRejected) {
  std::string good = *key_->Sign(UserClaims(clock_));
  size_t a = good.find('.');
  const std::vector<std::string> bad = {
      "",
      "abc",
      "a.b",
      "..",
      "...",
      good + ".",
      good + ".extra",
      "." + good,
      " " + good,
      good + " ",
      good.substr(0, a) + "=" + good.substr(a),                    // padding
      "!!!!" + good.substr(a),                                     // header not base64url
      B64("not json") + good.substr(a),                            // header not JSON
      B64("[1,2]") + good.substr(a),                               // header not an object
      B64(R"({"alg":"ES256","kid":"k1")") + good.substr(a),        // truncated JSON
      std::string(9000, 'a') + "." + std::string(10, 'b') + ".c",  // oversized
  };
  for (const auto& token : bad) {
    auto r = Verify(token);
    EXPECT_FALSE(r.ok()) << token.substr(0, 80);
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << token.substr(0, 80);
  }
  // A valid signature over a payload that is not a JSON object.
  ExpectRejected(SignRaw(*key_, Header("k1"), "not json"), "malformed");
  ExpectRejected(SignRaw(*key_, Header("k1"), "[]"), "malformed");
}

TEST_F(JwtAttack, BadlyTypedClaimsAreRejected) {
  int64_t exp = NowSec(clock_) + 60;
  auto payload = [&](std::string extra) {
    return R"({"iss":"http://127.0.0.1:8080","aud":"emporium","exp":)" + std::to_string(exp) + "," + extra +
           "}";
  };
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"("roles":"admin")")), "roles");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"("roles":[1])")), "roles");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"("guest":"false")")), "guest");
  ExpectRejected(SignRaw(*key_, Header("k1"), payload(R"("sub":{"id":1})")), "sub");
}

}  // namespace
}  // namespace emporium::auth
