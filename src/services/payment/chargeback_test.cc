// Chargebacks end to end: disputes filed at the three sandboxes (through their control, and by
// the fraud test card after its capture) reach payment in each protocol's signed webhook and
// come out as payment.chargeback on the bus exactly once; the admin route for chargebacks the
// bank reports by letter; the expired-card and incorrect-CVC test cards.
#include <gtest/gtest.h>

#include <mutex>

#include "platform/bus/bus.h"
#include "platform/crypto/crypto.h"
#include "platform/http/router.h"
#include "platform/metrics/metrics.h"
#include "services/payment/test_env.h"

namespace emporium::payment {
namespace {

using boost::json::array;
using boost::json::object;
using testing::Env;

constexpr const char* kOk = "4242424242424242";
constexpr const char* kFraud = "4000000000000259";
constexpr const char* kExpired = "4000000000000069";
constexpr const char* kCvc = "4000000000000127";
constexpr const char* kRouting = "--payment-routing=GBP:acquirer,EUR:wallet,*:intents";

// Each provider, the currency the routing sends to it, and its raw code for a fraud dispute.
struct Case {
  const char* provider;
  const char* currency;
  const char* fraud_code;
};
constexpr Case kCases[] = {
    {"intents", "USD", "fraudulent"}, {"acquirer", "GBP", "10.4"}, {"wallet", "EUR", "UNAUTHORISED"}};

std::string S(const object& o, const char* k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

// payment.chargeback events read from topic payment since the start.
class Events {
 public:
  explicit Events(Env& env) {
    auto bus = env.rt().Bus();
    EXPECT_TRUE(bus.ok());
    auto c = (*bus)->Subscribe("chargeback-test", {std::string(kPaymentTopic)});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    consumer_ = std::move(c).value();
  }
  // Polls for `wait`, or until `order_id` has `want` chargeback events; returns them.
  std::vector<object> For(const std::string& order_id, size_t want, Millis wait = Millis(5000)) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (Of(order_id).size() < want && std::chrono::steady_clock::now() < deadline) Poll();
    return Of(order_id);
  }
  // Polls for the whole `wait` (to see that nothing more comes).
  std::vector<object> After(const std::string& order_id, Millis wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) Poll();
    return Of(order_id);
  }

 private:
  void Poll() {
    auto batch = consumer_->Poll(Millis(50));
    ASSERT_TRUE(batch.ok());
    for (const bus::Record& r : *batch) {
      if (r.event.type != "payment.chargeback") continue;
      EXPECT_EQ(r.key, r.event.subject);
      seen_.push_back(testing::ParseObject(r.event.data));
    }
  }
  std::vector<object> Of(const std::string& order_id) const {
    std::vector<object> out;
    for (const object& o : seen_) {
      if (S(o, "order_id") == order_id) out.push_back(o);
    }
    return out;
  }
  std::unique_ptr<bus::Consumer> consumer_;
  std::vector<object> seen_;
};

// Stands between the sandboxes and payment: keeps every webhook (to replay the provider's very
// bytes) and forwards it.
class Recorder {
 public:
  struct Hook {
    std::string provider;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  explicit Recorder(Env& env) : env_(env) {
    EXPECT_TRUE(router_
                    .Add(http::Method::kPost, "/v1/webhooks/payments/{provider}",
                         [this](http::Request& q) { return Forward(q); })
                    .ok());
    http::ServerOptions so;
    so.port = 0;
    so.threads = 1;
    server_ = std::make_unique<http::Server>(so, router_, metrics_);
    EXPECT_TRUE(server_->Start().ok());
    for (const char* name : testing::kProviders) {
      env.sandbox(name).set_webhook_url("http://127.0.0.1:" + std::to_string(server_->port()) +
                                        "/v1/webhooks/payments/" + name);
    }
  }
  ~Recorder() { server_->Shutdown(); }

  // The first recorded webhook of `provider` whose body mentions `needle`.
  std::optional<Hook> Find(const std::string& provider, const std::string& needle) {
    std::lock_guard lock(mu_);
    for (const Hook& h : hooks_) {
      if (h.provider == provider && h.body.find(needle) != std::string::npos) return h;
    }
    return std::nullopt;
  }
  // Sends a recorded webhook to payment again.
  http::Response Replay(const Hook& h) { return Send(h); }

 private:
  http::Response Forward(const http::Request& q) {
    Hook h{std::string(*q.PathParam("provider")), q.body, {}};
    for (const char* name :
         {"Signature", "PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG"}) {
      if (auto v = q.headers.Get(name)) h.headers.emplace_back(name, std::string(*v));
    }
    {
      std::lock_guard lock(mu_);
      hooks_.push_back(h);
    }
    return Send(h);
  }
  http::Response Send(const Hook& h) {
    http::Request req;
    req.method = http::Method::kPost;
    req.target = "/v1/webhooks/payments/" + h.provider;
    req.body = h.body;
    req.headers.Set("Content-Type", "application/json");
    for (const auto& [k, v] : h.headers) req.headers.Set(k, v);
    auto r = env_.client().Send("http://127.0.0.1:" + std::to_string(env_.port()), req,
                                SystemClock::Get().Now() + Millis(5000));
    return r.ok() ? *r : http::Response::Text(502, r.status().ToString());
  }

  Env& env_;
  http::Router router_;
  metrics::Registry metrics_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::vector<Hook> hooks_;
};

http::Response Admin(Env& env, http::Method method, const std::string& target, const std::string& body = "",
                     const std::string& key = "", std::vector<std::string> roles = {"admin"}) {
  http::Request req = http::NewRequest(method, target, body);
  auth::Principal p;
  p.subject = "user:staff";
  p.roles = std::move(roles);
  req.principal = p;
  if (!key.empty()) req.headers.Set("Idempotency-Key", key);
  return env.rt().Dispatch(req);
}

array ChargebacksOf(Env& env, const std::string& payment_id) {
  auto r = Admin(env, http::Method::kGet, "/v1/admin/payments/" + payment_id);
  EXPECT_EQ(r.status, 200) << r.body;
  auto o = testing::ParseObject(r.body);
  return o.contains("chargebacks") ? o.at("chargebacks").as_array() : array{};
}

// Waits until the payment shows `n` chargebacks.
array WaitChargebacks(Env& env, const std::string& payment_id, size_t n) {
  auto deadline = std::chrono::steady_clock::now() + Millis(5000);
  array a = ChargebacksOf(env, payment_id);
  while (a.size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(20));
    a = ChargebacksOf(env, payment_id);
  }
  return a;
}

// Authorizes and captures `number` for `order`; returns the payment id.
std::string Captured(Env& env, const std::string& order, const std::string& number, const Case& c,
                     int64_t amount = 1500) {
  auto p = env.Authorize(order, number, amount, c.currency);
  EXPECT_EQ(S(p, "status"), "authorized") << c.provider;
  EXPECT_EQ(S(p, "provider"), c.provider);
  std::string id = S(p, "payment_id");
  EXPECT_EQ(S(env.Post("/v1/internal/payments/" + id + "/capture"), "status"), "captured");
  return id;
}

paysim::LedgerEntry EntryOf(Env& env, const std::string& provider, const std::string& order) {
  auto entries = env.Entries(provider, order);
  EXPECT_EQ(entries.size(), 1u);
  return entries.empty() ? paysim::LedgerEntry{} : entries[0];
}

TEST(Chargeback, ControlDisputeAtEachProviderIsPublishedOnceAndReplaysChangeNothing) {
  Env env({kRouting});
  ASSERT_TRUE(env.Start().ok());
  Recorder recorder(env);
  Events events(env);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.provider);
    std::string order = std::string("o-cb-") + c.provider;
    std::string id = Captured(env, order, kOk, c);
    EXPECT_EQ(env.ControlAnswer(c.provider, object{{"dispute", object{{"reference", "o-none"}}}}).status,
              404);
    auto filed = env.ControlAnswer(c.provider, object{{"dispute", object{{"reference", order}}}});
    ASSERT_EQ(filed.status, 201) << filed.body;
    std::string dispute_id = S(testing::ParseObject(filed.body).at("dispute").as_object(), "id");
    EXPECT_EQ(env.ControlAnswer(c.provider, object{{"dispute", object{{"reference", order}}}}).status, 409);

    auto got = events.For(order, 1);
    ASSERT_EQ(got.size(), 1u);
    const object& e = got[0];
    EXPECT_EQ(S(e, "payment_id"), id);
    EXPECT_EQ(S(e, "provider"), c.provider);
    EXPECT_EQ(e.at("amount").as_int64(), 1500);
    EXPECT_EQ(S(e, "currency"), c.currency);
    EXPECT_EQ(S(e, "reason"), "fraudulent");
    EXPECT_EQ(S(e, "provider_reason"), c.fraud_code);
    EXPECT_EQ(S(e, "dispute_id"), dispute_id);
    EXPECT_FALSE(S(e, "at").empty());
    paysim::LedgerEntry l = EntryOf(env, c.provider, order);
    EXPECT_EQ(l.disputed, 1500);
    EXPECT_EQ(l.dispute_id, dispute_id);
    EXPECT_EQ(l.status, "captured");

    // The provider's very webhook again: acknowledged as a duplicate, no second row or event.
    auto hook = recorder.Find(c.provider, dispute_id);
    ASSERT_TRUE(hook);
    auto replay = recorder.Replay(*hook);
    ASSERT_EQ(replay.status, 200) << replay.body;
    EXPECT_TRUE(testing::ParseObject(replay.body).at("duplicate").as_bool());
    EXPECT_EQ(ChargebacksOf(env, id).size(), 1u);
    EXPECT_EQ(events.After(order, Millis(400)).size(), 1u);
    // The order's payment is still captured: a chargeback is a label, not a state change.
    EXPECT_EQ(S(env.GetPayment(id), "status"), "captured");
  }
}

TEST(Chargeback, ControlChoosesTheReasonAndAmountInEachProvidersVocabulary) {
  Env env({kRouting});
  ASSERT_TRUE(env.Start().ok());
  const char* expected[][2] = {{"product_not_received", "product_not_received"},
                               {"13.1", "product_not_received"},
                               {"MERCHANDISE_OR_SERVICE_NOT_RECEIVED", "product_not_received"}};
  for (size_t i = 0; i < 3; ++i) {
    const Case& c = kCases[i];
    SCOPED_TRACE(c.provider);
    std::string order = std::string("o-cbr-") + c.provider;
    std::string id = Captured(env, order, kOk, c);
    auto bad =
        env.ControlAnswer(c.provider, object{{"dispute", object{{"reference", order}, {"amount", 9999}}}});
    EXPECT_EQ(bad.status, 400);
    auto filed = env.ControlAnswer(
        c.provider,
        object{
            {"dispute", object{{"reference", order}, {"reason", "product_not_received"}, {"amount", 700}}}});
    ASSERT_EQ(filed.status, 201) << filed.body;
    auto cbs = WaitChargebacks(env, id, 1);
    ASSERT_EQ(cbs.size(), 1u);
    const object& cb = cbs[0].as_object();
    EXPECT_EQ(cb.at("amount").as_object().at("amount").as_int64(), 700);
    EXPECT_EQ(S(cb, "provider_reason"), expected[i][0]);
    EXPECT_EQ(S(cb, "reason"), expected[i][1]);
    EXPECT_EQ(S(cb, "source"), "provider");
  }
}

TEST(Chargeback, FraudCardIsDisputedAfterCaptureAtEveryProviderAndAcrossARestart) {
  Env env({kRouting});
  ASSERT_TRUE(env.Start().ok());
  Events events(env);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.provider);
    // Authorized but never captured: nothing to dispute.
    std::string held = std::string("o-fraud-held-") + c.provider;
    auto p = env.Authorize(held, kFraud, 800, c.currency);
    EXPECT_EQ(S(p, "status"), "authorized");
    std::string order = std::string("o-fraud-") + c.provider;
    std::string id = Captured(env, order, kFraud, c, 2100);
    EXPECT_TRUE(EntryOf(env, c.provider, order).dispute_id.empty());  // not before the delay
    auto got = events.For(order, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(S(got[0], "payment_id"), id);
    EXPECT_EQ(S(got[0], "reason"), "fraudulent");
    EXPECT_EQ(S(got[0], "provider_reason"), c.fraud_code);
    EXPECT_EQ(got[0].at("amount").as_int64(), 2100);
    EXPECT_EQ(EntryOf(env, c.provider, order).disputed, 2100);
    EXPECT_TRUE(EntryOf(env, c.provider, held).dispute_id.empty());
    EXPECT_EQ(events.After(held, Millis(1)).size(), 0u);
  }
  // Captured, then the sandbox restarts before the dispute falls due: it is filed all the same.
  const Case& c = kCases[0];
  std::string id = Captured(env, "o-fraud-restart", kFraud, c, 900);
  env.RestartSandbox(c.provider);
  auto got = events.For("o-fraud-restart", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(S(got[0], "payment_id"), id);
  EXPECT_EQ(EntryOf(env, c.provider, "o-fraud-restart").disputed, 900);
  // And the filed dispute itself comes back from the ledger's database.
  env.RestartSandbox(c.provider);
  EXPECT_EQ(EntryOf(env, c.provider, "o-fraud-restart").dispute_id, S(got[0], "dispute_id"));
  EXPECT_EQ(events.After("o-fraud-restart", Millis(600)).size(), 1u);
}

TEST(Chargeback, ExpiredCardAndIncorrectCvcDeclineAtEveryProvider) {
  Env env({kRouting});
  ASSERT_TRUE(env.Start().ok());
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.provider);
    for (auto [number, code] : {std::pair{kExpired, "expired_card"}, std::pair{kCvc, "incorrect_cvc"}}) {
      std::string order = std::string("o-dec-") + code + "-" + c.provider;
      auto p = env.Authorize(order, number, 1000, c.currency);
      EXPECT_EQ(S(p, "status"), "declined");
      EXPECT_EQ(S(p, "provider"), c.provider);
      EXPECT_EQ(S(p, "decline_code"), code);
      EXPECT_EQ(env.Held(c.provider, order), 0);
    }
  }
}

TEST(Chargeback, AdminRouteNeedsAdminChecksAmountsAndHonoursIdempotencyKeys) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  Events events(env);
  const Case& c = kCases[0];
  std::string id = Captured(env, "o-adm", kOk, c, 1000);
  std::string path = "/v1/admin/payments/" + id + "/chargebacks";
  std::string body =
      json::Dump(object{{"reason", "fraudulent"}, {"amount", 400}, {"note", "bank letter 17"}});

  EXPECT_EQ(Admin(env, http::Method::kPost, path, body, "", {"customer"}).status, 403);
  EXPECT_EQ(Admin(env, http::Method::kPost, "/v1/admin/payments/pay_nope/chargebacks", body).status, 404);
  auto held = env.Authorize("o-adm-held", kOk, 1000);
  EXPECT_EQ(
      Admin(env, http::Method::kPost, "/v1/admin/payments/" + S(held, "payment_id") + "/chargebacks", body)
          .status,
      422);
  EXPECT_EQ(Admin(env, http::Method::kPost, path, R"({"reason":"stolen"})").status, 422);
  EXPECT_EQ(Admin(env, http::Method::kPost, path, R"({"amount":5})").status, 422);
  EXPECT_EQ(Admin(env, http::Method::kPost, path, R"({"reason":"fraudulent","case":"x"})").status, 422);
  EXPECT_EQ(Admin(env, http::Method::kPost, path, R"({"reason":"fraudulent","amount":"400"})").status, 422);
  // 300 refunded: 700 is left to charge back.
  env.Post("/v1/internal/payments/" + id + "/refund", object{{"amount", 300}, {"idempotency_key", "r1"}});
  EXPECT_EQ(Admin(env, http::Method::kPost, path, R"({"reason":"fraudulent","amount":701})").status, 422);

  auto first = Admin(env, http::Method::kPost, path, body, "letter-17");
  ASSERT_EQ(first.status, 201) << first.body;
  auto cb = testing::ParseObject(first.body);
  EXPECT_EQ(S(cb, "source"), "admin");
  EXPECT_EQ(S(cb, "note"), "bank letter 17");
  EXPECT_EQ(cb.at("amount").as_object().at("amount").as_int64(), 400);
  auto again = Admin(env, http::Method::kPost, path, body, "letter-17");
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(S(testing::ParseObject(again.body), "chargeback_id"), S(cb, "chargeback_id"));
  EXPECT_EQ(again.headers.Get("Idempotent-Replayed").value_or(""), "true");
  auto other = Admin(env, http::Method::kPost, path, R"({"reason":"duplicate","amount":400})", "letter-17");
  EXPECT_EQ(other.status, 422) << other.body;

  // Without an amount: what is left (1000 - 300 refunded - 400 charged back); then nothing is.
  auto rest = Admin(env, http::Method::kPost, path, R"({"reason":"unrecognized"})", "letter-18");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(testing::ParseObject(rest.body).at("amount").as_object().at("amount").as_int64(), 300);
  EXPECT_EQ(Admin(env, http::Method::kPost, path, R"({"reason":"unrecognized"})").status, 422);

  auto got = events.For("o-adm", 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(S(got[0], "dispute_id"), S(cb, "chargeback_id"));
  EXPECT_EQ(S(got[0], "provider"), "intents");
  EXPECT_EQ(S(got[0], "provider_reason"), "");
  EXPECT_EQ(got[0].at("amount").as_int64(), 400);
  EXPECT_EQ(S(got[1], "reason"), "unrecognized");
  EXPECT_EQ(events.After("o-adm", Millis(400)).size(), 2u);
  auto shown = ChargebacksOf(env, id);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(S(shown[0].as_object(), "reason"), "fraudulent");
}

// Dispute messages as a provider would send them, signed with `secret`.
http::Request IntentsDispute(const std::string& event_id, const std::string& dispute_id,
                             const std::string& intent, const std::string& secret) {
  std::string body = json::Dump(object{{"id", event_id},
                                       {"type", "charge.dispute.created"},
                                       {"data", object{{"object", object{{"id", dispute_id},
                                                                         {"object", "dispute"},
                                                                         {"amount", 500},
                                                                         {"currency", "usd"},
                                                                         {"reason", "fraudulent"},
                                                                         {"payment_intent", intent},
                                                                         {"status", "needs_response"}}}}}});
  std::string t = std::to_string(UnixMillis(SystemClock::Get().WallNow()) / 1000);
  http::Request req = http::NewRequest(http::Method::kPost, "/v1/webhooks/payments/intents", body);
  req.headers.Set("Signature",
                  "t=" + t + ",v1=" + crypto::HexEncode(crypto::HmacSha256(secret, t + "." + body)));
  return req;
}

http::Request AcquirerDispute(const std::string& secret) {
  std::string date = FormatRfc3339(SystemClock::Get().WallNow());
  std::string signing = "CB1:PSP1:Emporium:o-x:500:USD:CHARGEBACK:true:" + date;
  object item{{"eventCode", "CHARGEBACK"},
              {"success", "true"},
              {"pspReference", "CB1"},
              {"originalReference", "PSP1"},
              {"merchantAccountCode", "Emporium"},
              {"merchantReference", "o-x"},
              {"amount", object{{"value", 500}, {"currency", "USD"}}},
              {"eventDate", date},
              {"reason", "Other Fraud-Card Absent Environment"},
              {"additionalData",
               object{{"chargebackReasonCode", "10.4"},
                      {"hmacSignature", crypto::Base64UrlEncode(crypto::HmacSha256(secret, signing))}}}};
  return http::NewRequest(
      http::Method::kPost, "/v1/webhooks/payments/acquirer",
      json::Dump(object{{"live", "false"},
                        {"notificationItems", array{object{{"NotificationRequestItem", item}}}}}));
}

http::Request WalletDispute(const std::string& secret) {
  object amount{{"currency_code", "EUR"}, {"value", "5.00"}};
  array txs{object{{"seller_transaction_id", "CAP-1"}}};
  object resource{{"dispute_id", "PP-D-1"},
                  {"reason", "UNAUTHORISED"},
                  {"dispute_amount", amount},
                  {"disputed_transactions", txs}};
  std::string body = json::Dump(
      object{{"id", "WH-forged"}, {"event_type", "CUSTOMER.DISPUTE.CREATED"}, {"resource", resource}});
  std::string time = FormatRfc3339(SystemClock::Get().WallNow());
  http::Request req = http::NewRequest(http::Method::kPost, "/v1/webhooks/payments/wallet", body);
  req.headers.Set("PAYPAL-TRANSMISSION-ID", "WH-forged");
  req.headers.Set("PAYPAL-TRANSMISSION-TIME", time);
  req.headers.Set("PAYPAL-TRANSMISSION-SIG",
                  crypto::Base64UrlEncode(crypto::HmacSha256(
                      secret, "WH-forged|" + time + "|" + crypto::HexEncode(crypto::Sha256(body)))));
  return req;
}

TEST(Chargeback, ForgedDisputesAre401AndUnknownPaymentsAreAcknowledged) {
  Env env({kRouting});
  ASSERT_TRUE(env.Start().ok());
  Events events(env);
  std::string id = Captured(env, "o-forge", kOk, kCases[0]);
  std::string intent = EntryOf(env, "intents", "o-forge").id;
  for (http::Request req : {IntentsDispute("evt_forged", "dp_f", intent, "not-the-secret"),
                            AcquirerDispute("nope"), WalletDispute("nope")}) {
    auto r = env.rt().Dispatch(req);
    EXPECT_EQ(r.status, 401) << req.target << " " << r.body;
  }
  EXPECT_TRUE(ChargebacksOf(env, id).empty());

  // Properly signed, but for payments nobody here knows: 200, so the provider stops retrying.
  http::Request unknown =
      IntentsDispute("evt_unknown", "dp_u", "pi_unknown", paysim::DefaultWebhookSecret("intents"));
  EXPECT_EQ(env.rt().Dispatch(unknown).status, 200);
  http::Request acq = AcquirerDispute(paysim::DefaultWebhookSecret("acquirer"));
  EXPECT_EQ(env.rt().Dispatch(acq).status, 200);
  http::Request wal = WalletDispute(paysim::DefaultWebhookSecret("wallet"));
  EXPECT_EQ(env.rt().Dispatch(wal).status, 200);
  EXPECT_NE(env.Logs().find("payment dispute for an unknown payment"), std::string::npos);

  // The same event again is a duplicate; another event id for the same dispute adds nothing.
  std::string secret = paysim::DefaultWebhookSecret("intents");
  http::Request a = IntentsDispute("evt_a", "dp_1", intent, secret);
  auto ra = env.rt().Dispatch(a);
  ASSERT_EQ(ra.status, 200) << ra.body;
  EXPECT_FALSE(testing::ParseObject(ra.body).at("duplicate").as_bool());
  http::Request a2 = IntentsDispute("evt_a", "dp_1", intent, secret);
  EXPECT_TRUE(testing::ParseObject(env.rt().Dispatch(a2).body).at("duplicate").as_bool());
  http::Request b = IntentsDispute("evt_b", "dp_1", intent, secret);
  EXPECT_EQ(env.rt().Dispatch(b).status, 200);
  auto cbs = ChargebacksOf(env, id);
  ASSERT_EQ(cbs.size(), 1u);
  EXPECT_EQ(S(cbs[0].as_object(), "dispute_id"), "dp_1");
  EXPECT_EQ(S(cbs[0].as_object(), "provider_reason"), "fraudulent");
  EXPECT_EQ(S(cbs[0].as_object().at("amount").as_object(), "currency"), "USD");
  EXPECT_EQ(events.After("o-forge", Millis(400)).size(), 1u);
}

}  // namespace
}  // namespace emporium::payment
