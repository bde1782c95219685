// Payment module end to end against the three provider sandboxes over real HTTP.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "platform/crypto/crypto.h"
#include "services/payment/reconcile.h"
#include "services/payment/store.h"
#include "services/payment/test_env.h"

namespace emporium::payment {
namespace {

using boost::json::object;
using testing::Env;

constexpr const char* kOk = "4242424242424242";
constexpr const char* kDecline = "4000000000000002";
constexpr const char* kFunds = "4000000000009995";
constexpr const char* kStepUp = "4000002500003155";
constexpr const char* kProcessing = "4000000000000119";

std::string S(const object& o, const char* k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

std::vector<Mismatch> ReconcileNow(Env& env) {
  auto db = env.rt().Database("payment");
  EXPECT_TRUE(db.ok());
  auto ours = AllPayments(**db);
  EXPECT_TRUE(ours.ok());
  std::vector<LedgerItem> theirs;
  for (const char* name : testing::kProviders) {
    auto l = FetchLedger(env.client(), name, env.sandbox(name).base_url());
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (l.ok()) theirs.insert(theirs.end(), l->begin(), l->end());
  }
  return Reconcile(*ours, theirs);
}

TEST(Payment, TokenizesAtEveryProviderAndKeepsOnlyTokenBrandLast4) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  object body{{"card", Env::Card(kOk)}};
  auto r = env.Call(http::Method::kPost, "/v1/payments/methods", "user:u1", json::Dump(body));
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = testing::ParseObject(r.body);
  EXPECT_EQ(S(o, "brand"), "visa");
  EXPECT_EQ(S(o, "last4"), "4242");
  EXPECT_EQ(S(o, "provider"), "acquirer,intents,wallet");
  EXPECT_EQ(o.at("exp_year").as_int64(), 2031);

  auto bad = env.Call(http::Method::kPost, "/v1/payments/methods", "user:u1",
                      json::Dump(object{{"card", Env::Card("4242424242424241")}}));
  EXPECT_EQ(bad.status, 422) << bad.body;

  // The token authorizes.
  object auth{{"order_id", "o-tok"},
              {"amount", object{{"amount", 500}, {"currency", "USD"}}},
              {"method_token", S(o, "method_token")}};
  auto p = testing::ParseObject(
      env.Call(http::Method::kPost, "/v1/internal/payments/authorize", "client:order", json::Dump(auth))
          .body);
  EXPECT_EQ(S(p, "status"), "authorized");
  EXPECT_EQ(S(p, "provider"), "intents");
}

TEST(Payment, AuthorizeIsIdempotentPerOrderThenCaptureAndRefunds) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto a = env.Authorize("o-1", kOk, 1000);
  ASSERT_EQ(S(a, "status"), "authorized");
  auto again = env.Authorize("o-1", kOk, 1000);
  EXPECT_EQ(S(again, "payment_id"), S(a, "payment_id"));
  EXPECT_EQ(env.Held("intents", "o-1"), 1);
  EXPECT_EQ(env.Entries("intents", "o-1").size(), 1u);

  std::string id = S(a, "payment_id");
  auto c = env.Post("/v1/internal/payments/" + id + "/capture");
  EXPECT_EQ(S(c, "status"), "captured");
  EXPECT_EQ(c.at("captured_amount").as_int64(), 1000);
  EXPECT_EQ(S(env.Post("/v1/internal/payments/" + id + "/capture"), "status"), "captured");

  auto r1 =
      env.Post("/v1/internal/payments/" + id + "/refund", object{{"amount", 300}, {"idempotency_key", "r1"}});
  EXPECT_EQ(r1.at("refunded_amount").as_int64(), 300);
  auto r1b =
      env.Post("/v1/internal/payments/" + id + "/refund", object{{"amount", 300}, {"idempotency_key", "r1"}});
  EXPECT_EQ(r1b.at("refunded_amount").as_int64(), 300);  // replay: no second refund
  auto full = env.Post("/v1/internal/payments/" + id + "/refund");
  EXPECT_EQ(S(full, "status"), "refunded");
  EXPECT_EQ(full.at("refunded_amount").as_int64(), 1000);
  auto over = env.Call(http::Method::kPost, "/v1/internal/payments/" + id + "/refund", "client:order",
                       json::Dump(object{{"amount", 1}, {"idempotency_key", "r9"}}));
  EXPECT_EQ(over.status, 422) << over.body;

  auto ledger = env.Entries("intents", "o-1");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].captured, 1000);
  EXPECT_EQ(ledger[0].refunded, 1000);
  EXPECT_TRUE(ReconcileNow(env).empty());
}

TEST(Payment, DeclinesAreFinalAndDoNotFailOver) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto d = env.Authorize("o-d", kDecline);
  EXPECT_EQ(S(d, "status"), "declined");
  EXPECT_EQ(S(d, "decline_code"), "card_declined");
  auto f = env.Authorize("o-f", kFunds);
  EXPECT_EQ(S(f, "status"), "declined");
  EXPECT_EQ(S(f, "decline_code"), "insufficient_funds");
  EXPECT_TRUE(env.Entries("acquirer", "o-d").empty());
  EXPECT_TRUE(env.Entries("wallet", "o-f").empty());
  auto v = env.Post("/v1/internal/payments/" + S(d, "payment_id") + "/void");
  EXPECT_EQ(S(v, "status"), "declined");
}

TEST(Payment, ProcessingErrorFailsOverAndFailsWhenEveryProviderErrs) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto p = env.Authorize("o-p", kProcessing);
  EXPECT_EQ(S(p, "status"), "failed");
  EXPECT_EQ(S(p, "decline_code"), "providers_unavailable");
  EXPECT_FALSE(env.Entries("intents", "o-p").empty());
  EXPECT_FALSE(env.Entries("acquirer", "o-p").empty());
  EXPECT_FALSE(env.Entries("wallet", "o-p").empty());
  for (const char* name : testing::kProviders) EXPECT_EQ(env.Held(name, "o-p"), 0) << name;
}

TEST(Payment, FailsOverWhenThePrimaryFails) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string token = env.Method(kOk);
  env.Control("intents", object{{"fail_next", 1}});
  auto p = env.AuthorizeToken("o-fo", token);
  EXPECT_EQ(S(p, "status"), "authorized");
  EXPECT_EQ(S(p, "provider"), "acquirer");
  EXPECT_EQ(env.Held("intents", "o-fo") + env.Held("acquirer", "o-fo") + env.Held("wallet", "o-fo"), 1);
  auto c = env.Post("/v1/internal/payments/" + S(p, "payment_id") + "/capture", object{{"amount", 700}});
  EXPECT_EQ(c.at("captured_amount").as_int64(), 700);
  EXPECT_TRUE(ReconcileNow(env).empty());
}

// The provider authorized but its answer came too late: the next provider authorizes, and the
// first one's authorization is voided (never two for one order).
TEST(Payment, LateAuthorizationAfterATimeoutIsVoided) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string token = env.Method(kOk);
  env.Control("intents", object{{"fail_next", 1}, {"fail_mode", "after"}});
  auto p = env.AuthorizeToken("o-late", token);
  EXPECT_EQ(S(p, "provider"), "acquirer");
  EXPECT_EQ(env.Held("intents", "o-late"), 0);
  auto intents = env.Entries("intents", "o-late");
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0].status, "voided");

  // Slow answers: the void on the way back is slow too, so the sweeper (below) has to finish it.
  env.Control("intents", object{{"latency_ms", 800}});
  auto q = env.AuthorizeToken("o-slow", token);
  EXPECT_EQ(S(q, "provider"), "acquirer");
  env.Control("intents", object{{"reset", true}});
  std::this_thread::sleep_for(Millis(900));  // the late answers drain
  auto mismatches = ReconcileNow(env);
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_NE(mismatches[0].what.find("second authorization"), std::string::npos) << mismatches[0].what;
  EXPECT_EQ(mismatches[0].order_id, "o-slow");
}

TEST(Payment, SweeperVoidsLateAuthorizations) {
  Env env({"--payment-orphan-sweep=100ms"});
  ASSERT_TRUE(env.Start().ok());
  std::string token = env.Method(kOk);
  env.Control("intents", object{{"latency_ms", 800}});
  auto q = env.AuthorizeToken("o-sw", token);
  EXPECT_EQ(S(q, "provider"), "acquirer");
  env.Control("intents", object{{"reset", true}});
  auto deadline = std::chrono::steady_clock::now() + Millis(5000);
  while (env.Held("intents", "o-sw") > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_EQ(env.Held("intents", "o-sw"), 0);
  EXPECT_EQ(env.Held("acquirer", "o-sw"), 1);
  EXPECT_TRUE(ReconcileNow(env).empty());
}

TEST(Payment, OpenBreakerSkipsTheProvider) {
  Env env({"--payment-breaker-failures=2", "--payment-breaker-open=1m"});
  ASSERT_TRUE(env.Start().ok());
  std::string token = env.Method(kOk);
  env.Control("intents", object{{"fail_next", 100}});
  EXPECT_EQ(S(env.AuthorizeToken("o-b1", token), "provider"), "acquirer");
  EXPECT_EQ(S(env.AuthorizeToken("o-b2", token), "provider"), "acquirer");
  EXPECT_EQ(S(env.AuthorizeToken("o-b3", token), "provider"), "acquirer");
  // Only the first two orders reached intents.
  http::Request req;
  req.method = http::Method::kPost;
  req.target = "/control";
  req.body = "{}";
  req.headers.Set("Content-Type", "application/json");
  auto ctl =
      env.client().Send(env.sandbox("intents").base_url(), req, SystemClock::Get().Now() + Millis(2000));
  ASSERT_TRUE(ctl.ok());
  EXPECT_EQ(testing::ParseObject(ctl->body).at("fail_next").as_int64(), 98);
  auto admin = env.Call(http::Method::kGet, "/v1/admin/payments/providers", "user:admin", "", {"admin"});
  ASSERT_EQ(admin.status, 200) << admin.body;
  auto items = testing::ParseObject(admin.body).at("items").as_array();
  EXPECT_EQ(S(items[0].as_object(), "name"), "intents");
  EXPECT_EQ(S(items[0].as_object().at("breaker").as_object(), "state"), "open");
}

TEST(Payment, StepUpCompletesThroughTheSignedWebhook) {
  Env env({"--payment-routing=GBP:acquirer,EUR:wallet,*:intents|acquirer|wallet"});
  ASSERT_TRUE(env.Start().ok());
  for (auto [order, currency, provider] :
       {std::tuple{"o-3ds-i", "USD", "intents"}, std::tuple{"o-3ds-a", "GBP", "acquirer"},
        std::tuple{"o-3ds-w", "EUR", "wallet"}}) {
    auto p = env.Authorize(order, kStepUp, 2500, currency);
    ASSERT_EQ(S(p, "status"), "requires_action") << provider;
    EXPECT_EQ(S(p, "provider"), provider);
    std::string url = S(p.at("next_action").as_object(), "url");
    ASSERT_FALSE(url.empty());
    auto page = env.Visit(url);
    if (std::string(provider) == "wallet") {
      // The wallet's payer page asks the bank first; the completion link approves.
      ASSERT_EQ(page.status, 200);
      size_t at = page.body.find("http://");
      ASSERT_NE(at, std::string::npos);
      env.Visit(page.body.substr(at));
    }
    EXPECT_TRUE(env.WaitStatus(S(p, "payment_id"), "authorized")) << provider;
    EXPECT_EQ(env.Held(provider, order), 1) << provider;
  }
  EXPECT_TRUE(ReconcileNow(env).empty());
}

TEST(Payment, WalletRedirectFlowCapturesAndRefundsPartially) {
  Env env({"--payment-routing=EUR:wallet,*:intents"});
  ASSERT_TRUE(env.Start().ok());
  auto p = env.Authorize("o-w", kOk, 1000, "EUR");
  ASSERT_EQ(S(p, "status"), "authorized");
  EXPECT_EQ(S(p, "provider"), "wallet");
  std::string id = S(p, "payment_id");
  EXPECT_EQ(env.Post("/v1/internal/payments/" + id + "/capture", object{{"amount", 600}})
                .at("captured_amount")
                .as_int64(),
            600);
  EXPECT_EQ(env.Post("/v1/internal/payments/" + id + "/refund", object{{"amount", 250}})
                .at("refunded_amount")
                .as_int64(),
            250);
  auto rest = env.Post("/v1/internal/payments/" + id + "/refund");
  EXPECT_EQ(S(rest, "status"), "refunded");
  auto e = env.Entries("wallet", "o-w");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].captured, 600);
  EXPECT_EQ(e[0].refunded, 600);
  // Void after capture is refused; void of an authorization works.
  auto v = env.Call(http::Method::kPost, "/v1/internal/payments/" + id + "/void", "client:order", "{}");
  EXPECT_EQ(v.status / 100, 4);
  auto p2 = env.Authorize("o-w2", kOk, 400, "EUR");
  EXPECT_EQ(S(env.Post("/v1/internal/payments/" + S(p2, "payment_id") + "/void"), "status"), "voided");
  EXPECT_EQ(env.Held("wallet", "o-w2"), 0);
  EXPECT_TRUE(ReconcileNow(env).empty());
}

http::Response SendIntentsWebhook(Env& env, const std::string& body, int64_t t, const std::string& secret) {
  std::string ts = std::to_string(t);
  http::Request req;
  req.method = http::Method::kPost;
  req.target = "/v1/webhooks/payments/intents";
  req.body = body;
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set("Signature",
                  "t=" + ts + ",v1=" + crypto::HexEncode(crypto::HmacSha256(secret, ts + "." + body)));
  auto r = env.client().Send("http://127.0.0.1:" + std::to_string(env.port()), req,
                             SystemClock::Get().Now() + Millis(5000));
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : http::Response{};
}

TEST(Payment, WebhooksNeedAValidFreshSignatureAndReplaysHaveNoEffect) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  // A step-up payment the webhook will complete; the sandbox's own webhooks are off for it.
  env.sandbox("intents").set_webhook_url("");
  auto p = env.Authorize("o-wh", kStepUp);
  ASSERT_EQ(S(p, "status"), "requires_action");
  std::string ref;
  for (const auto& e : env.Entries("intents", "o-wh")) ref = e.id;
  std::string body = json::Dump(object{
      {"id", "evt_test_1"},
      {"type", "payment_intent.amount_capturable_updated"},
      {"data", object{{"object",
                       object{{"id", ref}, {"amount", 1000}, {"metadata", object{{"order_id", "o-wh"}}}}}}}});
  int64_t now = UnixMillis(SystemClock::Get().WallNow()) / 1000;
  std::string secret = paysim::DefaultWebhookSecret("intents");

  auto bad = SendIntentsWebhook(env, body, now, "wrong-secret");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.headers.Get("Content-Type").value_or(""), "application/problem+json");
  auto stale = SendIntentsWebhook(env, body, now - 600, secret);
  EXPECT_EQ(stale.status, 401);
  EXPECT_EQ(S(env.GetPayment(S(p, "payment_id")), "status"), "requires_action");

  auto ok = SendIntentsWebhook(env, body, now, secret);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(testing::ParseObject(ok.body).at("duplicate").as_bool());
  EXPECT_EQ(S(env.GetPayment(S(p, "payment_id")), "status"), "authorized");
  // Voided meanwhile, then the same event replayed: it must not re-authorize.
  EXPECT_EQ(S(env.Post("/v1/internal/payments/" + S(p, "payment_id") + "/void"), "status"), "voided");
  auto replay = SendIntentsWebhook(env, body, now, secret);
  ASSERT_EQ(replay.status, 200);
  EXPECT_TRUE(testing::ParseObject(replay.body).at("duplicate").as_bool());
  EXPECT_EQ(S(env.GetPayment(S(p, "payment_id")), "status"), "voided");
}

TEST(Payment, ReconcileReportsASecondAuthorizationAndLedgersSurviveRestarts) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto p = env.Authorize("o-r", kOk, 1200);
  ASSERT_EQ(S(p, "provider"), "intents");
  env.RestartSandbox("intents");
  EXPECT_EQ(env.Held("intents", "o-r"), 1);  // the ledger came back from its SQLite file
  // Someone authorizes the same order at the acquirer behind our back (its notification is lost).
  env.sandbox("acquirer").set_webhook_url("");
  http::Request tok;
  tok.method = http::Method::kPost;
  tok.target = "/v1/storedPaymentMethods";
  tok.headers.Set("X-API-Key", paysim::DefaultApiKey("acquirer"));
  tok.headers.Set("Content-Type", "application/json");
  tok.body =
      R"({"paymentMethod":{"type":"scheme","number":"4242424242424242","expiryMonth":"12","expiryYear":"2031"}})";
  auto t =
      env.client().Send(env.sandbox("acquirer").base_url(), tok, SystemClock::Get().Now() + Millis(2000));
  ASSERT_TRUE(t.ok() && t->status == 200) << (t.ok() ? t->body : t.status().ToString());
  http::Request pay = tok;
  pay.target = "/v1/payments";
  pay.body = json::Dump(
      object{{"reference", "o-r"},
             {"amount", object{{"value", 1200}, {"currency", "USD"}}},
             {"paymentMethod",
              object{{"type", "scheme"},
                     {"storedPaymentMethodId", S(testing::ParseObject(t->body), "storedPaymentMethodId")}}}});
  auto a =
      env.client().Send(env.sandbox("acquirer").base_url(), pay, SystemClock::Get().Now() + Millis(2000));
  ASSERT_TRUE(a.ok() && a->status == 200);
  auto intents_ledger = FetchLedger(env.client(), "intents", env.sandbox("intents").base_url());
  ASSERT_TRUE(intents_ledger.ok());
  auto m = ReconcileNow(env);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].provider, "acquirer");
  EXPECT_EQ(m[0].order_id, "o-r");
  EXPECT_NE(m[0].what.find("second authorization"), std::string::npos);

  // With its notification delivered, the stray authorization is voided on arrival.
  env.sandbox("acquirer")
      .set_webhook_url("http://127.0.0.1:" + std::to_string(env.port()) + "/v1/webhooks/payments/acquirer");
  pay.headers.Set("Idempotency-Key", "stray-2");
  a = env.client().Send(env.sandbox("acquirer").base_url(), pay, SystemClock::Get().Now() + Millis(2000));
  ASSERT_TRUE(a.ok() && a->status == 200);
  std::string stray = S(testing::ParseObject(a->body), "pspReference");
  auto deadline = std::chrono::steady_clock::now() + Millis(5000);
  auto status_of = [&] {
    for (const auto& e : env.Entries("acquirer", "o-r")) {
      if (e.id == stray) return e.status;
    }
    return std::string();
  };
  while (status_of() != "voided" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(Millis(20));
  EXPECT_EQ(status_of(), "voided");
}

// Runs card flows, then greps every file in the data dir (payment DB, sandbox ledgers, event
// log, kv) and every captured log line for the card numbers.
TEST(Payment, NoCardNumberInAnyTableFileOrLog) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  env.Call(http::Method::kPost, "/v1/payments/methods", "user:u1",
           json::Dump(object{{"card", Env::Card(kOk)}}));
  env.Authorize("o-n1", kOk);
  env.Authorize("o-n2", kDecline);
  env.Authorize("o-n3", kStepUp);
  env.Authorize("o-n4", kProcessing);
  std::this_thread::sleep_for(Millis(300));  // webhooks and the outbox relay run
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(env.dir())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    ++files;
    for (const char* number : {kOk, kDecline, kStepUp, kProcessing}) {
      EXPECT_EQ(ss.str().find(number), std::string::npos) << number << " in " << entry.path();
    }
  }
  EXPECT_GE(files, 4);
  std::string logs = env.Logs();
  EXPECT_NE(logs.find("/v1/payment_intents"), std::string::npos);  // the log was captured
  for (const char* number : {kOk, kDecline, kStepUp, kProcessing}) {
    EXPECT_EQ(logs.find(number), std::string::npos) << number << " in the logs";
  }
}

}  // namespace
}  // namespace emporium::payment

namespace emporium::payment {
namespace {

// A crash left a pending payment (lease expired) while the provider had authorized: voiding it
// fails the payment and voids the provider's authorization; authorizing again resumes instead.
TEST(Payment, CrashedPendingAuthorizationsAreResumedOrAbandoned) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string token = env.Method(kOk);
  auto db = env.rt().Database("payment");
  ASSERT_TRUE(db.ok());
  auto pm = MethodByToken(**db, token);
  ASSERT_TRUE(pm.ok() && *pm);
  for (const char* order : {"o-crash1", "o-crash2"}) {
    Payment p;
    p.id = std::string("pay_") + order;
    p.order_id = order;
    p.amount = 900;
    p.currency = "USD";
    p.method_token = token;
    p.status = "pending";
    p.lease_until = 1;
    ASSERT_TRUE((*db)->Transact([&](sql::Tx& tx) { return InsertPayment(tx, p); }).ok());
    // What the crashed process had sent to intents, with its idempotency key.
    http::Request req;
    req.method = http::Method::kPost;
    req.target = "/v1/payment_intents";
    req.headers.Set("Authorization", "Bearer " + paysim::DefaultApiKey("intents"));
    req.headers.Set("Idempotency-Key", std::string("auth:") + order + ":intents");
    req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    req.body = "amount=900&currency=USD&confirm=true&capture_method=manual&payment_method=" +
               (*pm)->provider_tokens.at("intents") + "&metadata%5Border_id%5D=" + order;
    auto r =
        env.client().Send(env.sandbox("intents").base_url(), req, SystemClock::Get().Now() + Millis(2000));
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }
  // Resumed: the same idempotency key replays the provider's authorization — still one.
  auto resumed = env.AuthorizeToken("o-crash1", token, 900);
  EXPECT_EQ(S(resumed, "status"), "authorized");
  EXPECT_EQ(S(resumed, "payment_id"), "pay_o-crash1");
  EXPECT_EQ(env.Entries("intents", "o-crash1").size(), 1u);
  // Abandoned: the order gave up and voids.
  auto voided = env.Post("/v1/internal/payments/pay_o-crash2/void");
  EXPECT_EQ(S(voided, "status"), "failed");
  EXPECT_EQ(S(voided, "decline_code"), "abandoned");
  EXPECT_EQ(env.Held("intents", "o-crash2"), 0);
  EXPECT_TRUE(ReconcileNow(env).empty());
}

}  // namespace
}  // namespace emporium::payment
