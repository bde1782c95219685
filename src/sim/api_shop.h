// The Shop of a live Emporium, through its public API only (and, for chargebacks, the payment
// sandboxes' control API, as a card issuer would act): register, sign in (with the guest token,
// so the guest's cart and events follow), search, browse, view, cart, wishlist, addresses,
// checkout with test cards, cancel, behaviour events in batches. Every call goes through the
// LoadGen, so it is paced (open loop) and measured.
//
// Each device of a shopper is a client of its own: its own tokens, its X-Forwarded-For address
// and X-Client-Country (as a CDN in front of the shop would send them; the shop trusts them from
// loopback), its User-Agent.
// Thread-safe: sessions run on the LoadGen's workers.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/http/client.h"
#include "sim/loadgen.h"
#include "sim/shop.h"

namespace emporium::sim {

struct ApiShopOptions {
  std::string base_url;
  // Payment provider name → its sandbox's base URL (for disputes).
  std::map<std::string, std::string> sandboxes;
  Millis chargeback_delay{60'000};
  // Paced: a session's simulated time maps onto the wall clock from `t0` on; unpaced (history):
  // calls go at once, and event times stay in the simulated past.
  bool paced = true;
  int64_t t0_wall_ms = 0;
  SteadyTime t0_steady{};
  uint64_t seed = 42;
  // Fetch a product page for every view (load tests); a history replay only records the view.
  bool fetch_product_pages = true;
  // Unpaced runs: the least time between two calls of one session.
  Millis min_gap{20};
};

struct ShopCounts {
  std::map<std::string, int64_t> orders;  // by status after checkout
  int64_t sessions_started = 0;
  int64_t sessions_finished = 0;
  int64_t events_sent = 0;
  int64_t chargebacks_filed = 0;
  int64_t chargebacks_skipped = 0;  // the fraud was stopped before capture (review, decline)
};

class ApiShop final : public Shop {
 public:
  ApiShop(const World& world, LoadGen& gen, ApiShopOptions options);
  ~ApiShop() override;

  void BeginSession(Ctx& c) override;
  Op<bool> StartGuest(Ctx& c) override;
  Op<bool> Register(Ctx& c) override;
  Op<bool> SignIn(Ctx& c) override;
  Op<SearchResult> Search(Ctx& c, const std::string& query) override;
  Op<std::vector<int>> Browse(Ctx& c, int leaf) override;
  Op<RecommendationList> Recommendations(Ctx& c, std::string_view placement, int product) override;
  Op<bool> ViewProduct(Ctx& c, int product) override;
  Op<bool> AddToCart(Ctx& c, int product, int quantity) override;
  Op<bool> RemoveFromCart(Ctx& c, int product) override;
  Op<bool> AddToWishlist(Ctx& c, int product) override;
  Op<bool> AddAddress(Ctx& c, const Address& address) override;
  Op<OrderResult> Checkout(Ctx& c, const Card& card, const Address& ship_to, FraudKind fraud) override;
  Op<bool> Cancel(Ctx& c, const std::string& order_id) override;
  void Emit(Ctx& c, boost::json::object event) override;
  Op<bool> Flush(Ctx& c) override;

  // Session bookkeeping by the engine.
  void SessionStarted();
  void SessionFinished();
  ShopCounts counts() const;
  // Shopper key → the shop's user id, for those registered or signed in.
  std::map<std::string, std::string> user_ids() const;
  // Order id → fraud kind of every fraudulent order placed.
  std::map<std::string, FraudKind> fraud_orders() const;

 private:
  struct Token {
    std::string access, refresh;
    int64_t expires_ms = 0;
  };
  struct Reply {
    int status = 0;
    boost::json::object body;
  };

  SteadyTime Planned(Ctx& c) const;
  http::Request Base(const Ctx& c, http::Method method, std::string target, std::string body = "",
                     std::string_view type = "application/json") const;
  std::string Bearer(const Ctx& c) const;
  // One measured call; `make` builds the request when it is sent. Callers bind the Op to a
  // variable and then co_await it: GCC 12 mishandles temporaries with destructors (the lambda,
  // the endpoint string) inside a co_await expression and frees them twice.
  Op<Reply> Call(Ctx& c, std::string endpoint, std::function<http::Request()> make);
  CallOutcome Send(const http::Request& req, const std::string& base) const;

  Session RegisterFlow(Ctx& c, bool* ok);
  Session SignInFlow(Ctx& c, bool* ok);
  Session CheckoutFlow(Ctx& c, Card card, Address ship_to, FraudKind fraud, OrderResult* out);
  Session FlushFlow(Ctx& c, bool* ok);
  Session StartGuestFlow(Ctx& c, bool* ok);
  Session SearchFlow(Ctx& c, std::string query, std::string search_id, SearchResult* out);
  Session BrowseFlow(Ctx& c, std::string category, std::string last, std::vector<int>* out);
  Session RecommendationsFlow(Ctx& c, std::string target, RecommendationList* out);
  Session ViewFlow(Ctx& c, std::string id, bool* ok);
  Session AddToCartFlow(Ctx& c, std::string id, int product, int quantity, bool* ok);
  Session RemoveFlow(Ctx& c, std::string id, int product, bool* ok);
  Session WishlistFlow(Ctx& c, std::string id, bool* ok);
  Session AddressFlow(Ctx& c, Address a, bool* ok);
  Session CancelFlow(Ctx& c, std::string order_id, bool* ok);
  void FileChargeback(const std::string& order_id, const std::string& provider, const std::string& reason);
  std::vector<int> Indexes(const boost::json::object& body, std::string_view id_field) const;

  const World& world_;
  LoadGen& gen_;
  ApiShopOptions options_;
  std::unique_ptr<http::HttpClient> client_;
  mutable std::mutex mu_;
  std::map<std::string, Token> tokens_;        // "<account>|<device>" → user token
  std::map<std::string, std::string> guests_;  // device → guest access token
  std::map<std::string, std::string> user_ids_;
  std::map<std::string, FraudKind> fraud_orders_;
  ShopCounts counts_;
  std::atomic<int64_t> recommendations_retry_ms_{0};  // 0: available; else when to ask again
};

}  // namespace emporium::sim
