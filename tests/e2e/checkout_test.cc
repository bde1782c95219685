// Checkout end to end (issue 5): the real `emporium up` binary with every module, the three payment
// sandboxes and the two carrier sandboxes each on a free port, driven over HTTP only, as a
// customer, an admin and a browser would — one TEST per must-show. Payment and carrier webhooks
// come back to the server's own port (--public-url). Nothing here is faked: orders go through
// catalog reservations, payment providers over HTTP, fulfillment booking a carrier, and the
// carrier's signed tracking webhooks.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "child_process.h"
#include "gtest/gtest.h"
#include "platform/http/client.h"
#include "platform/http/url.h"

namespace emporium::e2e {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using http::Method;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kPassword = "Tr0ub4dor-and-3-horses";
constexpr std::string_view kAdminEmail = "admin@e2e.test";
constexpr std::string_view kIntentsKey = "e2e_intents_key";
constexpr std::string_view kIntentsSecret = "e2e_intents_whsec";
constexpr std::string_view kApproved = "4242424242424242";
constexpr std::string_view kDeclined = "4000000000000002";
constexpr std::string_view kStepUp = "4000002500003155";

std::string RandomHex(size_t n) {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kHex[rng() % 16];
  return s;
}

std::string HexHmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

json::object Parse(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

std::string Str(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object Obj(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : json::object{};
}

json::array Arr(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_array() ? v->as_array() : json::array{};
}

int64_t Int(const json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : -1;
}

json::object Address(std::string name = "Ada Lovelace") {
  return json::object{{"name", std::move(name)},
                      {"line1", "1 Analytical Way"},
                      {"city", "London"},
                      {"postal_code", "N1 1AA"},
                      {"country", "GB"}};
}

json::object Card(std::string_view number) {
  return json::object{{"number", number}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}};
}

json::object CheckoutBody(std::string_view card, std::string name = "Ada Lovelace") {
  return json::object{{"shipping_address", Address(std::move(name))},
                      {"payment", json::object{{"card", Card(card)}}}};
}

struct Stock {
  int64_t on_hand = -1, reserved = -1;
  bool operator==(const Stock&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Stock& s) {
  return os << "{on_hand " << s.on_hand << ", reserved " << s.reserved << "}";
}

class CheckoutE2eTest : public ::testing::Test {
 protected:
  CheckoutE2eTest() {
    char tmpl[] = "/tmp/emporium-checkout.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    data_ = dir_ / "data";
    fs::create_directories(data_);
    fs::create_directories(dir_ / "child");
  }
  ~CheckoutE2eTest() override {
    child_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // `emporium up`: every module, each sandbox on a free port, carriers moving a parcel one
  // tracking step every 100 ms. Waits until /readyz is 200.
  void Up(std::vector<std::string> extra = {}) {
    port_ = FreePort();
    for (const char* p : {"intents", "acquirer", "wallet"}) paysim_[p] = FreePort();
    for (const char* c : {"rapidship", "cargoline"}) carriers_[c] = FreePort();
    const fs::path password_file = dir_ / "admin.password";
    std::ofstream(password_file) << kPassword << "\n";
    std::vector<std::string> args{"up",
                                  "--data-dir=" + data_.string(),
                                  "--http-port=" + std::to_string(port_),
                                  "--public-url=" + Base(),
                                  "--catalog-seed-demo=false",
                                  "--identity-password-ops=1",
                                  "--identity-password-mem-kib=8192",
                                  "--identity-bootstrap-admin-email=" + std::string(kAdminEmail),
                                  "--identity-bootstrap-admin-password-file=" + password_file.string(),
                                  "--gateway-rate-ip=100000",
                                  "--gateway-burst-ip=100000",
                                  "--gateway-rate-user=100000",
                                  "--gateway-burst-user=100000",
                                  "--paysim-intents-api-key=" + std::string(kIntentsKey),
                                  "--payment-intents-api-key=" + std::string(kIntentsKey),
                                  "--paysim-intents-webhook-secret=" + std::string(kIntentsSecret),
                                  "--payment-intents-webhook-secret=" + std::string(kIntentsSecret)};
    for (const auto& [p, port] : paysim_) {
      args.push_back("--paysim-" + p + "-port=" + std::to_string(port));
      args.push_back("--payment-" + p + "-url=" + Local(port));
    }
    for (const auto& [c, port] : carriers_) {
      args.push_back("--" + c + "-sandbox-port=" + std::to_string(port));
      args.push_back("--" + c + "-sandbox-step=100ms");
      args.push_back("--fulfillment-" + c + "-url=" + Local(port));
    }
    args.insert(args.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(EMPORIUM_BINARY, dir_ / "child");
    child_->Spawn(args);
    const auto give_up = std::chrono::steady_clock::now() + seconds(30);
    for (;;) {
      auto r = Send(Base(), Method::kGet, "/readyz");
      if (r.ok() && r->status == 200) break;
      ASSERT_TRUE(child_->running()) << "emporium exited before it was ready:\n" << child_->Output();
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "not ready within 30 s:\n" << child_->Output();
      std::this_thread::sleep_for(milliseconds(50));
    }
    admin_ = Login(std::string(kAdminEmail));
    ASSERT_FALSE(admin_.empty());
  }

  static std::string Local(uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }
  std::string Base() const { return Local(port_); }

  Result<http::Response> Send(const std::string& base, Method method, std::string target,
                              std::string body = {},
                              std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = method;
    req.target = std::move(target);
    req.body = std::move(body);
    for (auto& [k, v] : headers) req.headers.Set(k, std::move(v));
    return client_.Send(base, req, SystemClock::Get().Now() + milliseconds(15'000));
  }
  // A call to the server; a transport failure fails the test and answers status -1.
  http::Response Call(Method method, std::string target, const std::string& token = {},
                      std::optional<json::object> body = std::nullopt,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    std::string text;
    if (body) {
      text = json::serialize(*body);
      headers.emplace_back("Content-Type", "application/json");
    }
    auto r = Send(Base(), method, std::move(target), std::move(text), std::move(headers));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : http::Response{.status = -1};
  }

  std::string Login(const std::string& email) {
    auto r = Send(Base(), Method::kPost, "/oauth2/token",
                  http::FormEncode({{"grant_type", "password"},
                                    {"username", email},
                                    {"password", std::string(kPassword)},
                                    {"client_id", "storefront"}}),
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    return r.ok() ? Str(Parse(r->body), "access_token") : "";
  }

  // A new customer's access token (and user id).
  std::string Customer(std::string* user_id = nullptr) {
    const std::string email = "shopper." + RandomHex(10) + "@example.test";
    json::object body{{"email", email}, {"password", kPassword}, {"name", "Ada Lovelace"}};
    http::Response r = Call(Method::kPost, "/v1/users", {}, body);
    EXPECT_EQ(r.status, 201) << r.body;
    if (user_id) *user_id = Str(Parse(r.body), "id");
    return Login(email);
  }

  // A product priced `price` cents with `stock` units, created by the admin; returns its id.
  std::string Product(const std::string& title, int64_t price, int64_t stock) {
    if (category_.empty()) {
      http::Response r =
          Call(Method::kPost, "/v1/admin/categories", admin_, json::object{{"name", "Things"}});
      EXPECT_EQ(r.status, 201) << r.body;
      category_ = Str(Parse(r.body), "id");
    }
    json::object p{{"title", title},
                   {"brand", "Acme"},
                   {"category_id", category_},
                   {"price", json::object{{"amount", price}, {"currency", "USD"}}}};
    http::Response r = Call(Method::kPost, "/v1/admin/products", admin_, p);
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = Str(Parse(r.body), "id");
    json::array warehouses{json::object{{"warehouse_id", "wh-1"}, {"on_hand", stock}}};
    r = Call(Method::kPut, "/v1/admin/inventory/" + id, admin_, json::object{{"warehouses", warehouses}});
    EXPECT_EQ(r.status, 200) << r.body;
    return id;
  }

  Stock StockOf(const std::string& product_id) {
    http::Response r = Call(Method::kGet, "/v1/admin/inventory/" + product_id, admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    Stock s{0, 0};
    for (const auto& w : Arr(Parse(r.body), "warehouses")) {
      s.on_hand += Int(w.as_object(), "on_hand");
      s.reserved += Int(w.as_object(), "reserved");
    }
    return s;
  }

  void AddToCart(const std::string& token, const std::string& product_id, int quantity) {
    http::Response r = Call(Method::kPost, "/v1/cart/items", token,
                            json::object{{"product_id", product_id}, {"quantity", quantity}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // product id → quantity in the caller's cart.
  std::map<std::string, int64_t> Cart(const std::string& token) {
    http::Response r = Call(Method::kGet, "/v1/cart", token);
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, int64_t> lines;
    for (const auto& l : Arr(Parse(r.body), "items"))
      lines[Str(l.as_object(), "product_id")] = Int(l.as_object(), "quantity");
    return lines;
  }

  http::Response Checkout(const std::string& token, const json::object& body, const std::string& key) {
    return Call(Method::kPost, "/v1/orders", token, body, {{"Idempotency-Key", key}});
  }
  json::object Order(const std::string& token, const std::string& id) {
    http::Response r = Call(Method::kGet, "/v1/orders/" + id, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return Parse(r.body);
  }

  // Polls `probe` every 50 ms until it returns true or `bound` passes; true when it did.
  static bool Eventually(const std::function<bool()>& probe, milliseconds bound = milliseconds(20'000)) {
    const auto give_up = std::chrono::steady_clock::now() + bound;
    for (;;) {
      if (probe()) return true;
      if (std::chrono::steady_clock::now() >= give_up) return false;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  // The order once its status is `status` (the last one seen otherwise, which fails the caller's check).
  json::object WaitStatus(const std::string& token, const std::string& id, std::string_view status) {
    json::object o;
    Eventually([&] {
      o = Order(token, id);
      return Str(o, "status") == status;
    });
    return o;
  }

  static std::vector<std::string> HistoryStatuses(const json::object& order) {
    std::vector<std::string> out;
    for (const auto& h : Arr(order, "history")) out.push_back(Str(h.as_object(), "status"));
    return out;
  }
  // The order once its history holds `status` (it may have moved on since: parcels move fast).
  json::object WaitReached(const std::string& token, const std::string& id, std::string_view status) {
    json::object o;
    Eventually([&] {
      o = Order(token, id);
      const std::vector<std::string> history = HistoryStatuses(o);
      return std::find(history.begin(), history.end(), status) != history.end();
    });
    return o;
  }

  // The payment as support sees it.
  json::object Payment(const std::string& payment_id) {
    http::Response r = Call(Method::kGet, "/v1/admin/payments/" + payment_id, admin_);
    EXPECT_EQ(r.status, 200) << r.body;
    return Parse(r.body);
  }
  // The provider sandbox's own ledger entries for an order (their reference is the order id).
  std::vector<json::object> Ledger(const std::string& provider, const std::string& order_id) {
    auto r = Send(Local(paysim_.at(provider)), Method::kGet, "/admin/ledger");
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    std::vector<json::object> out;
    if (!r.ok()) return out;
    for (const auto& e : Arr(Parse(r->body), "items")) {
      if (Str(e.as_object(), "reference") == order_id) out.push_back(e.as_object());
    }
    return out;
  }

  fs::path dir_, data_;
  uint16_t port_ = 0;
  std::map<std::string, uint16_t> paysim_, carriers_;
  std::unique_ptr<Child> child_;
  http::HttpClient client_;
  std::string admin_, category_;
};

// a. Register → cart → pay → CONFIRMED → SHIPPED → DELIVERED with tracking and notifications;
// the cart is emptied; Idempotency-Key replays make one order, another body with it is 422.
TEST_F(CheckoutE2eTest, HappyPathFromCartToDeliveredParcel) {
  ASSERT_NO_FATAL_FAILURE(Up());
  std::string user_id;
  const std::string token = Customer(&user_id);
  const std::string lamp = Product("Desk Lamp", 2500, 5);
  AddToCart(token, lamp, 2);

  const std::string key = "checkout-" + RandomHex(8);
  http::Response first = Checkout(token, CheckoutBody(kApproved), key);
  ASSERT_TRUE(first.status == 201 || first.status == 202) << first.body;
  const std::string id = Str(Parse(first.body), "id");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(first.headers.Get("Location").value_or(""), "/v1/orders/" + id);

  http::Response replay = Checkout(token, CheckoutBody(kApproved), key);
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(Str(Parse(replay.body), "id"), id);
  http::Response other = Checkout(token, CheckoutBody(kApproved, "Someone Else"), key);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(other.headers.Get("Content-Type").value_or(""), "application/problem+json");
  http::Response mine = Call(Method::kGet, "/v1/orders", token);
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Arr(Parse(mine.body), "items").size(), 1u) << "one key, one order";

  json::object order = WaitStatus(token, id, "DELIVERED");
  ASSERT_EQ(Str(order, "status"), "DELIVERED") << json::serialize(order);
  EXPECT_EQ(HistoryStatuses(order),
            (std::vector<std::string>{"PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"}));
  // The goods plus the carrier's quote (by weight), charged in one payment.
  const json::object totals = Obj(order, "totals");
  EXPECT_EQ(Int(Obj(totals, "subtotal"), "amount"), 5000);
  EXPECT_GT(Int(Obj(totals, "shipping"), "amount"), 0);
  EXPECT_EQ(Int(Obj(totals, "total"), "amount"), 5000 + Int(Obj(totals, "shipping"), "amount"));
  EXPECT_EQ(Str(Obj(order, "payment"), "provider"), "intents");
  EXPECT_EQ(Str(Obj(order, "payment"), "status"), "captured");
  EXPECT_EQ(Str(Obj(order, "payment"), "last4"), "4242");
  EXPECT_EQ(StockOf(lamp), (Stock{3, 0})) << "two units shipped";

  http::Response tracking = Call(Method::kGet, "/v1/orders/" + id + "/tracking", token);
  ASSERT_EQ(tracking.status, 200) << tracking.body;
  json::object t = Parse(tracking.body);
  EXPECT_EQ(Str(t, "status"), "DELIVERED");
  EXPECT_FALSE(Str(t, "carrier").empty()) << tracking.body;
  EXPECT_EQ(Str(t, "tracking_number"), Str(Obj(order, "shipment"), "tracking_number"));
  std::vector<std::string> scans;
  for (const auto& e : Arr(t, "events")) scans.push_back(Str(e.as_object(), "status"));
  ASSERT_FALSE(scans.empty()) << tracking.body;
  EXPECT_EQ(scans.front(), "booked") << tracking.body;
  EXPECT_NE(std::find(scans.begin(), scans.end(), "in_transit"), scans.end()) << tracking.body;
  EXPECT_EQ(scans.back(), "delivered") << tracking.body;

  EXPECT_TRUE(Eventually([&] { return Cart(token).empty(); })) << "the purchased lines leave the cart";

  // The customer's notices: confirmed, shipped, delivered, each once, naming the customer.
  std::map<std::string, int> kinds;
  ASSERT_TRUE(Eventually([&] {
    kinds.clear();
    std::istringstream log(ReadFile(data_ / "notifications.log"));
    for (std::string line; std::getline(log, line);) {
      json::object n = Parse(line);
      if (Str(n, "order_id") != id) continue;
      EXPECT_EQ(Str(n, "user_id"), user_id) << line;
      ++kinds[Str(n, "kind")];
    }
    return kinds.size() == 3;
  })) << ReadFile(data_ / "notifications.log");
  EXPECT_EQ(kinds, (std::map<std::string, int>{
                       {"order_confirmed", 1}, {"order_delivered", 1}, {"order_shipped", 1}}));

  // The card number reached no file under the data dir and no log line.
  for (const auto& e : fs::recursive_directory_iterator(data_)) {
    if (!e.is_regular_file()) continue;
    EXPECT_EQ(ReadFile(e.path()).find(kApproved), std::string::npos) << e.path();
  }
  EXPECT_EQ(child_->Output().find(kApproved), std::string::npos);
}

// b. The first provider fails (its sandbox told so): the payment fails over to the second.
TEST_F(CheckoutE2eTest, FailingProviderFailsOverToTheNext) {
  ASSERT_NO_FATAL_FAILURE(Up());
  const std::string token = Customer();
  const std::string kettle = Product("Kettle", 3900, 3);
  AddToCart(token, kettle, 1);
  // Tokenized at every provider first, so the first one is skipped for failing, not for lacking a token.
  http::Response method =
      Call(Method::kPost, "/v1/payments/methods", token, json::object{{"card", Card(kApproved)}});
  ASSERT_EQ(method.status, 201) << method.body;
  EXPECT_NE(Str(Parse(method.body), "provider").find("intents"), std::string::npos) << method.body;

  auto control = Send(Local(paysim_.at("intents")), Method::kPost, "/control", R"({"fail_next":5})",
                      {{"Content-Type", "application/json"}});
  ASSERT_TRUE(control.ok() && control->status == 200)
      << (control.ok() ? control->body : control.status().ToString());

  json::object body{{"shipping_address", Address()},
                    {"payment", json::object{{"method_token", Str(Parse(method.body), "method_token")}}}};
  http::Response r = Checkout(token, body, "failover-" + RandomHex(8));
  ASSERT_TRUE(r.status == 201 || r.status == 202) << r.body;
  const std::string id = Str(Parse(r.body), "id");
  json::object order = WaitReached(token, id, "CONFIRMED");
  ASSERT_EQ(HistoryStatuses(order).size() >= 2 ? HistoryStatuses(order)[1] : "", "CONFIRMED")
      << json::serialize(order);
  const std::string payment_id = Str(Obj(order, "payment"), "payment_id");
  ASSERT_FALSE(payment_id.empty()) << json::serialize(order);
  json::object payment = Payment(payment_id);
  EXPECT_EQ(Str(payment, "provider"), "acquirer") << json::serialize(payment);
  EXPECT_EQ(Str(Obj(order, "payment"), "provider"), "acquirer") << "the order shows who took the money";
  EXPECT_EQ(Str(payment, "order_id"), id);
  const int64_t total = Int(Obj(Obj(order, "totals"), "total"), "amount");
  EXPECT_EQ(total, 3900 + Int(Obj(Obj(order, "totals"), "shipping"), "amount"));

  // The providers' own books agree: the money is held at the acquirer, nothing at intents.
  std::vector<json::object> acquirer = Ledger("acquirer", id);
  ASSERT_EQ(acquirer.size(), 1u);
  EXPECT_EQ(Int(acquirer[0], "amount"), total);
  for (const json::object& e : Ledger("intents", id)) {
    EXPECT_NE(Str(e, "status"), "authorized") << json::serialize(e);
    EXPECT_NE(Str(e, "status"), "captured") << json::serialize(e);
  }
}

// c. A declined card: REJECTED payment_declined, the stock back where it was, the cart kept.
TEST_F(CheckoutE2eTest, DeclinedCardRejectsAndPutsTheStockBack) {
  ASSERT_NO_FATAL_FAILURE(Up());
  const std::string token = Customer();
  const std::string tent = Product("Tent", 12900, 4);
  AddToCart(token, tent, 3);
  ASSERT_EQ(StockOf(tent), (Stock{4, 0}));

  http::Response r = Checkout(token, CheckoutBody(kDeclined), "declined-" + RandomHex(8));
  ASSERT_TRUE(r.status == 201 || r.status == 202) << r.body;
  const std::string id = Str(Parse(r.body), "id");
  json::object order = WaitStatus(token, id, "REJECTED");
  ASSERT_EQ(Str(order, "status"), "REJECTED") << json::serialize(order);
  EXPECT_EQ(Str(order, "reason"), "payment_declined");
  EXPECT_EQ(Str(order, "reason_detail"), "card_declined");
  EXPECT_EQ(Str(Obj(order, "payment"), "status"), "declined");
  EXPECT_EQ(StockOf(tent), (Stock{4, 0})) << "the reservation was released";
  EXPECT_EQ(Cart(token), (std::map<std::string, int64_t>{{tent, 3}}))
      << "a rejected order leaves the cart alone";
}

// d. A card that needs a step-up: the order waits with next_action; the customer completes the
// challenge at the provider (as the browser would); the provider's webhook confirms it.
TEST_F(CheckoutE2eTest, StepUpWaitsThenConfirmsAfterTheChallenge) {
  ASSERT_NO_FATAL_FAILURE(Up());
  const std::string token = Customer();
  const std::string sofa = Product("Sofa", 49900, 1);
  AddToCart(token, sofa, 1);

  http::Response r = Checkout(token, CheckoutBody(kStepUp), "stepup-" + RandomHex(8));
  ASSERT_EQ(r.status, 202) << r.body;
  json::object order = Parse(r.body);
  const std::string id = Str(order, "id");
  EXPECT_EQ(Str(order, "status"), "PENDING");
  const json::object next_action = Obj(Obj(order, "payment"), "next_action");
  EXPECT_EQ(Str(next_action, "type"), "redirect") << r.body;
  const std::string url = Str(next_action, "url");
  const std::string origin = Local(paysim_.at("intents"));
  ASSERT_TRUE(url.starts_with(origin + "/")) << url;
  EXPECT_EQ(Str(Order(token, id), "status"), "PENDING");
  EXPECT_EQ(Cart(token).size(), 1u) << "the cart is kept while the payment waits";

  auto challenge = Send(origin, Method::kGet, url.substr(origin.size()));
  ASSERT_TRUE(challenge.ok()) << challenge.status().ToString();
  EXPECT_TRUE(challenge->status == 200 || challenge->status == 302) << challenge->status << challenge->body;

  order = WaitReached(token, id, "CONFIRMED");
  const std::vector<std::string> history = HistoryStatuses(order);
  ASSERT_GE(history.size(), 2u) << json::serialize(order);
  EXPECT_EQ(history[0], "PENDING");
  EXPECT_EQ(history[1], "CONFIRMED");
  EXPECT_TRUE(Obj(order, "payment").at("next_action").is_null()) << json::serialize(order);
  EXPECT_TRUE(Eventually([&] { return Cart(token).empty(); }));
  EXPECT_EQ(Str(Payment(Str(Obj(order, "payment"), "payment_id")), "provider"), "intents");
}

// e. Webhooks: a bad signature is 401 and changes nothing; a replayed valid one is a duplicate
// with no second effect. The intents sandbox sends none here, so the step-up's completion reaches
// payment only through the webhooks this test posts, signed as the provider signs them.
TEST_F(CheckoutE2eTest, WebhookSignaturesAreCheckedAndReplaysHaveNoEffect) {
  ASSERT_NO_FATAL_FAILURE(Up({"--paysim-intents-webhook-url=off"}));
  const std::string token = Customer();
  const std::string chair = Product("Chair", 8900, 2);
  AddToCart(token, chair, 1);

  // A carrier webhook without a valid signature (the payment one comes below).
  http::Response forged = Call(Method::kPost, "/v1/webhooks/carriers/rapidship", {},
                               json::object{{"id", "evt_x"}}, {{"Rapidship-Signature", "t=1,v1=00"}});
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(forged.headers.Get("Content-Type").value_or(""), "application/problem+json");

  http::Response r = Checkout(token, CheckoutBody(kStepUp), "webhook-" + RandomHex(8));
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = Str(Parse(r.body), "id");
  const std::string url = Str(Obj(Obj(Parse(r.body), "payment"), "next_action"), "url");
  const std::string origin = Local(paysim_.at("intents"));
  ASSERT_TRUE(url.starts_with(origin + "/")) << url;
  auto challenge = Send(origin, Method::kGet, url.substr(origin.size()));
  ASSERT_TRUE(challenge.ok()) << challenge.status().ToString();

  // The intent as the provider now holds it (authorized, waiting for capture).
  std::vector<json::object> ledger = Ledger("intents", id);
  ASSERT_EQ(ledger.size(), 1u);
  auto intent = Send(origin, Method::kGet, "/v1/payment_intents/" + Str(ledger[0], "id"), {},
                     {{"Authorization", "Bearer " + std::string(kIntentsKey)}});
  ASSERT_TRUE(intent.ok() && intent->status == 200)
      << (intent.ok() ? intent->body : intent.status().ToString());
  EXPECT_EQ(Str(Parse(intent->body), "status"), "requires_capture") << intent->body;

  const int64_t now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string event =
      json::serialize(json::object{{"id", "evt_e2e_" + RandomHex(12)},
                                   {"object", "event"},
                                   {"type", "payment_intent.amount_capturable_updated"},
                                   {"created", now},
                                   {"data", json::object{{"object", Parse(intent->body)}}}});
  const std::string t = std::to_string(now);
  auto post = [&](const std::string& secret) {
    auto res = Send(Base(), Method::kPost, "/v1/webhooks/payments/intents", event,
                    {{"Content-Type", "application/json"},
                     {"Signature", "t=" + t + ",v1=" + HexHmacSha256(secret, t + "." + event)}});
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::move(res).value() : http::Response{.status = -1};
  };

  http::Response bad = post("not-the-secret");
  EXPECT_EQ(bad.status, 401) << bad.body;
  EXPECT_EQ(bad.headers.Get("Content-Type").value_or(""), "application/problem+json");
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(Str(Order(token, id), "status"), "PENDING") << "a forged webhook changed the order";

  http::Response good = post(std::string(kIntentsSecret));
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(Parse(good.body).at("duplicate"), json::value(false)) << good.body;
  json::object order = WaitReached(token, id, "CONFIRMED");
  ASSERT_EQ(HistoryStatuses(order).size() >= 2 ? HistoryStatuses(order)[1] : "", "CONFIRMED")
      << json::serialize(order);
  const std::string payment_id = Str(Obj(order, "payment"), "payment_id");
  ASSERT_TRUE(Eventually([&] { return Str(Payment(payment_id), "status") == "captured"; }));

  http::Response again = post(std::string(kIntentsSecret));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Parse(again.body).at("duplicate"), json::value(true)) << again.body;
  std::this_thread::sleep_for(milliseconds(500));
  order = Order(token, id);
  const std::vector<std::string> history = HistoryStatuses(order);
  EXPECT_EQ(std::count(history.begin(), history.end(), "CONFIRMED"), 1) << json::serialize(order);
  json::object payment = Payment(payment_id);
  EXPECT_EQ(Str(payment, "status"), "captured");
  const int64_t total = Int(Obj(Obj(order, "totals"), "total"), "amount");
  EXPECT_EQ(total, 8900 + Int(Obj(Obj(order, "totals"), "shipping"), "amount"));
  EXPECT_EQ(Int(payment, "captured_amount"), total);
  ledger = Ledger("intents", id);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(Int(ledger[0], "captured"), total) << "captured once";
}

}  // namespace
}  // namespace emporium::e2e
