// Webhook security (signatures, timestamp tolerance, replay) and the tracking state machine,
// plus the wire helpers both protocols use.
#include <gtest/gtest.h>

#include "platform/crypto/crypto.h"
#include "services/fulfillment/protocol.h"
#include "services/fulfillment/test_env.h"

namespace emporium::fulfillment {
namespace {

using testing::Env;
using testing::ParseObject;
using testing::Str;

int64_t NowSeconds() {
  return UnixMillis(SystemClock::Get().WallNow()) / 1000;
}

http::Request RapidshipWebhook(const std::string& event_id, const std::string& tracking,
                               const std::string& status, int64_t ts,
                               const std::string& secret = testing::kRapidSecret) {
  boost::json::object body{{"id", event_id},
                           {"type", "tracking.updated"},
                           {"created", ts},
                           {"data", boost::json::object{{"tracking_number", tracking},
                                                        {"status", status},
                                                        {"description", "scan"},
                                                        {"occurred_at", "2026-01-01T00:00:00.000Z"}}}};
  http::Request req;
  req.body = json::Dump(body);
  req.headers.Set("Content-Type", "application/json");
  req.headers.Set(kRapidshipSignatureHeader,
                  "t=" + std::to_string(ts) + ",v1=" + RapidshipSignature(secret, ts, req.body));
  return req;
}

http::Request CargolineWebhook(const std::string& event_id, const std::string& awb, const std::string& code) {
  http::Request req;
  req.body = FormEncode({{"event_id", event_id}, {"awb", awb}, {"code", code}, {"text", "scan"}});
  std::string ts = std::to_string(NowSeconds());
  req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  req.headers.Set(kCargolineTimestampHeader, ts);
  req.headers.Set(kCargolineSignatureHeader, CargolineSignature(testing::kCargoSecret, ts, req.body));
  return req;
}

TEST(Protocol, FormRoundTripAndDecimalPrices) {
  FormFields f{{"name", "Ada Lovelace"}, {"street1", "1 A&B St=5"}, {"x", "ü+%"}};
  auto decoded = FormDecode(FormEncode(f));
  EXPECT_EQ(decoded["name"], "Ada Lovelace");
  EXPECT_EQ(decoded["street1"], "1 A&B St=5");
  EXPECT_EQ(decoded["x"], "ü+%");
  EXPECT_EQ(ParseDecimalMinor("6.99"), 699);
  EXPECT_EQ(ParseDecimalMinor("7"), 700);
  EXPECT_EQ(ParseDecimalMinor("7.5"), 750);
  EXPECT_FALSE(ParseDecimalMinor("7."));
  EXPECT_FALSE(ParseDecimalMinor("-1.00"));
  EXPECT_FALSE(ParseDecimalMinor("1.234"));
  EXPECT_FALSE(ParseDecimalMinor("a.bc"));
  EXPECT_EQ(FormatDecimalMinor(705), "7.05");
  EXPECT_EQ(FormatDecimalMinor(1099), "10.99");
}

TEST(Protocol, RapidshipSignatureChecksKeyBodyAndTime) {
  const int64_t now = 1'700'000'000;
  std::string body = R"({"id":"evt_1"})";
  std::string good = "t=" + std::to_string(now) + ",v1=" + RapidshipSignature("k", now, body);
  EXPECT_TRUE(VerifyRapidshipSignature("k", good, body, now, 300).ok());
  EXPECT_TRUE(VerifyRapidshipSignature("k", good, body, now + 299, 300).ok());
  EXPECT_EQ(VerifyRapidshipSignature("k", good, body, now + 301, 300).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyRapidshipSignature("other", good, body, now, 300).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyRapidshipSignature("k", good, body + " ", now, 300).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyRapidshipSignature("k", "v1=abc", body, now, 300).code(), Code::kUnauthenticated);
  // The timestamp is signed: moving it forward breaks the signature.
  std::string moved = "t=" + std::to_string(now + 1000) + ",v1=" + RapidshipSignature("k", now, body);
  EXPECT_EQ(VerifyRapidshipSignature("k", moved, body, now + 1000, 300).code(), Code::kUnauthenticated);
  // Several v1 entries (secret rotation): one match is enough.
  std::string rotated = "t=" + std::to_string(now) + ",v1=" + RapidshipSignature("old", now, body) +
                        ",v1=" + RapidshipSignature("k", now, body);
  EXPECT_TRUE(VerifyRapidshipSignature("k", rotated, body, now, 300).ok());
}

TEST(Protocol, CargolineSignatureChecksKeyBodyAndTime) {
  const int64_t now = 1'700'000'000;
  std::string ts = std::to_string(now);
  std::string sig = CargolineSignature("k", ts, "a=1");
  EXPECT_TRUE(VerifyCargolineSignature("k", ts, sig, "a=1", now, 300).ok());
  EXPECT_EQ(VerifyCargolineSignature("k", ts, sig, "a=2", now, 300).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyCargolineSignature("x", ts, sig, "a=1", now, 300).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyCargolineSignature("k", ts, sig, "a=1", now - 400, 300).code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyCargolineSignature("k", "soon", sig, "a=1", now, 300).code(), Code::kUnauthenticated);
}

TEST(Protocol, GeneratedSecretIsStableAndPrivate) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("secret-" + NewUuid());
  auto a = CarrierWebhookSecret("", dir, "rapidship");
  auto b = CarrierWebhookSecret("", dir, "rapidship");
  auto c = CarrierWebhookSecret("", dir, "cargoline");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_GE(a->size(), 40u);
  auto perms = std::filesystem::status(dir / "carrier-secrets" / "rapidship.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_all, std::filesystem::perms::none);
  EXPECT_EQ(*CarrierWebhookSecret("configured", dir, "rapidship"), "configured");
  std::filesystem::remove_all(dir);
}

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.Start().ok());
    // No automatic scans: the test sends every webhook itself.
    ASSERT_TRUE(env_.rapidship().simulator().Control(R"({"mode":"paused"})").ok());
    auto r = env_.Book("order-wh", 5, "rapidship");
    ASSERT_EQ(r.status, 201) << r.body;
    shipment_ = ParseObject(r.body);
    tracking_ = Str(shipment_, "tracking_number");
  }
  std::string Status() { return Str(env_.Shipment(Str(shipment_, "shipment_id")), "status"); }
  size_t History() { return env_.Shipment(Str(shipment_, "shipment_id")).at("events").as_array().size(); }

  Env env_;
  boost::json::object shipment_;
  std::string tracking_;
};

TEST_F(WebhookTest, SignedUpdateMovesTheShipmentAndAReplayHasNoSecondEffect) {
  auto req = RapidshipWebhook("evt_a", tracking_, "in_transit", NowSeconds());
  auto first = env_.Webhook("rapidship", req);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Str(ParseObject(first.body), "status"), "in_transit");
  EXPECT_EQ(Status(), "in_transit");
  size_t history = History();

  auto replay = env_.Webhook("rapidship", req);
  ASSERT_EQ(replay.status, 200);
  EXPECT_TRUE(ParseObject(replay.body).at("duplicate").as_bool());
  EXPECT_EQ(History(), history);
  ASSERT_TRUE(testing::WaitUntil([&] { return env_.EventTypes("order-wh").size() >= 2; }));
  std::this_thread::sleep_for(Millis(100));
  EXPECT_EQ(env_.EventTypes("order-wh"), (std::vector<std::string>{"shipment.booked", "shipment.shipped"}));
}

TEST_F(WebhookTest, BadSignatureOrStaleTimestampIs401Problem) {
  auto forged =
      env_.Webhook("rapidship", RapidshipWebhook("evt_b", tracking_, "delivered", NowSeconds(), "guess"));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.headers.Get("Content-Type").value_or(""), "application/problem+json");
  auto stale =
      env_.Webhook("rapidship", RapidshipWebhook("evt_c", tracking_, "delivered", NowSeconds() - 600));
  EXPECT_EQ(stale.status, 401);
  auto tampered = RapidshipWebhook("evt_d", tracking_, "in_transit", NowSeconds());
  size_t p = tampered.body.find("in_transit");
  tampered.body.replace(p, 10, "delivered");
  EXPECT_EQ(env_.Webhook("rapidship", tampered).status, 401);
  http::Request unsigned_req = RapidshipWebhook("evt_e", tracking_, "delivered", NowSeconds());
  unsigned_req.headers.Remove(kRapidshipSignatureHeader);
  EXPECT_EQ(env_.Webhook("rapidship", unsigned_req).status, 401);
  // Signed for rapidship, sent as cargoline: wrong scheme.
  EXPECT_EQ(env_.Webhook("cargoline", RapidshipWebhook("evt_f", tracking_, "delivered", NowSeconds())).status,
            401);
  EXPECT_EQ(Status(), "booked");
  // A rejected delivery does not burn its event id: the genuine one is still applied.
  EXPECT_EQ(env_.Webhook("rapidship", RapidshipWebhook("evt_b", tracking_, "delivered", NowSeconds())).status,
            200);
  EXPECT_EQ(Status(), "delivered");
}

TEST_F(WebhookTest, UnknownCarrierOrTrackingIs404AndRetryable) {
  EXPECT_EQ(env_.Webhook("pigeon", RapidshipWebhook("evt_g", tracking_, "in_transit", NowSeconds())).status,
            404);
  EXPECT_EQ(env_.Webhook("rapidship", RapidshipWebhook("evt_h", "NOPE", "in_transit", NowSeconds())).status,
            404);
  EXPECT_EQ(
      env_.Webhook("rapidship", RapidshipWebhook("evt_h", tracking_, "in_transit", NowSeconds())).status,
      200);
}

TEST_F(WebhookTest, OutOfOrderUpdatesNeverMoveBackwardsAndStillShipBeforeDelivering) {
  ASSERT_EQ(env_.Webhook("rapidship", RapidshipWebhook("evt_1", tracking_, "delivered", NowSeconds())).status,
            200);
  ASSERT_EQ(
      env_.Webhook("rapidship", RapidshipWebhook("evt_2", tracking_, "in_transit", NowSeconds())).status,
      200);
  EXPECT_EQ(Status(), "delivered");
  ASSERT_TRUE(testing::WaitUntil([&] { return env_.EventTypes("order-wh").size() >= 3; }));
  std::this_thread::sleep_for(Millis(100));
  EXPECT_EQ(env_.EventTypes("order-wh"),
            (std::vector<std::string>{"shipment.booked", "shipment.shipped", "shipment.delivered"}));
  EXPECT_EQ(History(), 3u);  // booked, delivered, in_transit (late scan kept in the history)
  EXPECT_EQ(
      env_.Webhook("rapidship", RapidshipWebhook("evt_3", tracking_, "lost_in_space", NowSeconds())).status /
          100,
      4);
}

TEST(CargolineWebhook, FormWebhookIsVerifiedAndApplied) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  ASSERT_TRUE(env.cargoline().simulator().Control(R"({"mode":"paused"})").ok());
  auto booked = ParseObject(env.Book("order-cl", 1, "cargoline").body);
  std::string awb = Str(booked, "tracking_number");
  ASSERT_EQ(awb.rfind("CL", 0), 0u);
  auto r = env.Webhook("cargoline", CargolineWebhook("cle_1", awb, "OFD"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(env.Shipment(Str(booked, "shipment_id")), "status"), "out_for_delivery");
  auto forged = CargolineWebhook("cle_2", awb, "DLV");
  forged.headers.Set(kCargolineSignatureHeader, crypto::Base64UrlEncode(std::string(32, 'x')));
  EXPECT_EQ(env.Webhook("cargoline", forged).status, 401);
  EXPECT_EQ(env.Webhook("cargoline", CargolineWebhook("cle_1", awb, "OFD")).status, 200);  // replay
  EXPECT_EQ(env.Shipment(Str(booked, "shipment_id")).at("events").as_array().size(), 2u);
}

}  // namespace
}  // namespace emporium::fulfillment
