// order module: checkout, idempotency, the saga's outcomes and compensations, fraud reviews,
// cancel, shipment events, tracking and recovery after a restart. Real catalog (reservations)
// and cart; fake payment and fulfillment (fakes.h).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "platform/core/random.h"
#include "services/order/test_env.h"

namespace emporium::order::testing {
namespace {

const std::string kUser = "user:u-1";

std::string Id(const http::Response& r) {
  return JStr(ParseObject(r.body), "id");
}

// Every byte under dir (the SQLite files and their WAL included).
std::string ReadAll(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

TEST(Order, HappyPathConfirmsCapturesBooksAndFollowsShipment) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Lamp", 2500, 5);
  env.AddToCart(kUser, p, 2);

  auto r = env.Order(kUser, Env::Checkout(), "k-1");
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = ParseObject(r.body);
  EXPECT_EQ(JStr(o, "status"), "CONFIRMED");
  // The carrier's quote is charged with the goods, and the booking uses that carrier.
  auto totals = o["totals"].as_object();
  EXPECT_EQ(totals["subtotal"].as_object()["amount"].as_int64(), 5000);
  EXPECT_EQ(totals["shipping"].as_object()["amount"].as_int64(), FakeFulfillment::kShipping);
  EXPECT_EQ(totals["total"].as_object()["amount"].as_int64(), 5000 + FakeFulfillment::kShipping);
  EXPECT_EQ(JStr(o["shipment"].as_object(), "carrier"), "fastship");
  EXPECT_EQ(JStr(o["payment"].as_object(), "last4"), "4242");
  EXPECT_EQ(r.body.find("4242424242424242"), std::string::npos);
  EXPECT_FALSE(JStr(o["shipment"].as_object(), "tracking_number").empty());
  const std::string id = JStr(o, "id");

  auto pay = env.payment().ByOrder(id);
  EXPECT_EQ(pay.status, "captured");
  EXPECT_EQ(pay.amount, 5000 + FakeFulfillment::kShipping);
  EXPECT_EQ(pay.captures, 1);
  EXPECT_EQ(env.fulfillment().bookings(id), 1);
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{3, 0}));  // committed: shipped out of on_hand

  env.PublishShipment("shipment.shipped", id);
  EXPECT_EQ(JStr(env.WaitFor(kUser, id, "SHIPPED"), "status"), "SHIPPED");
  env.PublishShipment("shipment.delivered", id);
  auto done = env.WaitFor(kUser, id, "DELIVERED");
  EXPECT_EQ(JStr(done, "status"), "DELIVERED");
  std::vector<std::string> statuses;
  for (const auto& h : done["history"].as_array()) statuses.push_back(JStr(h.as_object(), "status"));
  EXPECT_EQ(statuses, (std::vector<std::string>{"PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"}));

  auto t = env.GetJson("/v1/orders/" + id + "/tracking", kUser);
  EXPECT_EQ(JStr(t, "status"), "DELIVERED");
  EXPECT_EQ(t["events"].as_array().size(), 1u);
  EXPECT_FALSE(t["shipment"].is_null());

  // Another user cannot see it; the admin list can.
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/orders/" + id, "user:u-2").status, 404);
  auto admin = env.GetJson("/v1/admin/orders", kAdmin);
  EXPECT_EQ(admin["items"].as_array().size(), 1u);
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/admin/orders", kUser).status, 403);

  // No card number and no plaintext address anywhere on disk.
  env.rt().Stop();
  std::string disk = ReadAll(env.dir());
  EXPECT_EQ(disk.find("4242424242424242"), std::string::npos);
  EXPECT_EQ(disk.find("Analytical Way"), std::string::npos);
}

TEST(Order, KeepsTheClientContextForFraudScreening) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  env.AddToCart(kUser, env.Product("Lamp", 2500, 5), 1);
  auto body = Env::Checkout();
  body["device_id"] = "dev-7f3a";
  body["session_id"] = "s-01";
  auto placed = env.Order(kUser, body, "ctx-1");
  ASSERT_EQ(placed.status, 201) << placed.body;
  auto o = env.GetJson("/v1/admin/orders/" + Id(placed), kAdmin);
  const auto& client = o["client"].as_object();
  EXPECT_EQ(JStr(client, "device_id"), "dev-7f3a");
  EXPECT_EQ(JStr(client, "session_id"), "s-01");
}

TEST(Order, IdempotencyKeyRequiredAndReplays) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Mug", 900, 10);
  env.AddToCart(kUser, p, 1);

  auto none = env.Post("/v1/orders", kUser, Env::Checkout());
  EXPECT_EQ(none.status, 422) << none.body;

  auto first = env.Order(kUser, Env::Checkout(), "same");
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = env.Order(kUser, Env::Checkout(), "same");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Id(again), Id(first));
  auto other = env.Order(kUser, Env::Checkout("5555555555554444"), "same");
  EXPECT_EQ(other.status, 422) << other.body;

  EXPECT_EQ(env.GetJson("/v1/orders", kUser)["items"].as_array().size(), 1u);
  EXPECT_EQ(env.payment().authorize_calls(), 1);
  EXPECT_EQ(env.Stock(p).first, 9);
}

TEST(Order, RefusesEmptyCartAndBadRequests) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto empty = env.Order(kUser, Env::Checkout(), "e-1");
  EXPECT_EQ(empty.status, 422) << empty.body;
  EXPECT_NE(empty.body.find("empty"), std::string::npos);

  std::string p = env.Product("Pen", 100, 10);
  env.AddToCart(kUser, p, 1);
  auto bad = env.Order(kUser, boost::json::object{{"payment", boost::json::object{}}}, "e-2");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("shipping_address"), std::string::npos);
  EXPECT_EQ(env.Call(http::Method::kPost, "/v1/orders", "guest:g1", "{}").status, 403);
  auto bad_device = Env::Checkout();
  bad_device["device_id"] = "not a device id!";
  auto refused = env.Order(kUser, bad_device, "e-4");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("device_id"), std::string::npos) << refused.body;

  // No carrier serves the address: refused before any order, stock hold or payment exists.
  auto nowhere = Env::Checkout();
  nowhere["shipping_address"].as_object()["country"] = "AQ";
  auto unserved = env.Order(kUser, nowhere, "e-3");
  EXPECT_EQ(unserved.status, 422) << unserved.body;
  EXPECT_NE(unserved.body.find("no carrier"), std::string::npos) << unserved.body;
  EXPECT_EQ(env.GetJson("/v1/admin/orders", kAdmin)["items"].as_array().size(), 0u);
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{10, 0}));
}

TEST(Order, DeclinedCardRejectsAndReleasesStock) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Chair", 4000, 4);
  env.AddToCart(kUser, p, 3);
  auto r = env.Order(kUser, Env::Checkout("4000000000000002"), "d-1");
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = ParseObject(r.body);
  EXPECT_EQ(JStr(o, "status"), "REJECTED");
  EXPECT_EQ(JStr(o, "reason"), "payment_declined");
  EXPECT_EQ(JStr(o, "reason_detail"), "card_declined");
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{4, 0}));
  EXPECT_EQ(env.payment().ByOrder(JStr(o, "id")).captures, 0);
}

// Units committed and money captured, then the carrier refuses the parcel: the order is cancelled
// with a refund; a refund the provider refuses is flagged for a person, not silently dropped.
TEST(Order, RefusedRefundIsFlaggedForAPerson) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Vase", 3000, 2);
  env.AddToCart(kUser, p, 1);
  env.fulfillment().refuse_bookings = true;
  env.payment().refuse_refunds = true;
  auto r = env.Order(kUser, Env::Checkout(), "rf-1");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = JStr(ParseObject(r.body), "id");
  auto o = env.GetJson("/v1/admin/orders/" + id, kAdmin);
  EXPECT_EQ(JStr(o, "status"), "CANCELLED");
  EXPECT_EQ(JStr(o, "reason"), "shipment_failed");
  EXPECT_EQ(JStr(o["payment"].as_object(), "status"), "refund_failed");
  EXPECT_TRUE(o["needs_attention"].as_bool());
  auto flagged = env.GetJson("/v1/admin/orders?needs_attention=true", kAdmin)["items"].as_array();
  ASSERT_EQ(flagged.size(), 1u);
  EXPECT_EQ(JStr(flagged[0].as_object(), "id"), id);

  // An order whose refund went through is not flagged.
  env.payment().refuse_refunds = false;
  env.AddToCart("user:u-3", env.Product("Bowl", 2000, 2), 1);
  auto ok = env.Order("user:u-3", Env::Checkout(), "rf-2");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(
      JStr(env.GetJson("/v1/admin/orders/" + JStr(ParseObject(ok.body), "id"), kAdmin)["payment"].as_object(),
           "status"),
      "refunded");
  EXPECT_EQ(env.GetJson("/v1/admin/orders?needs_attention=true", kAdmin)["items"].as_array().size(), 1u);
}

// Pages follow (created_at, id): every order once, however many share a millisecond.
TEST(Order, ListPagesThroughEveryOrderOnce) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    env.AddToCart(kUser, env.Product("Cup " + std::to_string(i), 500, 3), 1);
    auto r = env.Order(kUser, Env::Checkout(), "pg-" + std::to_string(i));
    ASSERT_EQ(r.status, 201) << r.body;
    created.insert(JStr(ParseObject(r.body), "id"));
  }
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    auto body = env.GetJson("/v1/orders?page_size=2" + token, kUser);
    for (const auto& o : body["items"].as_array()) seen.push_back(JStr(o.as_object(), "id"));
    if (body["next_page_token"].is_null()) break;
    token = "&page_token=" + std::string(body["next_page_token"].as_string());
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/orders?page_token=yesterday", kUser).status, 422);
}

TEST(Order, InsufficientStockRejects) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Desk", 9000, 3);
  env.AddToCart(kUser, p, 3);
  env.SetStock(p, 1);
  auto r = env.Order(kUser, Env::Checkout(), "s-1");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(JStr(ParseObject(r.body), "reason"), "insufficient_stock");
  EXPECT_EQ(JStr(ParseObject(r.body), "status"), "REJECTED");
  EXPECT_EQ(env.payment().authorize_calls(), 0);
}

TEST(Order, FraudReviewApproveAndDecline) {
  Env env({"--order-fraud-review-amount=1000"});
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Watch", 1500, 5);
  env.AddToCart(kUser, p, 1);
  auto r = env.Order(kUser, Env::Checkout(), "f-1");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(JStr(ParseObject(r.body), "status"), "REVIEW");
  const std::string first = Id(r);
  EXPECT_EQ(env.Stock(p).second, 1);  // held while waiting

  auto queue = env.GetJson("/v1/admin/fraud/reviews", kAdmin);
  ASSERT_EQ(queue["items"].as_array().size(), 1u);
  auto reasons = queue["items"].as_array()[0].as_object()["fraud"].as_object()["reasons"].as_array();
  EXPECT_EQ(reasons.at(0).as_string(), "high_amount");

  auto approved = env.Post("/v1/admin/fraud/reviews/" + first + "/decision", kAdmin,
                           boost::json::object{{"decision", "approve"}});
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(JStr(ParseObject(approved.body), "status"), "CONFIRMED");
  EXPECT_EQ(env.payment().ByOrder(first).captures, 1);
  // A second decision on a settled order is refused.
  EXPECT_EQ(env.Post("/v1/admin/fraud/reviews/" + first + "/decision", kAdmin,
                     boost::json::object{{"decision", "decline"}})
                .status,
            409);

  env.AddToCart(kUser, p, 1);
  auto second = env.Order(kUser, Env::Checkout(), "f-2");
  ASSERT_EQ(JStr(ParseObject(second.body), "status"), "REVIEW");
  auto declined = env.Post("/v1/admin/fraud/reviews/" + Id(second) + "/decision", kAdmin,
                           boost::json::object{{"decision", "decline"}});
  ASSERT_EQ(declined.status, 200) << declined.body;
  EXPECT_EQ(JStr(ParseObject(declined.body), "status"), "REJECTED");
  EXPECT_EQ(JStr(ParseObject(declined.body), "reason"), "fraud_declined");
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{4, 0}));
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/admin/fraud/reviews", kUser).status, 403);
}

TEST(Order, BlocklistedCountryDeclinedByFraud) {
  Env env({"--order-fraud-blocklist=country:GB"});
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Hat", 500, 5);
  env.AddToCart(kUser, p, 1);
  auto r = env.Order(kUser, Env::Checkout(), "b-1");
  auto o = ParseObject(r.body);
  EXPECT_EQ(JStr(o, "status"), "REJECTED");
  EXPECT_EQ(JStr(o, "reason"), "fraud_declined");
  EXPECT_EQ(JStr(o, "reason_detail"), "blocklisted_country");
  EXPECT_EQ(env.Stock(p).second, 0);
}

TEST(Order, CancelWhileInReviewReleasesStockButNotAfterShipping) {
  Env env({"--order-fraud-review-amount=1000"});
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Bike", 5000, 2);
  env.AddToCart(kUser, p, 1);
  auto r = env.Order(kUser, Env::Checkout(), "c-1");
  ASSERT_EQ(JStr(ParseObject(r.body), "status"), "REVIEW");
  EXPECT_EQ(env.Call(http::Method::kPost, "/v1/orders/" + Id(r) + "/cancel", "user:u-2").status, 404);
  auto c = env.Call(http::Method::kPost, "/v1/orders/" + Id(r) + "/cancel", kUser);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(JStr(ParseObject(c.body), "status"), "CANCELLED");
  EXPECT_EQ(JStr(ParseObject(c.body), "reason"), "customer_cancelled");
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{2, 0}));

  auto ok = env.Post("/v1/admin/fraud/reviews/" + Id(r) + "/decision", kAdmin,
                     boost::json::object{{"decision", "approve"}});
  EXPECT_EQ(ok.status, 409);

  Env small;
  ASSERT_TRUE(small.Start().ok());
  std::string q = small.Product("Cup", 300, 2);
  small.AddToCart(kUser, q, 1);
  auto shipped = small.Order(kUser, Env::Checkout(), "c-2");
  ASSERT_EQ(JStr(ParseObject(shipped.body), "status"), "CONFIRMED");
  EXPECT_EQ(small.Call(http::Method::kPost, "/v1/orders/" + Id(shipped) + "/cancel", kUser).status, 409);
}

TEST(Order, StepUpWaitsThenConfirmsThroughWorker) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Sofa", 20000, 1);
  env.AddToCart(kUser, p, 1);
  auto r = env.Order(kUser, Env::Checkout("4000002500003155"), "su-1");
  ASSERT_EQ(r.status, 202) << r.body;
  auto o = ParseObject(r.body);
  EXPECT_EQ(JStr(o, "status"), "PENDING");
  EXPECT_EQ(JStr(o["payment"].as_object()["next_action"].as_object(), "type"), "redirect");
  env.payment().CompleteAction(Id(r));
  EXPECT_EQ(JStr(env.WaitFor(kUser, Id(r), "CONFIRMED"), "status"), "CONFIRMED");
}

TEST(Order, StepUpCompletedEventDrivesTheOrderWithoutThePoll) {
  Env env({"--order-saga-poll=1h"});  // the worker's poll never comes: only the event can drive it
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Armchair", 15000, 1);
  env.AddToCart(kUser, p, 1);
  auto r = env.Order(kUser, Env::Checkout("4000002500003155"), "su-2");
  ASSERT_EQ(r.status, 202) << r.body;
  env.payment().CompleteAction(Id(r));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(JStr(env.GetJson("/v1/orders/" + Id(r), kUser), "status"), "PENDING");

  auto bus = env.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto producer = (*bus)->NewProducer();
  ASSERT_TRUE(producer.ok());
  boost::json::object data{{"payment_id", env.payment().ByOrder(Id(r)).id}, {"order_id", Id(r)}};
  auto e = bus::MakeEvent("/emporium/payment", "payment.action_completed", Id(r), json::Dump(data));
  ASSERT_TRUE((*producer)->Publish(std::string(kPaymentTopic), Id(r), e).ok());
  EXPECT_EQ(JStr(env.WaitFor(kUser, Id(r), "CONFIRMED"), "status"), "CONFIRMED");
  EXPECT_EQ(env.payment().ByOrder(Id(r)).captures, 1);
}

TEST(Order, PaymentTimeoutRejectsAndReleases) {
  Env env({"--order-payment-timeout=300ms", "--order-inline-budget=100ms"});
  ASSERT_TRUE(env.Start().ok());
  std::string p = env.Product("Tent", 7000, 2);
  env.AddToCart(kUser, p, 2);
  env.payment().fail_always = true;
  auto r = env.Order(kUser, Env::Checkout(), "t-1");
  env.payment().fail_always = false;
  ASSERT_EQ(r.status, 503) << r.body;  // tokenization itself failed: no order

  env.payment().fail_next = 0;
  // Tokenize succeeds, then authorization keeps failing.
  auto tok = env.Post("/v1/payments/methods", kUser,
                      boost::json::object{{"card", Env::Checkout()["payment"].as_object()["card"]}});
  ASSERT_EQ(tok.status, 201);
  env.payment().fail_always = true;
  auto body = Env::Checkout();
  body["payment"] = boost::json::object{{"method_token", JStr(ParseObject(tok.body), "method_token")}};
  auto pending = env.Order(kUser, body, "t-2");
  ASSERT_EQ(pending.status, 202) << pending.body;
  auto o = env.WaitFor(kUser, Id(pending), "REJECTED");
  EXPECT_EQ(JStr(o, "reason"), "payment_timeout");
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{2, 0}));
}

TEST(Order, UnfinishedOrderResumesAfterRestart) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / ("order-restart-" + NewUuid());
  std::string id, p;
  {
    Env env({}, dir);
    ASSERT_TRUE(env.Start().ok());
    p = env.Product("Kettle", 3000, 3);
    env.AddToCart(kUser, p, 1);
    env.fulfillment().fail_next = 1'000'000;  // the carrier is down: the saga waits at "ship"
    auto r = env.Order(kUser, Env::Checkout(), "r-1");
    ASSERT_TRUE(r.status == 201 || r.status == 202) << r.body;
    id = Id(r);
    EXPECT_TRUE(JStr(ParseObject(r.body)["shipment"].as_object(), "tracking_number").empty());
  }
  Env env({}, dir);  // a new process on the same data; the carrier is back
  ASSERT_TRUE(env.Start().ok());
  boost::json::object o;
  for (int i = 0; i < 250; ++i) {
    o = env.GetJson("/v1/orders/" + id, kUser);
    if (!JStr(o["shipment"].as_object(), "tracking_number").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(JStr(o["shipment"].as_object(), "tracking_number").empty()) << json::Dump(o);
  EXPECT_EQ(JStr(o, "status"), "CONFIRMED");
  EXPECT_EQ(env.fulfillment().bookings(id), 1);
  EXPECT_EQ(env.Stock(p), (std::pair<int64_t, int64_t>{2, 0}));
}

}  // namespace
}  // namespace emporium::order::testing
