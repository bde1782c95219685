// What a simulated session does to a shop, as operations it awaits (task.h), and the state it
// carries. Two shops implement it: OfflineShop (offline.cc) records what would happen into the
// history file; ApiShop (online.cc) does it through a live Emporium's public API.
//
// A Ctx is one session's view: who (shopper or fraudster, which device), when (now_ms: simulated
// wall time; the online engine turns it into the planned send time of the next request), its own
// random stream, and the shopper's state shared by all of that shopper's sessions (UserState,
// locked by its mutex: sessions of one shopper on two devices may run at once online).
#pragma once

#include <algorithm>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "sim/population.h"
#include "sim/task.h"

namespace emporium::sim {

struct CartLine {
  int product = 0;
  int quantity = 0;
};

struct PlacedOrder {
  std::string order_id;
  int64_t at_ms = 0;
  int64_t total = 0;
  FraudKind fraud = FraudKind::kNone;
};

// One shopper's state across sessions.
struct UserState {
  std::mutex mu;
  bool registered = false;
  int64_t registered_ms = 0;
  std::string user_id;              // the shop's id once registered (offline: the key)
  std::set<std::string> signed_in;  // device ids with a signed-in session
  std::vector<CartLine> cart;       // what the shopper believes is in the account's cart
  std::map<std::string, std::vector<CartLine>> guest_carts;  // device → its guest cart
  std::vector<PlacedOrder> orders;
  std::map<int, int64_t> repurchase;  // consumable product → when it runs out (Unix ms)
  int sessions = 0;

  // The cart a session on `device` sees: the account's when signed in there, else the device's
  // guest cart. Call with mu held.
  std::vector<CartLine>& CartOn(const std::string& device) {
    return signed_in.count(device) ? cart : guest_carts[device];
  }
  // Signing in on `device` merges its guest cart into the account's (as the shop does with
  // guest_token). Call with mu held, after adding the device to signed_in.
  void MergeGuestCart(const std::string& device) {
    auto it = guest_carts.find(device);
    if (it == guest_carts.end()) return;
    for (const CartLine& g : it->second) {
      auto line =
          std::find_if(cart.begin(), cart.end(), [&](const CartLine& l) { return l.product == g.product; });
      if (line == cart.end()) {
        cart.push_back(g);
      } else {
        line->quantity += g.quantity;
      }
    }
    guest_carts.erase(it);
  }
};

struct Ctx {
  const World* world = nullptr;
  const Population* population = nullptr;
  const SimUser* user = nullptr;     // who acts (their device, cards, address, tastes)
  const SimUser* account = nullptr;  // whose account: the user, or an account taken over
  UserState* state = nullptr;        // the account's state
  const Device* device = nullptr;
  std::string session_id;
  int64_t now_ms = 0;
  int64_t period_start_ms = 0;
  int64_t period_end_ms = 0;
  Rng rng{0};
  int events = 0;          // behaviour events emitted, for client event ids
  int calls = 0;           // numbered operations (searches, orders), for client-side ids and keys
  SteadyTime next_call{};  // unpaced runs: a session's calls are at least a human's gap apart
  std::vector<boost::json::object> queued;  // behaviour events not sent yet (online)

  double PeriodPos() const {
    const double span = static_cast<double>(std::max<int64_t>(1, period_end_ms - period_start_ms));
    return std::clamp(static_cast<double>(now_ms - period_start_ms) / span, 0.0, 1.0);
  }
  void Think(double seconds) { now_ms += static_cast<int64_t>(seconds * 1000.0); }
  double Want(size_t product) const { return population->Want(*world, *user, product, PeriodPos()); }
};

struct SearchResult {
  std::string search_id;
  std::vector<int> products;  // catalog indexes in rank order (unknown ids dropped)
};

struct RecommendationList {
  bool available = false;  // false: the shop has no recommendations (yet)
  std::string recommendation_id;
  std::string model_version;
  std::vector<int> products;
};

struct OrderResult {
  bool accepted = false;  // the shop took the order (any status)
  std::string order_id;
  std::string status;  // CONFIRMED, REJECTED, REVIEW, PENDING...
  std::string reason;
};

class Shop {
 public:
  virtual ~Shop() = default;
  // Called as a session starts (online: forgets sign-ins whose tokens are about to expire).
  virtual void BeginSession(Ctx& c) { (void)c; }
  virtual Op<bool> StartGuest(Ctx& c) = 0;
  virtual Op<bool> Register(Ctx& c) = 0;
  // Signs in on the session's device; a guest cart on this device merges into the account.
  virtual Op<bool> SignIn(Ctx& c) = 0;
  virtual Op<SearchResult> Search(Ctx& c, const std::string& query) = 0;
  virtual Op<std::vector<int>> Browse(Ctx& c, int leaf) = 0;
  virtual Op<RecommendationList> Recommendations(Ctx& c, std::string_view placement, int product) = 0;
  virtual Op<bool> ViewProduct(Ctx& c, int product) = 0;
  virtual Op<bool> AddToCart(Ctx& c, int product, int quantity) = 0;
  virtual Op<bool> RemoveFromCart(Ctx& c, int product) = 0;
  virtual Op<bool> AddToWishlist(Ctx& c, int product) = 0;
  virtual Op<bool> AddAddress(Ctx& c, const Address& address) = 0;
  virtual Op<OrderResult> Checkout(Ctx& c, const Card& card, const Address& ship_to, FraudKind fraud) = 0;
  virtual Op<bool> Cancel(Ctx& c, const std::string& order_id) = 0;
  // Queues a behaviour event (POST /v1/events schema, without id/time/session/device: Emit adds
  // them); Flush sends the queue.
  virtual void Emit(Ctx& c, boost::json::object event) = 0;
  virtual Op<bool> Flush(Ctx& c) = 0;
};

// The sessions (session.cc).
Session ShopperSession(Ctx& c, Shop& shop);
Session FraudSession(Ctx& c, Shop& shop);

}  // namespace emporium::sim
