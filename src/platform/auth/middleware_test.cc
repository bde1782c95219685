#include "platform/auth/middleware.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "platform/auth/test_util.h"
#include "platform/http/problem.h"

namespace emporium::auth {
namespace {

using testing::Options;
using testing::UserClaims;

// A KeySource backed by a JWKS the test changes at will, counting its calls.
struct FakeJwks {
  std::vector<std::string> jwks;
  bool available = true;
  int calls = 0;

  KeySource Source() {
    return [this]() -> Result<std::string> {
      ++calls;
      if (!available) return Unavailable("identity is down");
      return JwksDocument(jwks);
    };
  }
};

class AuthMiddlewareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::move(SigningKey::Generate("k1")).value();
    jwks_.jwks = {key_->PublicJwk()};
    mw_ = std::make_unique<AuthMiddleware>(jwks_.Source(), AuthOptions{.verify = Options()}, clock_);
  }

  static http::Route RouteWith(Access access) {
    http::Route route{
        http::Method::kGet, "/v1/thing", [](http::Request&) { return http::Response::Json(200, "{}"); }, {}};
    route.options.access = access;
    return route;
  }

  std::string Token(std::vector<std::string> roles = {"customer"}, const SigningKey* key = nullptr) {
    return *(key ? key : key_.get())->Sign(UserClaims(clock_, "u1", std::move(roles)));
  }

  std::string GuestToken() {
    Claims c = UserClaims(clock_);
    c.sub = "guest:g1";
    c.roles.clear();
    c.guest = true;
    return *key_->Sign(c);
  }

  std::string ClientToken() {
    Claims c = UserClaims(clock_);
    c.sub = "client:backoffice";
    c.client_id = "backoffice";
    c.roles.clear();
    return *key_->Sign(c);
  }

  // Runs the middleware for a request carrying `authorization` (none when empty).
  std::optional<http::Response> Run(Access access, std::string authorization, http::Request* out = nullptr) {
    http::Request req;
    req.path = "/v1/thing";
    if (!authorization.empty()) req.headers.Set("Authorization", std::move(authorization));
    http::Route route = RouteWith(access);
    auto resp = mw_->Before(req, route);
    if (out) *out = std::move(req);
    return resp;
  }

  FakeClock clock_;
  FakeJwks jwks_;
  std::unique_ptr<SigningKey> key_;
  std::unique_ptr<AuthMiddleware> mw_;
};

TEST_F(AuthMiddlewareTest, PublicRouteWithoutTokenPassesWithoutFetchingKeys) {
  http::Request req;
  EXPECT_FALSE(Run(Access::kPublic, "", &req).has_value());
  EXPECT_FALSE(req.principal.has_value());
  EXPECT_EQ(jwks_.calls, 0);  // lazy: nothing to verify, nothing fetched
}

TEST_F(AuthMiddlewareTest, ValidTokenAttachesPrincipal) {
  http::Request req;
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token(), &req).has_value());
  ASSERT_TRUE(req.principal.has_value());
  EXPECT_EQ(req.principal->UserId(), "u1");
  EXPECT_TRUE(req.principal->HasRole("customer"));
  EXPECT_EQ(req.principal->client_id, "storefront");
  EXPECT_EQ(jwks_.calls, 1);
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  EXPECT_FALSE(Run(Access::kUser, "bearer " + Token()).has_value());
}

TEST_F(AuthMiddlewareTest, PublicRouteStillVerifiesAndAttachesAToken) {
  http::Request req;
  EXPECT_FALSE(Run(Access::kPublic, "Bearer " + Token(), &req).has_value());
  ASSERT_TRUE(req.principal.has_value());
  auto resp = Run(Access::kPublic, "Bearer not.a.token");
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 401);
}

TEST_F(AuthMiddlewareTest, MissingTokenIs401WithBearerChallenge) {
  for (Access access :
       {Access::kAnyToken, Access::kUser, Access::kAdmin, Access::kSupport, Access::kService}) {
    auto resp = Run(access, "");
    ASSERT_TRUE(resp.has_value());
    EXPECT_EQ(resp->status, 401);
    EXPECT_EQ(resp->headers.Get("WWW-Authenticate"), "Bearer realm=\"emporium\"");
    EXPECT_EQ(resp->headers.Get("Content-Type"), http::kProblemContentType);
  }
}

TEST_F(AuthMiddlewareTest, InvalidTokenIs401InvalidToken) {
  Claims c = UserClaims(clock_);
  c.exp = testing::NowSec(clock_) - 3600;
  for (const std::string& header :
       {std::string("Bearer garbage"), "Bearer " + *key_->Sign(c), std::string("Bearer ")}) {
    auto resp = Run(Access::kUser, header);
    ASSERT_TRUE(resp.has_value()) << header;
    EXPECT_EQ(resp->status, 401);
    EXPECT_EQ(resp->headers.Get("Content-Type"), http::kProblemContentType);
    auto challenge = resp->headers.Get("WWW-Authenticate");
    ASSERT_TRUE(challenge.has_value());
    EXPECT_EQ(challenge->rfind("Bearer realm=\"emporium\", error=\"invalid_", 0), 0u) << *challenge;
  }
  auto expired = Run(Access::kUser, "Bearer " + *key_->Sign(c));
  EXPECT_NE(expired->headers.Get("WWW-Authenticate")->find("error=\"invalid_token\""), std::string::npos);
  EXPECT_NE(expired->body.find("expired"), std::string::npos);
  EXPECT_EQ(expired->body.find(*key_->Sign(c)), std::string::npos);  // the token is never echoed
}

TEST_F(AuthMiddlewareTest, OtherAuthorizationSchemesAreLeftToTheHandler) {
  // HTTP Basic client authentication at /oauth2/token must reach the handler.
  http::Request req;
  EXPECT_FALSE(Run(Access::kPublic, "Basic c3RvcmVmcm9udDpzZWNyZXQ=", &req).has_value());
  EXPECT_FALSE(req.principal.has_value());
  EXPECT_EQ(Run(Access::kUser, "Basic c3RvcmVmcm9udDpzZWNyZXQ=")->status, 401);
  EXPECT_EQ(Run(Access::kUser, "BearerX " + Token())->status, 401);
}

TEST_F(AuthMiddlewareTest, GuestTokenOnUserRouteIs403) {
  EXPECT_FALSE(Run(Access::kAnyToken, "Bearer " + GuestToken()).has_value());
  auto resp = Run(Access::kUser, "Bearer " + GuestToken());
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 403);
  EXPECT_NE(resp->headers.Get("WWW-Authenticate")->find("insufficient_scope"), std::string::npos);
}

TEST_F(AuthMiddlewareTest, CustomerOnAdminRouteIs403) {
  auto resp = Run(Access::kAdmin, "Bearer " + Token({"customer"}));
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 403);
  EXPECT_EQ(resp->headers.Get("Content-Type"), http::kProblemContentType);
  EXPECT_EQ(Run(Access::kSupport, "Bearer " + Token({"customer"}))->status, 403);
  EXPECT_FALSE(Run(Access::kAdmin, "Bearer " + Token({"customer", "admin"})).has_value());
  EXPECT_FALSE(Run(Access::kSupport, "Bearer " + Token({"support"})).has_value());
  EXPECT_FALSE(Run(Access::kSupport, "Bearer " + Token({"admin"})).has_value());
}

TEST_F(AuthMiddlewareTest, ServiceRoutesNeedAClientToken) {
  EXPECT_FALSE(Run(Access::kService, "Bearer " + ClientToken()).has_value());
  EXPECT_EQ(Run(Access::kService, "Bearer " + Token({"admin"}))->status, 403);
  EXPECT_EQ(Run(Access::kUser, "Bearer " + ClientToken())->status, 403);
  EXPECT_EQ(Run(Access::kAdmin, "Bearer " + ClientToken())->status, 403);
}

TEST_F(AuthMiddlewareTest, UnknownKidRefetchesOnceAndIsRateLimited) {
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token()).has_value());
  EXPECT_EQ(jwks_.calls, 1);
  clock_.Advance(std::chrono::seconds(10));

  // A token from a key the JWKS does not (yet) publish: one refetch, then 401.
  auto stranger = std::move(SigningKey::Generate("k-stranger")).value();
  EXPECT_EQ(Run(Access::kUser, "Bearer " + Token({"customer"}, stranger.get()))->status, 401);
  EXPECT_EQ(jwks_.calls, 2);
  // More unknown kids within the interval do not reach the key source.
  for (int i = 0; i < 5; ++i) {
    auto other = std::move(SigningKey::Generate("k-random-" + std::to_string(i))).value();
    EXPECT_EQ(Run(Access::kUser, "Bearer " + Token({"customer"}, other.get()))->status, 401);
  }
  EXPECT_EQ(jwks_.calls, 2);
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_EQ(Run(Access::kUser, "Bearer " + Token({"customer"}, stranger.get()))->status, 401);
  EXPECT_EQ(jwks_.calls, 3);
}

TEST_F(AuthMiddlewareTest, RotatedKeyIsPickedUpByRefetch) {
  std::string old_token = Token();
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + old_token).has_value());
  clock_.Advance(std::chrono::seconds(10));

  auto next = std::move(SigningKey::Generate("k2")).value();
  jwks_.jwks = {next->PublicJwk(), key_->PublicJwk()};  // identity rotated; old key still published
  http::Request req;
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token({"customer"}, next.get()), &req).has_value());
  EXPECT_TRUE(req.principal.has_value());
  EXPECT_EQ(jwks_.calls, 2);
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token()).has_value());  // old key's tokens still good
}

TEST_F(AuthMiddlewareTest, CacheHitSkipsSignatureVerification) {
  std::string token = Token();
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + token).has_value());
  EXPECT_EQ(mw_->stats().verifications, 1u);
  for (int i = 0; i < 10; ++i) {
    http::Request req;
    EXPECT_FALSE(Run(Access::kUser, "Bearer " + token, &req).has_value());
    EXPECT_EQ(req.principal->UserId(), "u1");
  }
  EXPECT_EQ(mw_->stats().verifications, 1u);
  EXPECT_EQ(mw_->stats().cache_hits, 10u);
  EXPECT_EQ(jwks_.calls, 1);
  // Another token is verified on its own.
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token()).has_value());
  EXPECT_EQ(mw_->stats().verifications, 2u);
}

TEST_F(AuthMiddlewareTest, CachedTokenStillExpires) {
  std::string token = Token();  // exp = now + 900
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + token).has_value());
  clock_.Advance(std::chrono::seconds(900 + 31));
  auto resp = Run(Access::kUser, "Bearer " + token);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 401);
}

TEST_F(AuthMiddlewareTest, CachedTokenOfRetiredKeyIsDropped) {
  std::string token = Token();
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + token).has_value());
  clock_.Advance(std::chrono::seconds(10));
  // The key is withdrawn; a refetch (triggered by a new kid) must evict its cached tokens.
  auto next = std::move(SigningKey::Generate("k2")).value();
  jwks_.jwks = {next->PublicJwk()};
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token({"customer"}, next.get())).has_value());
  EXPECT_EQ(Run(Access::kUser, "Bearer " + token)->status, 401);
}

TEST_F(AuthMiddlewareTest, CacheIsBounded) {
  mw_ = std::make_unique<AuthMiddleware>(jwks_.Source(), AuthOptions{.verify = Options(), .cache_entries = 4},
                                         clock_);
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back(Token());
  for (const auto& t : tokens) EXPECT_FALSE(Run(Access::kUser, "Bearer " + t).has_value());
  EXPECT_EQ(mw_->stats().verifications, 20u);
  for (const auto& t : tokens) EXPECT_FALSE(Run(Access::kUser, "Bearer " + t).has_value());
  // Far fewer than 20 fit: most were verified again, and every one is still accepted.
  EXPECT_LE(mw_->stats().cache_hits, 4u);
  EXPECT_GE(mw_->stats().verifications, 36u);
}

TEST_F(AuthMiddlewareTest, UnavailableKeysGive503WithRetryAfter) {
  jwks_.available = false;
  auto resp = Run(Access::kUser, "Bearer " + Token());
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(resp->headers.Get("Retry-After"), "5");
  EXPECT_EQ(resp->headers.Get("Content-Type"), http::kProblemContentType);
  // Failed fetches are rate-limited too.
  EXPECT_EQ(Run(Access::kUser, "Bearer " + Token())->status, 503);
  EXPECT_EQ(jwks_.calls, 1);
  // A public route without a token needs no keys.
  EXPECT_FALSE(Run(Access::kPublic, "").has_value());
  // Identity is back: after the interval the fetch is retried and tokens verify.
  jwks_.available = true;
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + Token()).has_value());
  EXPECT_EQ(jwks_.calls, 2);
}

TEST_F(AuthMiddlewareTest, MalformedJwksIsTreatedAsUnavailable) {
  mw_ = std::make_unique<AuthMiddleware>([]() -> Result<std::string> { return std::string("<html>"); },
                                         AuthOptions{.verify = Options()}, clock_);
  EXPECT_EQ(Run(Access::kUser, "Bearer " + Token())->status, 503);
}

TEST_F(AuthMiddlewareTest, FactoryReturnsARouterMiddleware) {
  std::unique_ptr<http::Middleware> mw =
      NewAuthMiddleware(jwks_.Source(), AuthOptions{.verify = Options()}, clock_);
  http::Request req;
  req.headers.Set("Authorization", "Bearer " + Token({"admin"}));
  http::Route route = RouteWith(Access::kAdmin);
  EXPECT_FALSE(mw->Before(req, route).has_value());
  EXPECT_TRUE(req.principal->HasRole("admin"));
}

TEST_F(AuthMiddlewareTest, KeySourceCallingBackIntoTheMiddlewareDoesNotDeadlock) {
  // Embedded mode: the key source reaches identity in-process, through this same middleware.
  std::string token = Token();
  mw_ = std::make_unique<AuthMiddleware>(
      [&]() -> Result<std::string> {
        ++jwks_.calls;
        auto nested = Run(Access::kPublic, "Bearer " + token);  // must not wait on the outer fetch
        EXPECT_TRUE(nested.has_value());
        EXPECT_EQ(nested->status, 503);
        return JwksDocument(jwks_.jwks);
      },
      AuthOptions{.verify = Options()}, clock_);
  EXPECT_FALSE(Run(Access::kUser, "Bearer " + token).has_value());
  EXPECT_EQ(jwks_.calls, 1);
}

TEST_F(AuthMiddlewareTest, ThrowingKeySourceIsUnavailable) {
  mw_ = std::make_unique<AuthMiddleware>([]() -> Result<std::string> { throw std::runtime_error("boom"); },
                                         AuthOptions{.verify = Options()}, clock_);
  EXPECT_EQ(Run(Access::kUser, "Bearer " + Token())->status, 503);
}

TEST_F(AuthMiddlewareTest, ConcurrentRequestsFetchOnceAndAgree) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) tokens.push_back(Token());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (Run(Access::kUser, "Bearer " + tokens[(i + t) % tokens.size()]).has_value()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(jwks_.calls, 1);
  EXPECT_EQ(mw_->stats().verifications + mw_->stats().cache_hits, 800u);
  EXPECT_LE(mw_->stats().verifications, 8u * 4u);  // at most once per token and thread
}

TEST(Access, RequireUserAndAdmin) {
  http::Request req;
  EXPECT_EQ(RequireUser(req).status().code(), Code::kUnauthenticated);
  req.principal = Principal{.subject = "guest:g", .guest = true};
  EXPECT_EQ(RequireUser(req).status().code(), Code::kPermissionDenied);
  req.principal = Principal{.subject = "user:7", .roles = {"customer"}};
  EXPECT_EQ(RequireUser(req)->UserId(), "7");
  EXPECT_EQ(RequireAdmin(req).status().code(), Code::kPermissionDenied);
  req.principal->roles.push_back("admin");
  EXPECT_TRUE(RequireAdmin(req).ok());
  // A guest flag wins over a user-looking subject.
  req.principal = Principal{.subject = "user:7", .roles = {"admin"}, .guest = true};
  EXPECT_EQ(RequireUser(req).status().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace emporium::auth
