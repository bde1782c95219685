// Booking: idempotency per order, rate choice, failover when a carrier is down, crash-safe
// claims (with a fake carrier), validation and access.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "platform/sql/sql.h"
#include "services/fulfillment/http.h"
#include "services/fulfillment/service.h"
#include "services/fulfillment/test_env.h"

namespace emporium::fulfillment {
namespace {

using testing::Env;
using testing::ParseObject;
using testing::Str;

int64_t Amount(const boost::json::object& shipment) {
  return shipment.at("rate").as_object().at("amount").as_int64();
}

int64_t Parcels(sandbox::SandboxServer& s) {
  return ParseObject(s.simulator().ControlState()).at("parcels").as_int64();
}

TEST(Booking, SameOrderTwiceIsOneShipmentAndOneLabel) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto first = env.Book("order-1", 1);
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = env.Book("order-1", 1);
  ASSERT_EQ(second.status, 201) << second.body;
  auto a = ParseObject(first.body);
  auto b = ParseObject(second.body);
  EXPECT_EQ(Str(a, "shipment_id"), Str(b, "shipment_id"));
  EXPECT_EQ(Str(a, "tracking_number"), Str(b, "tracking_number"));
  EXPECT_FALSE(Str(a, "tracking_number").empty());
  EXPECT_EQ(Str(a, "status"), "booked");
  EXPECT_EQ(Parcels(env.rapidship()) + Parcels(env.cargoline()), 1);
  EXPECT_TRUE(testing::WaitUntil([&] { return env.EventTypes("order-1").size() >= 1; }));
  EXPECT_EQ(env.EventTypes("order-1"), std::vector<std::string>{"shipment.booked"});
}

TEST(Booking, ConcurrentRequestsForOneOrderBookOnce) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> ids;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto r = env.Book("order-race", 2);
      if (r.status != 201) return;
      ++ok;
      std::lock_guard lock(mu);
      ids.insert(Str(ParseObject(r.body), "tracking_number"));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Parcels(env.rapidship()) + Parcels(env.cargoline()), 1);
}

TEST(Booking, CheapestRateWins) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  // One unit (0.5 kg): cargoline 5.99 < rapidship 6.99. Five units (2.5 kg): rapidship 10.99 < 11.99.
  auto small = ParseObject(env.Book("order-small", 1).body);
  EXPECT_EQ(Str(small, "carrier"), "cargoline");
  EXPECT_EQ(Amount(small), 599);
  EXPECT_EQ(Str(small, "service"), "ECONOMY");
  auto large = ParseObject(env.Book("order-large", 5).body);
  EXPECT_EQ(Str(large, "carrier"), "rapidship");
  EXPECT_EQ(Amount(large), 1099);
  EXPECT_EQ(Str(large, "service"), "ground");
  EXPECT_NE(Str(large, "label_url").find("/labels/"), std::string::npos);
}

// Checkout asks for the price first (no order yet) and books with the quoted carrier later.
TEST(Booking, QuoteIsTheCheapestRateAndBooksNothing) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto body = ParseObject(testing::ShipmentBody("", 5));
  body.erase("order_id");
  auto r = env.Call(http::Method::kPost, "/v1/internal/shipments/quote", json::Dump(body));
  ASSERT_EQ(r.status, 200) << r.body;
  auto q = ParseObject(r.body);
  EXPECT_EQ(Str(q, "carrier"), "rapidship");
  EXPECT_EQ(q["price"].as_object()["amount"].as_int64(), 1099);
  EXPECT_EQ(Str(q["price"].as_object(), "currency"), "USD");
  EXPECT_EQ(Parcels(env.rapidship()) + Parcels(env.cargoline()), 0) << "a quote creates no parcel";
  body.erase("address");
  EXPECT_EQ(env.Call(http::Method::kPost, "/v1/internal/shipments/quote", json::Dump(body)).status, 422);
}

TEST(Booking, RequestedCarrierIsUsedEvenWhenDearer) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto s = ParseObject(env.Book("order-rs", 1, "rapidship").body);
  EXPECT_EQ(Str(s, "carrier"), "rapidship");
  EXPECT_EQ(Amount(s), 699);
  EXPECT_EQ(env.Book("order-x", 1, "pigeon").status / 100, 4);
}

TEST(Booking, CarrierDownMeansTheOtherOneShips) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  ASSERT_TRUE(env.rapidship().simulator().Control(R"({"fail_next":1})").ok());
  auto r = env.Book("order-failover", 5);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Str(ParseObject(r.body), "carrier"), "cargoline");
  // Both down: 503, and nothing was claimed, so a retry later books normally.
  ASSERT_TRUE(env.rapidship().simulator().Control(R"({"fail_next":1})").ok());
  ASSERT_TRUE(env.cargoline().simulator().Control(R"({"fail_next":1})").ok());
  EXPECT_EQ(env.Book("order-down", 1).status, 503);
  EXPECT_EQ(env.Book("order-down", 1).status, 201);
}

TEST(Booking, ARepeatOfABookedOrderDoesNotCallTheCarrier) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  ASSERT_EQ(env.Book("order-repeat", 1, "cargoline").status, 201);
  // The carrier is down now; the stored shipment still answers.
  ASSERT_TRUE(env.cargoline().simulator().Control(R"({"fail_next":5})").ok());
  EXPECT_EQ(env.Book("order-repeat", 1, "cargoline").status, 201);
  EXPECT_EQ(ParseObject(env.cargoline().simulator().ControlState()).at("fail_next").as_int64(), 5);
  EXPECT_EQ(Parcels(env.cargoline()), 1);
}

TEST(Booking, ValidationAndAccess) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  EXPECT_EQ(env.Call(http::Method::kPost, "/v1/internal/shipments", "{}").status / 100, 4);
  EXPECT_EQ(
      env.Call(http::Method::kPost, "/v1/internal/shipments", testing::ShipmentBody("", 1)).status / 100, 4);
  EXPECT_EQ(
      env.Call(http::Method::kPost, "/v1/internal/shipments", testing::ShipmentBody("o", 0)).status / 100, 4);
  EXPECT_EQ(
      env.Call(http::Method::kPost, "/v1/internal/shipments", testing::ShipmentBody("o", 1), false).status,
      401);
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/internal/shipments/nope").status, 404);
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/internal/shipments").status / 100, 4);
}

TEST(Booking, ListByOrderCarriesItemsAndEvents) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto booked = ParseObject(env.Book("order-list", 1).body);
  auto list = ParseObject(env.Call(http::Method::kGet, "/v1/internal/shipments?order_id=order-list").body);
  ASSERT_EQ(list.at("items").as_array().size(), 1u);
  EXPECT_EQ(Str(list.at("items").as_array()[0].as_object(), "shipment_id"), Str(booked, "shipment_id"));
  ASSERT_GE(list.at("events").as_array().size(), 1u);
  EXPECT_EQ(Str(list.at("events").as_array()[0].as_object(), "status"), "booked");
  auto none = ParseObject(env.Call(http::Method::kGet, "/v1/internal/shipments?order_id=other").body);
  EXPECT_TRUE(none.at("items").as_array().empty());
}

// A carrier whose answers the test controls, to exercise the claim → label → booked steps.
class FakeCarrier final : public Carrier {
 public:
  FakeCarrier(std::string name, int64_t price) : name_(std::move(name)), price_(price) {}
  const std::string& name() const override { return name_; }
  Result<RateQuote> Quote(const ShipmentRequest&) override {
    if (quote_fails) return Unavailable("down");
    return RateQuote{name_, "std", Money{price_, "USD"}};
  }
  Result<Label> CreateShipment(const ShipmentRequest&, const std::string& service,
                               const std::string& key) override {
    std::lock_guard lock(mu);
    keys.push_back(key);
    if (label_failures > 0) {
      --label_failures;
      return Unavailable("label service down");
    }
    return Label{"T-" + key, "http://labels/" + key, service, Money{price_, "USD"}};
  }
  Result<TrackingUpdate> ParseWebhook(const http::Request&, SystemTime) const override {
    return Unauthenticated("not used");
  }

  std::mutex mu;
  std::vector<std::string> keys;
  int label_failures = 0;
  bool quote_fails = false;

 private:
  std::string name_;
  int64_t price_;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = sql::Open("sqlite::memory:");
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    store_ = std::make_unique<Store>(*db_);
    ASSERT_TRUE(store_->Migrate().ok());
    auto a = std::make_unique<FakeCarrier>("rapidship", 900);
    auto b = std::make_unique<FakeCarrier>("cargoline", 800);
    a_ = a.get();
    b_ = b.get();
    std::vector<std::unique_ptr<Carrier>> carriers;
    carriers.push_back(std::move(a));
    carriers.push_back(std::move(b));
    service_ = std::make_unique<ShipmentService>(*store_, std::move(carriers), clock_, [] {});
  }
  ShipmentRequest Request(const std::string& order_id) {
    return ShipmentRequest{
        order_id, Address{"A", "1 St", "", "City", "", "123", "US"}, {Item{"p", 1}}, "", "u1"};
  }

  FakeClock clock_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<Store> store_;
  FakeCarrier* a_ = nullptr;
  FakeCarrier* b_ = nullptr;
  std::unique_ptr<ShipmentService> service_;
};

TEST_F(ServiceTest, CheapestQuoteAndTieGoesToTheFirstCarrier) {
  auto s = service_->Book(Request("o1"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->carrier, "cargoline");
  EXPECT_EQ(s->rate.amount, 800);
  b_->quote_fails = true;
  auto t = service_->Book(Request("o2"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->carrier, "rapidship");
}

TEST_F(ServiceTest, FailedLabelLeavesAClaimThatTheRetryCompletesWithTheSameKey) {
  b_->label_failures = 1;
  auto first = service_->Book(Request("o1"));
  EXPECT_EQ(first.status().code(), Code::kUnavailable);
  auto claim = store_->FindByOrder("o1");
  ASSERT_TRUE(claim.ok() && claim->has_value());
  EXPECT_EQ((*claim)->status, ShipmentStatus::kBooking);
  // The retry is answered by the claimed carrier even if another one became cheaper meanwhile.
  b_->quote_fails = true;
  auto second = service_->Book(Request("o1"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->carrier, "cargoline");
  EXPECT_EQ(second->status, ShipmentStatus::kBooked);
  ASSERT_EQ(b_->keys.size(), 2u);
  EXPECT_EQ(b_->keys[0], b_->keys[1]);
  EXPECT_EQ(b_->keys[0], second->shipment_id);
  EXPECT_EQ(second->tracking_number, "T-" + second->shipment_id);
  EXPECT_TRUE(a_->keys.empty());
}

TEST_F(ServiceTest, ValidationNamesTheProblem) {
  ShipmentRequest r = Request("o1");
  r.address.country.clear();
  EXPECT_EQ(service_->Book(r).status().code(), Code::kInvalidArgument);
  r = Request("o1");
  r.items.clear();
  EXPECT_EQ(service_->Book(r).status().code(), Code::kInvalidArgument);
  r = Request("o1");
  r.carrier = "nope";
  EXPECT_EQ(service_->Book(r).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(a_->keys.empty() && b_->keys.empty());
}

}  // namespace
}  // namespace emporium::fulfillment
