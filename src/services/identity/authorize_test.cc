// Authorization code + PKCE (S256) driven with HTTP-level requests through the router.
#include <gtest/gtest.h>

#include "platform/crypto/crypto.h"
#include "services/identity/test_env.h"

namespace emporium::identity {
namespace {

using testing::Env;
using testing::FormEncode;
using testing::kPassword;
using testing::ParseObject;
using testing::Str;

constexpr const char* kRedirect = "https://app.example/callback";

std::string Challenge(const std::string& verifier) {
  return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int code = -1;
    std::string out = env_.RunCommand(
        "identity create-client",
        {"--client-id=mobile", "--public=true", "--grant-types=authorization_code,refresh_token",
         std::string("--redirect-uris=") + kRedirect},
        &code);
    ASSERT_EQ(code, 0) << out;
    ASSERT_TRUE(env_.Start().ok());
    ASSERT_EQ(env_.RegisterUser("pat@example.com").status, 201);
  }

  std::vector<std::pair<std::string, std::string>> Params(const std::string& challenge,
                                                          const std::string& state = "xyz") {
    return {{"response_type", "code"},     {"client_id", "mobile"},           {"redirect_uri", kRedirect},
            {"code_challenge", challenge}, {"code_challenge_method", "S256"}, {"state", state}};
  }

  // Signs in on the form; returns the code from the redirect.
  std::string Login(const std::string& challenge) {
    auto fields = Params(challenge);
    fields.push_back({"email", "pat@example.com"});
    fields.push_back({"password", kPassword});
    auto r = env_.PostForm("/oauth2/authorize", fields);
    EXPECT_EQ(r.status, 302) << r.body;
    std::string location(r.headers.Get("Location").value_or(""));
    EXPECT_EQ(location.rfind(std::string(kRedirect) + "?code=", 0), 0u) << location;
    EXPECT_NE(location.find("&state=xyz"), std::string::npos);
    size_t start = location.find("code=") + 5;
    return location.substr(start, location.find('&', start) - start);
  }

  http::Response Exchange(const std::string& code, const std::string& verifier) {
    return env_.PostForm("/oauth2/token", {{"grant_type", "authorization_code"},
                                           {"client_id", "mobile"},
                                           {"code", code},
                                           {"redirect_uri", kRedirect},
                                           {"code_verifier", verifier}});
  }

  Env env_;
};

TEST_F(AuthorizeTest, CodeFlowWithPkceEndToEnd) {
  std::string verifier = crypto::RandomToken() + "-verifier";
  auto page =
      env_.Get("/oauth2/authorize?" + FormEncode(Params(Challenge(verifier), "<script>alert(1)</script>")));
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(std::string(page.headers.Get("Content-Type").value_or("")).find("text/html"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.body.find("name=\"password\""), std::string::npos);

  std::string code = Login(Challenge(verifier));
  auto tokens = Exchange(code, verifier);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  auto t = ParseObject(tokens.body);
  EXPECT_FALSE(Str(t, "refresh_token").empty());
  EXPECT_EQ(env_.Get("/v1/me", Str(t, "access_token")).status, 200);
  // One-time code.
  EXPECT_EQ(Str(ParseObject(Exchange(code, verifier).body), "error"), "invalid_grant");
  // The refresh token works for this client.
  auto refreshed = env_.PostForm(
      "/oauth2/token",
      {{"grant_type", "refresh_token"}, {"client_id", "mobile"}, {"refresh_token", Str(t, "refresh_token")}});
  EXPECT_EQ(refreshed.status, 200);
}

TEST_F(AuthorizeTest, WrongVerifierBurnsTheCode) {
  std::string verifier = crypto::RandomToken() + "-verifier";
  std::string code = Login(Challenge(verifier));
  EXPECT_EQ(Str(ParseObject(Exchange(code, crypto::RandomToken() + "-other").body), "error"),
            "invalid_grant");
  EXPECT_EQ(Str(ParseObject(Exchange(code, verifier).body), "error"), "invalid_grant");
}

TEST_F(AuthorizeTest, CodeExpiresAfterSixtySeconds) {
  std::string verifier = crypto::RandomToken() + "-verifier";
  std::string code = Login(Challenge(verifier));
  env_.clock().Advance(std::chrono::seconds(61));
  EXPECT_EQ(Str(ParseObject(Exchange(code, verifier).body), "error"), "invalid_grant");
}

TEST_F(AuthorizeTest, RejectsUnregisteredRedirectsWithoutRedirecting) {
  auto fields = Params(Challenge(crypto::RandomToken() + "-verifier"));
  fields[2].second = "https://evil.example/callback";
  auto r = env_.Get("/oauth2/authorize?" + FormEncode(fields));
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.headers.Get("Location").has_value());
  fields[2].second = std::string(kRedirect) + "/extra";
  EXPECT_EQ(env_.Get("/oauth2/authorize?" + FormEncode(fields)).status, 400);
  fields[1].second = "storefront";
  fields[2].second = kRedirect;
  EXPECT_EQ(env_.Get("/oauth2/authorize?" + FormEncode(fields)).status, 400);
}

TEST_F(AuthorizeTest, PkceIsRequiredAndBadPasswordsShowTheForm) {
  auto fields = Params("too-short");
  auto r = env_.Get("/oauth2/authorize?" + FormEncode(fields));
  EXPECT_EQ(r.status, 302);
  EXPECT_NE(std::string(r.headers.Get("Location").value_or("")).find("error=invalid_request"),
            std::string::npos);
  fields = Params(Challenge(crypto::RandomToken() + "-verifier"));
  fields[4].second = "plain";
  EXPECT_EQ(env_.Get("/oauth2/authorize?" + FormEncode(fields)).status, 302);

  fields = Params(Challenge(crypto::RandomToken() + "-verifier"));
  fields.push_back({"email", "pat@example.com"});
  fields.push_back({"password", "wrong password!"});
  auto bad = env_.PostForm("/oauth2/authorize", fields);
  EXPECT_EQ(bad.status, 401);
  EXPECT_FALSE(bad.headers.Get("Location").has_value());
  EXPECT_NE(bad.body.find("Invalid email or password"), std::string::npos);
}

TEST_F(AuthorizeTest, RedirectUriMustMatchOnExchange) {
  std::string verifier = crypto::RandomToken() + "-verifier";
  std::string code = Login(Challenge(verifier));
  auto r = env_.PostForm("/oauth2/token", {{"grant_type", "authorization_code"},
                                           {"client_id", "mobile"},
                                           {"code", code},
                                           {"redirect_uri", "https://app.example/other"},
                                           {"code_verifier", verifier}});
  EXPECT_EQ(Str(ParseObject(r.body), "error"), "invalid_grant");
}

}  // namespace
}  // namespace emporium::identity
