// Cart and wishlist behaviour through the module's routes, with a fake catalog.
#include <gtest/gtest.h>

#include "platform/bus/bus.h"
#include "services/cart/test_env.h"

namespace emporium::cart::testing {
namespace {

using http::Method;

constexpr const char* kAda = "user:ada";
constexpr const char* kBob = "user:bob";

class CartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.catalog().Set("p-1", 1999, 10, "Trail Shoe");
    env_.catalog().Set("p-2", 500, 6, "Socks");
    env_.catalog().Set("p-3", 12000, 0, "Sold Out Jacket");
    ASSERT_TRUE(env_.Start().ok());
  }
  Env env_;
};

TEST_F(CartTest, EmptyCartThenAddsWithPricesTotalsAndVersion) {
  auto r = env_.Get("/v1/cart", kAda);
  ASSERT_EQ(r.status, 200) << r.body;
  auto cart = ParseObject(r.body);
  EXPECT_EQ(cart.at("items").as_array().size(), 0u);
  EXPECT_EQ(cart.at("version").as_int64(), 0);
  EXPECT_EQ(*r.headers.Get("ETag"), "\"0\"");

  r = env_.Add(kAda, "p-1", 2);
  ASSERT_EQ(r.status, 200) << r.body;
  r = env_.Add(kAda, "p-2", 1);
  ASSERT_EQ(r.status, 200) << r.body;
  r = env_.Add(kAda, "p-1", 1);
  ASSERT_EQ(r.status, 200) << r.body;
  cart = ParseObject(r.body);
  EXPECT_EQ(cart.at("version").as_int64(), 3);
  EXPECT_EQ(*r.headers.Get("ETag"), "\"3\"");
  EXPECT_FALSE(cart.at("id").as_string().empty());
  const auto& items = cart.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  const auto& first = items[0].as_object();
  EXPECT_EQ(first.at("product_id").as_string(), "p-1");
  EXPECT_EQ(first.at("title").as_string(), "Trail Shoe");
  EXPECT_EQ(first.at("quantity").as_int64(), 3);
  EXPECT_EQ(first.at("unit_price").as_object().at("amount").as_int64(), 1999);
  EXPECT_EQ(first.at("line_total").as_object().at("amount").as_int64(), 5997);
  EXPECT_EQ(first.at("line_total").as_object().at("currency").as_string(), "USD");
  EXPECT_TRUE(first.at("available").as_bool());
  EXPECT_EQ(cart.at("subtotal").as_object().at("amount").as_int64(), 5997 + 500);
  EXPECT_EQ(cart.at("currency").as_string(), "USD");
  EXPECT_TRUE(cart.at("updated_at").is_string());
}

TEST_F(CartTest, PricesAndAvailabilityAreRefreshedFromCatalogOnEveryRead) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 2).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-2", 1).status, 200);
  env_.catalog().Set("p-1", 1500, 1, "Trail Shoe");
  env_.catalog().Remove("p-2");
  int64_t batches = env_.catalog().batch_calls();
  auto cart = ParseObject(env_.Get("/v1/cart", kAda).body);
  EXPECT_EQ(env_.catalog().batch_calls(), batches + 1) << "one batch call per read";
  const auto& items = cart.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].as_object().at("unit_price").as_object().at("amount").as_int64(), 1500);
  EXPECT_FALSE(items[0].as_object().at("available").as_bool()) << "2 in the cart, 1 available";
  EXPECT_TRUE(items[1].as_object().at("unit_price").is_null()) << "product gone from catalog";
  EXPECT_FALSE(items[1].as_object().at("available").as_bool());
  EXPECT_EQ(cart.at("subtotal").as_object().at("amount").as_int64(), 3000);
}

TEST_F(CartTest, QuantityAndProductValidation) {
  for (int q : {0, -1, 100}) {
    auto r = env_.Add(kAda, "p-1", q);
    EXPECT_EQ(r.status, 422) << q;
    EXPECT_NE(r.body.find("\"field\":\"quantity\""), std::string::npos) << r.body;
  }
  auto r = env_.Add(kAda, "p-unknown", 1);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"field\":\"product_id\""), std::string::npos) << r.body;
  r = env_.Call(Method::kPost, "/v1/cart/items", kAda, R"({"quantity":1})");
  EXPECT_EQ(r.status, 422);
  r = env_.Call(Method::kPost, "/v1/cart/items", kAda, R"({"product_id":"p-1","quantity":"two"})");
  EXPECT_EQ(r.status, 422);
  r = env_.Call(Method::kPost, "/v1/cart/items", kAda, "[1]");
  EXPECT_EQ(r.status, 422);

  r = env_.Add(kAda, "p-2", 7);
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(*r.headers.Get("Content-Type"), "application/problem+json");
  EXPECT_EQ(ParseObject(r.body).at("available").as_int64(), 6);
  ASSERT_EQ(env_.Add(kAda, "p-2", 4).status, 200);
  r = env_.Add(kAda, "p-2", 3);
  EXPECT_EQ(r.status, 409) << "4 + 3 > 6";
  EXPECT_EQ(ParseObject(r.body).at("available").as_int64(), 6);
  r = env_.Add(kAda, "p-3", 1);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ParseObject(r.body).at("available").as_int64(), 0);

  env_.catalog().Set("p-9", 100, 1000);
  ASSERT_EQ(env_.Add(kAda, "p-9", 99).status, 200);
  r = env_.Add(kAda, "p-9", 1);
  EXPECT_EQ(r.status, 422) << "at most 99 of a product";
  EXPECT_EQ(env_.Quantity(kAda, "p-2"), 4);
}

TEST_F(CartTest, PatchChangesAndZeroOrDeleteRemoves) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-2", 1).status, 200);
  auto r = env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({"quantity":5})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 5);
  r = env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({"quantity":11})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ParseObject(r.body).at("available").as_int64(), 10);
  r = env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({})");
  EXPECT_EQ(r.status, 422);
  // Lowering is allowed even when stock fell below the cart's quantity.
  env_.catalog().Set("p-1", 1999, 2);
  EXPECT_EQ(env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({"quantity":3})").status, 200);
  r = env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({"quantity":0})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 0);
  EXPECT_EQ(env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({"quantity":1})").status, 404);
  r = env_.Call(Method::kDelete, "/v1/cart/items/p-2", kAda);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(ParseObject(r.body).at("items").as_array().size(), 0u);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/cart/items/p-2", kAda).status, 404);
  EXPECT_EQ(ParseObject(env_.Get("/v1/cart", kAda).body).at("version").as_int64(), 6);
}

TEST_F(CartTest, IfMatchGuardsEveryWrite) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);  // version 1
  auto r = env_.Add(kAda, "p-1", 1, {{"If-Match", "\"0\""}});
  EXPECT_EQ(r.status, 412) << r.body;
  EXPECT_EQ(*r.headers.Get("Content-Type"), "application/problem+json");
  EXPECT_EQ(env_.Add(kAda, "p-1", 1, {{"If-Match", "\"1\""}}).status, 200);  // quoted
  EXPECT_EQ(env_.Add(kAda, "p-1", 1, {{"If-Match", "2"}}).status, 200);      // bare
  EXPECT_EQ(env_.Add(kAda, "p-1", 1, {{"If-Match", "W/\"3\""}}).status, 200);
  EXPECT_EQ(env_.Add(kAda, "p-1", 1, {{"If-Match", "*"}}).status, 200);
  EXPECT_EQ(env_.Add(kAda, "p-1", 1, {{"If-Match", "garbage"}}).status, 412);
  EXPECT_EQ(
      env_.Call(Method::kPatch, "/v1/cart/items/p-1", kAda, R"({"quantity":1})", {{"If-Match", "4"}}).status,
      412);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/cart/items/p-1", kAda, "", {{"If-Match", "4"}}).status, 412);
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 5) << "rejected writes changed nothing";
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/cart/items/p-1", kAda, "", {{"If-Match", "5"}}).status, 200);
}

TEST_F(CartTest, CartsBelongToTheirSubjectGuestsTooButNotClients) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 2).status, 200);
  EXPECT_EQ(env_.Quantity(kBob, "p-1"), 0);
  ASSERT_EQ(env_.Add("guest:g1", "p-1", 1).status, 200);
  EXPECT_EQ(env_.Quantity("guest:g1", "p-1"), 1);
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 2);
  EXPECT_EQ(env_.Get("/v1/cart", "client:backoffice").status, 403);
  EXPECT_EQ(env_.Add("client:backoffice", "p-1", 1).status, 403);
  EXPECT_EQ(env_.Get("/v1/cart/events", "client:backoffice").status, 403);
  EXPECT_EQ(env_.Get("/v1/wishlist", "client:backoffice").status, 403);
  EXPECT_EQ(env_.Get("/v1/cart", "").status, 401);
  EXPECT_EQ(env_.Get("/v1/cart/events", "").status, 401);
}

TEST_F(CartTest, WishlistAddListRemove) {
  auto r = env_.Call(Method::kPost, "/v1/wishlist/items", kAda, R"({"product_id":"p-3"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(env_.Call(Method::kPost, "/v1/wishlist/items", kAda, R"({"product_id":"p-3"})").status, 200);
  EXPECT_EQ(env_.Call(Method::kPost, "/v1/wishlist/items", kAda, R"({"product_id":"p-1"})").status, 201);
  EXPECT_EQ(env_.Call(Method::kPost, "/v1/wishlist/items", kAda, R"({"product_id":"nope"})").status, 422);
  EXPECT_EQ(env_.Call(Method::kPost, "/v1/wishlist/items", kAda, R"({})").status, 422);
  auto list = ParseObject(env_.Get("/v1/wishlist", kAda).body);
  EXPECT_EQ(list.at("items").as_array().size(), 2u);
  EXPECT_EQ(ParseObject(env_.Get("/v1/wishlist", kBob).body).at("items").as_array().size(), 0u);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/wishlist/items/p-3", kAda).status, 204);
  EXPECT_EQ(env_.Call(Method::kDelete, "/v1/wishlist/items/p-3", kAda).status, 404);
  list = ParseObject(env_.Get("/v1/wishlist", kAda).body);
  ASSERT_EQ(list.at("items").as_array().size(), 1u);
  EXPECT_EQ(list.at("items").as_array()[0].as_object().at("product_id").as_string(), "p-1");
}

TEST_F(CartTest, ChangesArePublishedOnTheCartTopicKeyedBySubject) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 2).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
  ASSERT_EQ(env_.Call(Method::kDelete, "/v1/cart/items/p-1", kAda).status, 200);
  ASSERT_EQ(env_.Call(Method::kPost, "/v1/wishlist/items", kAda, R"({"product_id":"p-2"})").status, 201);

  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto consumer = (*bus)->Subscribe("cart-test-reader", {std::string(kCartTopic)});
  ASSERT_TRUE(consumer.ok());
  std::vector<bus::Record> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->Poll(Millis(100));
    ASSERT_TRUE(batch.ok());
    seen.insert(seen.end(), batch->begin(), batch->end());
  }
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].event.type, "cart.item_added");
  EXPECT_EQ(seen[1].event.type, "cart.item_updated");
  EXPECT_EQ(seen[2].event.type, "cart.item_removed");
  EXPECT_EQ(seen[3].event.type, "wishlist.item_added");
  for (const auto& r : seen) {
    EXPECT_EQ(r.key, kAda);
    EXPECT_EQ(r.event.source, "/emporium/cart");
  }
  auto data = ParseObject(seen[0].event.data);
  EXPECT_EQ(data.at("product_id").as_string(), "p-1");
  EXPECT_EQ(data.at("quantity").as_int64(), 2);
  EXPECT_EQ(data.at("change").as_object().at("seq").as_int64(), 1);
  EXPECT_EQ(ParseObject(seen[3].event.data).at("product_id").as_string(), "p-2");
}

// ---- guest → user merge ----

class MergeTest : public CartTest {
 protected:
  void PublishMerge(const std::string& guest_id, const std::string& user_id,
                    const std::string& event_id = "") {
    auto bus = env_.rt().Bus();
    ASSERT_TRUE(bus.ok());
    auto producer = (*bus)->NewProducer();
    ASSERT_TRUE(producer.ok());
    boost::json::object data{{"guest_id", guest_id}, {"user_id", user_id}};
    bus::Event e = bus::MakeEvent("/emporium/identity", "identity.guest_merged", user_id, json::Dump(data));
    if (!event_id.empty()) e.id = event_id;
    ASSERT_TRUE((*producer)->Publish("identity.user", user_id, e).ok());
  }
  // Waits until subject's cart has `quantity` of product.
  bool WaitQuantity(const std::string& subject, const std::string& product, int64_t quantity) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (env_.Quantity(subject, product) == quantity) return true;
      std::this_thread::sleep_for(Millis(20));
    }
    return false;
  }
};

TEST_F(MergeTest, GuestCartMergesIntoUserCartCappedByAvailabilityOnce) {
  env_.catalog().Set("p-4", 100, 5);
  env_.catalog().Set("p-5", 100, 5);
  ASSERT_EQ(env_.Add("guest:g1", "p-1", 2).status, 200);
  ASSERT_EQ(env_.Add("guest:g1", "p-2", 5).status, 200);
  ASSERT_EQ(env_.Add("guest:g1", "p-4", 1).status, 200);
  ASSERT_EQ(env_.Add("guest:g1", "p-5", 1).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-2", 3).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-4", 5).status, 200);
  env_.catalog().Remove("p-5");       // gone from catalog: dropped
  env_.catalog().Set("p-4", 100, 2);  // the user already has more than is left: kept, not lowered

  PublishMerge("g1", "ada", "merge-event-1");
  ASSERT_TRUE(WaitQuantity(kAda, "p-1", 2));
  EXPECT_EQ(env_.Quantity(kAda, "p-2"), 6) << "3 + 5 capped at the 6 available";
  EXPECT_EQ(env_.Quantity(kAda, "p-4"), 5);
  EXPECT_EQ(env_.Quantity(kAda, "p-5"), 0);
  auto guest = ParseObject(env_.Get("/v1/cart", "guest:g1").body);
  EXPECT_EQ(guest.at("items").as_array().size(), 0u) << "the guest cart is emptied";
  EXPECT_EQ(ParseObject(env_.Get("/v1/cart", kAda).body).at("version").as_int64(), 3);

  // A redelivered event (same id) is skipped by the inbox; a later one finds the guest cart empty.
  ASSERT_EQ(env_.Add("guest:g1", "p-1", 1).status, 200);
  PublishMerge("g1", "ada", "merge-event-1");
  // A marker merge for the same user (same partition, so handled after the duplicate).
  env_.catalog().Set("p-7", 100, 5);
  ASSERT_EQ(env_.Add("guest:g3", "p-7", 1).status, 200);
  PublishMerge("g3", "ada");
  ASSERT_TRUE(WaitQuantity(kAda, "p-7", 1));
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 2) << "the duplicate did not merge again";
  EXPECT_EQ(env_.Quantity("guest:g1", "p-1"), 1);
  PublishMerge("g1", "ada", "merge-event-2");
  ASSERT_TRUE(WaitQuantity(kAda, "p-1", 3));
  EXPECT_EQ(env_.Quantity("guest:g1", "p-1"), 0);
}

// ---- emptying after checkout ----

class CheckoutTest : public MergeTest {
 protected:
  // An order.confirmed of user_id as the order module writes it (key = order id).
  void PublishConfirmed(const std::string& order_id, const std::string& user_id, SystemTime created_at,
                        const std::vector<std::pair<std::string, int>>& items, const std::string& event_id) {
    auto bus = env_.rt().Bus();
    ASSERT_TRUE(bus.ok());
    auto producer = (*bus)->NewProducer();
    ASSERT_TRUE(producer.ok());
    boost::json::array lines;
    for (const auto& [product, quantity] : items)
      lines.push_back(
          boost::json::object{{"product_id", product}, {"quantity", quantity}, {"unit_price", 100}});
    boost::json::object data{{"order_id", order_id},
                             {"user_id", user_id},
                             {"status", "CONFIRMED"},
                             {"items", lines},
                             {"created_at", FormatRfc3339(created_at)},
                             {"at", FormatRfc3339(std::chrono::system_clock::now())}};
    bus::Event e = bus::MakeEvent("/emporium/order", "order.confirmed", order_id, json::Dump(data));
    e.id = event_id;
    ASSERT_TRUE((*producer)->Publish("order", order_id, e).ok());
  }
};

TEST_F(CheckoutTest, ConfirmedOrderTakesWhatItBoughtOutOfTheCartOnce) {
  env_.catalog().Set("p-4", 100, 5);
  env_.catalog().Set("p-5", 100, 5);
  ASSERT_EQ(env_.Add(kAda, "p-1", 3).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-2", 1).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-5", 1).status, 200);
  ASSERT_EQ(env_.Add(kBob, "p-1", 1).status, 200);
  std::this_thread::sleep_for(Millis(5));
  const SystemTime checkout = std::chrono::system_clock::now();
  std::this_thread::sleep_for(Millis(5));
  // Added after the checkout: not part of the order, so it stays.
  ASSERT_EQ(env_.Add(kAda, "p-4", 2).status, 200);
  const int64_t version = ParseObject(env_.Get("/v1/cart", kAda).body).at("version").as_int64();

  // Bought 2 of the 3 p-1, the one p-2, and p-4 (which was added later).
  PublishConfirmed("o-1", "ada", checkout, {{"p-1", 2}, {"p-2", 1}, {"p-4", 2}}, "confirmed-1");
  ASSERT_TRUE(WaitQuantity(kAda, "p-2", 0));
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 1);
  EXPECT_EQ(env_.Quantity(kAda, "p-4"), 2) << "a line added after the checkout stays";
  EXPECT_EQ(env_.Quantity(kAda, "p-5"), 1);
  EXPECT_EQ(env_.Quantity(kBob, "p-1"), 1) << "another user's cart is untouched";
  EXPECT_EQ(ParseObject(env_.Get("/v1/cart", kAda).body).at("version").as_int64(), version + 1)
      << "one change for the whole order";

  // The same event again (redelivery) is skipped by the inbox; a later event of the same order
  // (same key, so handled after it) shows the consumer went past it.
  PublishConfirmed("o-1", "ada", checkout, {{"p-1", 2}, {"p-2", 1}, {"p-4", 2}}, "confirmed-1");
  PublishConfirmed("o-1", "ada", std::chrono::system_clock::now(), {{"p-5", 1}}, "confirmed-2");
  ASSERT_TRUE(WaitQuantity(kAda, "p-5", 0));
  EXPECT_EQ(env_.Quantity(kAda, "p-1"), 1) << "the duplicate did not take p-1 again";
  EXPECT_EQ(env_.Quantity(kAda, "p-4"), 2);
}

TEST_F(CheckoutTest, CartEventsSayWhatChanged) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 3).status, 200);
  ASSERT_EQ(env_.Add(kAda, "p-2", 1).status, 200);
  PublishConfirmed("o-2", "ada", std::chrono::system_clock::now(), {{"p-1", 1}, {"p-2", 1}}, "confirmed-3");
  ASSERT_TRUE(WaitQuantity(kAda, "p-2", 0));

  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto consumer = (*bus)->Subscribe("cart-checkout-reader", {std::string(kCartTopic)});
  ASSERT_TRUE(consumer.ok());
  std::vector<bus::Record> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->Poll(Millis(100));
    ASSERT_TRUE(batch.ok());
    seen.insert(seen.end(), batch->begin(), batch->end());
  }
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2].event.type, "cart.item_updated");
  EXPECT_EQ(ParseObject(seen[2].event.data).at("quantity").as_int64(), 2);
  EXPECT_EQ(seen[3].event.type, "cart.item_removed");
  EXPECT_EQ(ParseObject(seen[3].event.data).at("product_id").as_string(), "p-2");
  auto change = ParseObject(seen[3].event.data).at("change").as_object();
  EXPECT_EQ(change.at("type").as_string(), "checked_out");
  EXPECT_EQ(change.at("items").as_array().size(), 1u);
}

TEST_F(CheckoutTest, MalformedOrEmptyEventsChangeNothing) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto producer = (*bus)->NewProducer();
  ASSERT_TRUE(producer.ok());
  for (const char* data : {"[1, 2]", R"({"user_id":"ada","items":[{"product_id":"p-1","quantity":1}]})",
                           R"({"user_id":"ada","created_at":"yesterday","items":[]})"}) {
    bus::Event e = bus::MakeEvent("/emporium/order", "order.confirmed", "o-3", data);
    ASSERT_TRUE((*producer)->Publish("order", "o-3", e).ok());
  }
  // Same key, handled after the three above.
  PublishConfirmed("o-3", "ada", std::chrono::system_clock::now(), {{"p-1", 1}}, "confirmed-4");
  ASSERT_TRUE(WaitQuantity(kAda, "p-1", 0)) << "the malformed events did not stall the partition";
  EXPECT_EQ(ParseObject(env_.Get("/v1/cart", kAda).body).at("version").as_int64(), 2);
}

}  // namespace
}  // namespace emporium::cart::testing
