// The identity module end to end through the router (Runtime::Dispatch): accounts, tokens,
// profile, addresses, admin listing, guest merge, and the attack cases of issue 3.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "platform/auth/jwt.h"
#include "platform/bus/bus.h"
#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/identity/test_env.h"

namespace emporium::identity {
namespace {

using http::Method;
using testing::Env;
using testing::kPassword;
using testing::ParseObject;
using testing::Str;

std::string ContentType(const http::Response& r) {
  return std::string(r.headers.Get("Content-Type").value_or(""));
}

TEST(IdentityHttp, RegisterSignInAndReadProfile) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto reg = env.RegisterUser("Ada@Example.com");
  ASSERT_EQ(reg.status, 201) << reg.body;
  auto user = ParseObject(reg.body);
  EXPECT_EQ(Str(user, "email"), "Ada@Example.com");
  EXPECT_EQ(reg.body.find("password"), std::string::npos);
  EXPECT_EQ(reg.body.find(kPassword), std::string::npos);

  // The blind index normalises: another case of the same email signs in.
  auto tok = env.PasswordGrant("ada@example.COM");
  ASSERT_EQ(tok.status, 200) << tok.body;
  auto t = ParseObject(tok.body);
  EXPECT_EQ(Str(t, "token_type"), "Bearer");
  EXPECT_EQ(t.at("expires_in").as_int64(), 900);
  EXPECT_FALSE(Str(t, "refresh_token").empty());
  EXPECT_EQ(tok.headers.Get("Cache-Control").value_or(""), "no-store");

  auto me = env.Get("/v1/me", Str(t, "access_token"));
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Str(ParseObject(me.body), "id"), Str(user, "id"));

  auto claims_part = Str(t, "access_token");
  auto kid = auth::Verifier::PeekKid(claims_part);
  ASSERT_TRUE(kid.has_value());
  auto jwks = env.Get("/.well-known/jwks.json");
  ASSERT_EQ(jwks.status, 200);
  auto verifier = auth::Verifier::FromJwks(jwks.body);
  ASSERT_TRUE(verifier.ok());
  auto claims = verifier->Verify(claims_part, {"https://shop.test", "emporium"}, env.clock());
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, "user:" + Str(user, "id"));
  EXPECT_EQ(claims->roles, std::vector<std::string>{"customer"});
  EXPECT_EQ(claims->client_id, "storefront");
  EXPECT_EQ(claims->exp - claims->iat, 900);
  EXPECT_FALSE(claims->jti.empty());

  auto anonymous = env.Get("/v1/me");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(ContentType(anonymous), "application/problem+json");
  auto garbage = env.Get("/v1/me", "not.a.token");
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(ContentType(garbage), "application/problem+json");
}

TEST(IdentityHttp, RegistrationValidationAndConflicts) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto bad = env.Call(Method::kPost, "/v1/users", R"({"email":"nope","password":"short"})");
  ASSERT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(ContentType(bad), "application/problem+json");
  auto errors = ParseObject(bad.body).at("errors").as_array();
  std::set<std::string> fields;
  for (const auto& e : errors) fields.insert(std::string(e.as_object().at("field").as_string()));
  EXPECT_EQ(fields, (std::set<std::string>{"email", "password", "name"}));

  auto common = env.RegisterUser("bob@example.com", "Password2024!");
  ASSERT_EQ(common.status, 422);
  EXPECT_NE(common.body.find("too common"), std::string::npos);
  EXPECT_EQ(env.RegisterUser("bob@example.com", "qwertyuiop").status, 422);

  ASSERT_EQ(env.RegisterUser("bob@example.com").status, 201);
  auto dup = env.RegisterUser(" BOB@example.com ");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(ContentType(dup), "application/problem+json");
  EXPECT_EQ(env.Call(Method::kPost, "/v1/users", "[1]").status, 400);
}

TEST(IdentityHttp, TokenEndpointErrorsFollowRfc6749) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  ASSERT_EQ(env.RegisterUser("carol@example.com").status, 201);
  auto wrong = env.PasswordGrant("carol@example.com", "wrong password!");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(Str(ParseObject(wrong.body), "error"), "invalid_grant");
  auto unknown_user = env.PasswordGrant("nobody@example.com");
  EXPECT_EQ(Str(ParseObject(unknown_user.body), "error"), "invalid_grant");

  auto bad_client = env.PostForm("/oauth2/token", {{"grant_type", "password"},
                                                   {"client_id", "evil"},
                                                   {"username", "carol@example.com"},
                                                   {"password", kPassword}});
  EXPECT_EQ(bad_client.status, 401);
  EXPECT_EQ(Str(ParseObject(bad_client.body), "error"), "invalid_client");

  auto json_body = env.Call(Method::kPost, "/oauth2/token", R"({"grant_type":"password"})");
  EXPECT_EQ(json_body.status, 400);
  EXPECT_EQ(Str(ParseObject(json_body.body), "error"), "invalid_request");

  auto unsupported = env.PostForm("/oauth2/token", {{"grant_type", "implicit"}, {"client_id", "storefront"}});
  EXPECT_EQ(Str(ParseObject(unsupported.body), "error"), "unsupported_grant_type");
  auto not_allowed =
      env.PostForm("/oauth2/token", {{"grant_type", "client_credentials"}, {"client_id", "storefront"}});
  EXPECT_EQ(Str(ParseObject(not_allowed.body), "error"), "unauthorized_client");
}

TEST(IdentityHttp, RefreshRotatesAndReuseRevokesTheFamily) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto t0 = env.SignUp("dan@example.com");
  auto refresh = [&](const std::string& token) {
    return env.PostForm(
        "/oauth2/token",
        {{"grant_type", "refresh_token"}, {"client_id", "storefront"}, {"refresh_token", token}});
  };
  std::string r0 = Str(t0, "refresh_token");
  auto a1 = refresh(r0);
  ASSERT_EQ(a1.status, 200) << a1.body;
  std::string r1 = Str(ParseObject(a1.body), "refresh_token");
  ASSERT_NE(r1, r0);
  EXPECT_EQ(env.Get("/v1/me", Str(ParseObject(a1.body), "access_token")).status, 200);
  auto a2 = refresh(r1);
  ASSERT_EQ(a2.status, 200);
  std::string r2 = Str(ParseObject(a2.body), "refresh_token");

  // r0 was spent: presenting it again is reuse, so the whole family dies, r2 included.
  auto reuse = refresh(r0);
  EXPECT_EQ(reuse.status, 400);
  EXPECT_EQ(Str(ParseObject(reuse.body), "error"), "invalid_grant");
  auto after = refresh(r2);
  EXPECT_EQ(after.status, 400);
  EXPECT_EQ(Str(ParseObject(after.body), "error"), "invalid_grant");

  // Another sign-in starts a new, unaffected family.
  auto t1 = ParseObject(env.PasswordGrant("dan@example.com").body);
  EXPECT_EQ(refresh(Str(t1, "refresh_token")).status, 200);
  EXPECT_EQ(refresh("made-up-token").status, 400);
}

TEST(IdentityHttp, RevokeEndsTheFamilyAndIgnoresUnknownTokens) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto t = env.SignUp("erin@example.com");
  EXPECT_EQ(env.PostForm("/oauth2/revoke", {{"token", "unknown"}, {"client_id", "storefront"}}).status, 200);
  auto revoked =
      env.PostForm("/oauth2/revoke", {{"token", Str(t, "refresh_token")}, {"client_id", "storefront"}});
  EXPECT_EQ(revoked.status, 200);
  auto use = env.PostForm("/oauth2/token", {{"grant_type", "refresh_token"},
                                            {"client_id", "storefront"},
                                            {"refresh_token", Str(t, "refresh_token")}});
  EXPECT_EQ(Str(ParseObject(use.body), "error"), "invalid_grant");
  EXPECT_EQ(env.PostForm("/oauth2/revoke", {{"token", "x"}, {"client_id", "evil"}}).status, 401);
}

TEST(IdentityHttp, ClientCredentialsForAConfidentialClient) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  int code = -1;
  std::string out =
      env.RunCommand("identity create-client", {"--client-id=reporting", "--roles=support"}, &code);
  ASSERT_EQ(code, 0) << out;
  size_t at = out.find("client_secret=");
  ASSERT_NE(at, std::string::npos) << out;
  std::string secret = out.substr(at + 14, out.find('\n', at) - at - 14);

  auto ok = env.PostForm(
      "/oauth2/token",
      {{"grant_type", "client_credentials"}, {"client_id", "reporting"}, {"client_secret", secret}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto t = ParseObject(ok.body);
  EXPECT_TRUE(Str(t, "refresh_token").empty());
  auto claims = auth::Verifier::FromJwks(env.Get("/.well-known/jwks.json").body)
                    ->Verify(Str(t, "access_token"), {"https://shop.test", "emporium"}, env.clock());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->sub, "client:reporting");
  EXPECT_EQ(claims->roles, std::vector<std::string>{"support"});

  auto wrong = env.PostForm(
      "/oauth2/token",
      {{"grant_type", "client_credentials"}, {"client_id", "reporting"}, {"client_secret", secret + "x"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Str(ParseObject(wrong.body), "error"), "invalid_client");
  // HTTP Basic client authentication (RFC 6749 §2.3.1).
  http::Request req;
  req.method = Method::kPost;
  req.path = req.target = "/oauth2/token";
  req.body = "grant_type=client_credentials";
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  std::string creds = crypto::Base64UrlEncode("reporting:" + secret);
  for (char& c : creds) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (creds.size() % 4) creds += '=';
  req.headers.Set("Authorization", "Basic " + creds);
  EXPECT_EQ(env.rt().Dispatch(req).status, 200);
}

TEST(IdentityHttp, GuestTokensAndMergeEvent) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto g = env.Call(Method::kPost, "/v1/sessions/guest");
  ASSERT_EQ(g.status, 201) << g.body;
  auto gt = ParseObject(g.body);
  EXPECT_TRUE(Str(gt, "refresh_token").empty());
  std::string guest_token = Str(gt, "access_token");
  auto claims = auth::Verifier::FromJwks(env.Get("/.well-known/jwks.json").body)
                    ->Verify(guest_token, {"https://shop.test", "emporium"}, env.clock());
  ASSERT_TRUE(claims.ok());
  EXPECT_TRUE(claims->guest);
  ASSERT_EQ(claims->sub.rfind("guest:", 0), 0u);
  std::string guest_id = claims->sub.substr(6);
  EXPECT_EQ(env.Get("/v1/me", guest_token).status, 403);

  ASSERT_EQ(env.RegisterUser("fay@example.com").status, 201);
  auto bad_guest = env.PostForm("/oauth2/token", {{"grant_type", "password"},
                                                  {"client_id", "storefront"},
                                                  {"username", "fay@example.com"},
                                                  {"password", kPassword},
                                                  {"guest_token", "forged"}});
  EXPECT_EQ(Str(ParseObject(bad_guest.body), "error"), "invalid_request");
  auto merged = env.PostForm("/oauth2/token", {{"grant_type", "password"},
                                               {"client_id", "storefront"},
                                               {"username", "fay@example.com"},
                                               {"password", kPassword},
                                               {"guest_token", guest_token}});
  ASSERT_EQ(merged.status, 200) << merged.body;

  auto bus = env.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto consumer = (*bus)->Subscribe("identity-test", {std::string(kUserTopic)});
  ASSERT_TRUE(consumer.ok());
  std::set<std::string> types;
  std::string merge_data;
  for (int i = 0; i < 100 && !types.count("identity.guest_merged"); ++i) {
    auto records = (*consumer)->Poll(Millis(50));
    ASSERT_TRUE(records.ok());
    for (const auto& r : *records) {
      types.insert(r.event.type);
      if (r.event.type == "identity.guest_merged") merge_data = r.event.data;
    }
  }
  EXPECT_TRUE(types.count("user.registered"));
  EXPECT_TRUE(types.count("user.logged_in"));
  ASSERT_TRUE(types.count("identity.guest_merged"));
  auto data = ParseObject(merge_data);
  EXPECT_EQ(Str(data, "guest_id"), guest_id);
  EXPECT_FALSE(Str(data, "user_id").empty());
}

TEST(IdentityHttp, ProfileUpdates) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string at = Str(env.SignUp("gus@example.com"), "access_token");
  auto ok = env.Call(Method::kPatch, "/v1/me", R"({"name":"Gus G","phone":"+49 30 1234567"})",
                     "application/json", at);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Str(ParseObject(ok.body), "phone"), "+49 30 1234567");
  EXPECT_EQ(Str(ParseObject(env.Get("/v1/me", at).body), "name"), "Gus G");
  auto bad =
      env.Call(Method::kPatch, "/v1/me", R"({"phone":"call me","email":"x@y.z"})", "application/json", at);
  ASSERT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("\"phone\""), std::string::npos);
  EXPECT_NE(bad.body.find("\"email\""), std::string::npos);
  EXPECT_EQ(env.Call(Method::kPatch, "/v1/me", R"({"name":""})", "application/json", at).status, 422);
}

TEST(IdentityHttp, AddressesBelongToTheirOwnerOnly) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string a = Str(env.SignUp("alice@example.com"), "access_token");
  std::string b = Str(env.SignUp("bert@example.com"), "access_token");
  const char* addr =
      R"({"name":"Alice","line1":"1 Main St","city":"Berlin","postal_code":"10115","country":"DE"})";
  auto created = env.Call(Method::kPost, "/v1/me/addresses", addr, "application/json", a);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Str(ParseObject(created.body), "id");

  auto mine = ParseObject(env.Get("/v1/me/addresses", a).body);
  ASSERT_EQ(mine.at("addresses").as_array().size(), 1u);
  EXPECT_EQ(ParseObject(env.Get("/v1/me/addresses", b).body).at("addresses").as_array().size(), 0u);

  // IDOR: B deleting A's address looks exactly like deleting a missing one.
  auto other = env.Call(Method::kDelete, "/v1/me/addresses/" + id, "", "", b);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(env.Call(Method::kDelete, "/v1/me/addresses/nope", "", "", b).body.size() > 0, true);
  EXPECT_EQ(env.Call(Method::kDelete, "/v1/me/addresses/" + id, "", "", a).status, 204);
  EXPECT_EQ(env.Call(Method::kDelete, "/v1/me/addresses/" + id, "", "", a).status, 404);
  EXPECT_EQ(env.Call(Method::kDelete, "/v1/me/addresses/" + id).status, 401);

  auto invalid = env.Call(Method::kPost, "/v1/me/addresses", R"({"line1":"x","country":"Germany"})",
                          "application/json", a);
  ASSERT_EQ(invalid.status, 422);
  EXPECT_NE(invalid.body.find("postal_code"), std::string::npos);
}

TEST(IdentityHttp, AdminListsUsersCustomersCannot) {
  std::string dir = ::testing::TempDir() + "/identity-admin-" + NewUuid();
  std::filesystem::create_directories(dir);
  std::string pwfile = dir + "/admin.pw";
  std::ofstream(pwfile) << "an admin passphrase 42\n";
  Env env({"--identity-bootstrap-admin-email=root@shop.test",
           "--identity-bootstrap-admin-password-file=" + pwfile});
  ASSERT_TRUE(env.Start().ok());
  std::string customer = Str(env.SignUp("cust@example.com"), "access_token");
  EXPECT_EQ(env.Get("/v1/admin/users", customer).status, 403);
  EXPECT_EQ(env.Get("/v1/admin/users").status, 401);

  auto t = env.PasswordGrant("root@shop.test", "an admin passphrase 42");
  ASSERT_EQ(t.status, 200) << t.body;
  std::string admin = Str(ParseObject(t.body), "access_token");
  auto page1 = env.Get("/v1/admin/users?page_size=1", admin);
  ASSERT_EQ(page1.status, 200) << page1.body;
  auto p1 = ParseObject(page1.body);
  ASSERT_EQ(p1.at("users").as_array().size(), 1u);
  EXPECT_EQ(Str(p1.at("users").as_array()[0].as_object(), "email"), "root@shop.test");
  std::string next = Str(p1, "next_page_token");
  ASSERT_FALSE(next.empty());
  auto p2 = ParseObject(env.Get("/v1/admin/users?page_size=1&page_token=" + next, admin).body);
  ASSERT_EQ(p2.at("users").as_array().size(), 1u);
  EXPECT_EQ(Str(p2.at("users").as_array()[0].as_object(), "email"), "cust@example.com");
  EXPECT_TRUE(p2.at("next_page_token").is_null());
  EXPECT_EQ(env.Get("/v1/admin/users?page_size=0", admin).status, 422);
}

TEST(IdentityHttp, FiftyWrongPasswordsAreThrottled) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  ASSERT_EQ(env.RegisterUser("hal@example.com").status, 201);
  int throttled = 0;
  std::string retry_after;
  for (int i = 0; i < 50; ++i) {
    auto r = env.PasswordGrant("hal@example.com", "wrong password " + std::to_string(i));
    if (r.status == 429) {
      ++throttled;
      retry_after = std::string(r.headers.Get("Retry-After").value_or(""));
      EXPECT_EQ(ContentType(r), "application/problem+json");
    } else {
      EXPECT_EQ(r.status, 400);
    }
  }
  EXPECT_GE(throttled, 40);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  // Even the right password waits while the account is locked.
  EXPECT_EQ(env.PasswordGrant("hal@example.com").status, 429);

  // Per IP: many accounts from one address.
  Env env2;
  ASSERT_TRUE(env2.Start().ok());
  int ip_throttled = 0;
  for (int i = 0; i < 30; ++i) {
    if (env2.PasswordGrant("user" + std::to_string(i) + "@example.com", "wrong password!", "203.0.113.9")
            .status == 429) {
      ++ip_throttled;
    }
  }
  EXPECT_GE(ip_throttled, 9);
  ASSERT_EQ(env2.RegisterUser("ivy@example.com").status, 201);
  EXPECT_EQ(env2.PasswordGrant("ivy@example.com", kPassword, "203.0.113.10").status, 200);
}

TEST(IdentityHttp, AccessTokensExpireAndTamperingIsRejected) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string at = Str(env.SignUp("ian@example.com"), "access_token");
  ASSERT_EQ(env.Get("/v1/me", at).status, 200);
  // Tampered payload: flip a character in the middle segment.
  std::string tampered = at;
  size_t dot = tampered.find('.');
  tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(env.Get("/v1/me", tampered).status, 401);
  // Signed by a key identity never published, under a real kid.
  auto rogue = auth::SigningKey::Generate(*auth::Verifier::PeekKid(at));
  ASSERT_TRUE(rogue.ok());
  auth::Claims c;
  c.iss = "https://shop.test";
  c.aud = "emporium";
  c.sub = "user:someone";
  c.roles = {"admin"};
  c.iat = c.nbf = UnixMillis(env.clock().WallNow()) / 1000;
  c.exp = c.iat + 600;
  EXPECT_EQ(env.Get("/v1/admin/users", *(*rogue)->Sign(c)).status, 401);
  env.clock().Advance(std::chrono::minutes(16));
  auto expired = env.Get("/v1/me", at);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(std::string(expired.headers.Get("WWW-Authenticate").value_or("")).find("invalid_token"),
            std::string::npos);
}

TEST(IdentityHttp, SigningKeysRotateAndOldKeysStayUntilTheirTokensExpire) {
  Env env({"--identity-key-rotation=1h"});
  ASSERT_TRUE(env.Start().ok());
  ASSERT_EQ(env.RegisterUser("jo@example.com").status, 201);
  auto token = [&] { return Str(ParseObject(env.PasswordGrant("jo@example.com").body), "access_token"); };
  std::string first = token();
  env.clock().Advance(std::chrono::minutes(59));
  std::string late = token();  // still the first key, valid until +74 min
  EXPECT_EQ(auth::Verifier::PeekKid(first), auth::Verifier::PeekKid(late));
  env.clock().Advance(std::chrono::minutes(2));
  std::string rotated = token();
  ASSERT_NE(auth::Verifier::PeekKid(first), auth::Verifier::PeekKid(rotated));
  auto keys = ParseObject(env.Get("/.well-known/jwks.json").body).at("keys").as_array();
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(env.Get("/v1/me", late).status, 200);
  EXPECT_EQ(env.Get("/v1/me", rotated).status, 200);
  env.clock().Advance(std::chrono::minutes(16));  // +77 min: the first key's tokens are all expired
  keys = ParseObject(env.Get("/.well-known/jwks.json").body).at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(std::string(keys[0].as_object().at("kid").as_string()), *auth::Verifier::PeekKid(rotated));
}

TEST(IdentityHttp, DiscoveryDocument) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto r = env.Get("/.well-known/openid-configuration");
  ASSERT_EQ(r.status, 200);
  auto d = ParseObject(r.body);
  EXPECT_EQ(Str(d, "issuer"), "https://shop.test");
  EXPECT_EQ(Str(d, "token_endpoint"), "https://shop.test/oauth2/token");
  EXPECT_EQ(Str(d, "jwks_uri"), "https://shop.test/.well-known/jwks.json");
  EXPECT_EQ(Str(d, "authorization_endpoint"), "https://shop.test/oauth2/authorize");
  EXPECT_EQ(json::Dump(d.at("code_challenge_methods_supported")), R"(["S256"])");
  EXPECT_EQ(json::Dump(d.at("id_token_signing_alg_values_supported")), R"(["ES256"])");
}

TEST(IdentityHttp, NoSecretsInLogsNoPlaintextPiiOnDisk) {
  std::mutex mu;
  std::string logs;
  log::SetSink([&](std::string_view line) {
    std::lock_guard lock(mu);
    logs.append(line);
    logs += '\n';
  });
  std::string refresh, access;
  std::filesystem::path dir;
  {
    Env env;
    dir = env.dir();
    ASSERT_TRUE(env.Start().ok());
    ASSERT_EQ(env.RegisterUser("kim.secret@example.org", kPassword, "Kimberly Zzyzx").status, 201);
    env.PasswordGrant("kim.secret@example.org", "not the password");
    auto t = env.SignUp("lee.private@example.org");
    refresh = Str(t, "refresh_token");
    access = Str(t, "access_token");
    env.Call(Method::kPost, "/v1/me/addresses",
             R"({"line1":"742 Evergreen Terrace","city":"Springfield","postal_code":"49007","country":"US"})",
             "application/json", access);
    env.PostForm("/oauth2/token",
                 {{"grant_type", "refresh_token"}, {"client_id", "storefront"}, {"refresh_token", refresh}});
    env.rt().Stop();
    log::Flush();
  }
  log::SetSink(nullptr);
  for (const std::string& secret :
       {std::string(kPassword), std::string("not the password"), refresh, access}) {
    EXPECT_EQ(logs.find(secret), std::string::npos) << "a secret reached the logs";
  }
  ASSERT_NE(logs.find("user registered"), std::string::npos);  // the sink did capture our lines
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* plain : {"kim.secret", "lee.private", "Kimberly", "Zzyzx", "Evergreen", "Springfield"}) {
      EXPECT_EQ(bytes.find(plain), std::string::npos) << plain << " in " << entry.path();
    }
    EXPECT_EQ(bytes.find(refresh), std::string::npos) << "refresh token in " << entry.path();
  }
  EXPECT_GT(files, 2u);
}

TEST(IdentityHttp, KeysFileIsPrivateAndReusedAcrossRestarts) {
  std::filesystem::path dir;
  {
    Env env;
    dir = env.dir();
    ASSERT_TRUE(env.Start().ok());
    ASSERT_EQ(env.RegisterUser("mo@example.com").status, 201);
  }
  auto perms = std::filesystem::status(dir / "identity.keys").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  Env again({}, dir);
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(again.PasswordGrant("mo@example.com").status, 200);
  EXPECT_EQ(again.RegisterUser("MO@example.com").status, 409);
}

TEST(IdentityHttp, DistributedModeRequiresKeys) {
  KeySettings s{"", "", true, "/nonexistent/identity.keys"};
  auto keys = LoadDataKeys(s);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(keys.status().message().find("identity-data-key"), std::string::npos);
}

TEST(IdentityHttp, CreateUserCommand) {
  Env env;
  std::string pw = (env.dir() / "pw").string();
  std::ofstream(pw) << "a long support passphrase\n";
  int code = -1;
  env.RunCommand("admin create-user", {"--email=sue@shop.test", "--password-file=" + pw, "--roles=support"},
                 &code);
  EXPECT_EQ(code, 0);
  env.RunCommand("admin create-user", {"--email=sue@shop.test", "--password-file=" + pw}, &code);
  EXPECT_EQ(code, 1);  // exists
  env.RunCommand("admin create-user", {"--email=x@shop.test", "--password-file=/nonexistent"}, &code);
  EXPECT_EQ(code, 2);
  ASSERT_TRUE(env.Start().ok());
  auto t = env.PasswordGrant("sue@shop.test", "a long support passphrase");
  ASSERT_EQ(t.status, 200);
  auto claims =
      auth::Verifier::FromJwks(env.Get("/.well-known/jwks.json").body)
          ->Verify(Str(ParseObject(t.body), "access_token"), {"https://shop.test", "emporium"}, env.clock());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->roles, std::vector<std::string>{"support"});
}

}  // namespace
}  // namespace emporium::identity
