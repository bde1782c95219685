// The behaviour of one session, for shoppers and for each kind of fraudster. Straight-line code
// over Shop operations; the probabilities below are the generative model's knobs
// (docs/simulator.md lists them).
#include <algorithm>
#include <cmath>

#include "sim/shop.h"
#include "sim/truth.h"

namespace emporium::sim {
namespace {

using boost::json::array;
using boost::json::object;

double Sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

const std::string& Id(const Ctx& c, int product) {
  return c.world->catalog().products[static_cast<size_t>(product)].id;
}

// A product of `leaf` the shopper would go for: a softmax over their want of a sample.
int ChooseIn(Ctx& c, int leaf) {
  const auto& members = c.world->catalog().by_leaf[static_cast<size_t>(leaf)];
  if (members.empty()) return -1;
  std::vector<int> sample;
  std::vector<double> weights;
  const size_t n = std::min<size_t>(40, members.size());
  for (size_t i = 0; i < n; ++i) {
    int p = members[c.rng.Below(members.size())];
    sample.push_back(p);
    weights.push_back(std::exp(2.0 * c.Want(static_cast<size_t>(p))));
  }
  return sample[c.rng.Pick(weights)];
}

int ChooseLeaf(Ctx& c) {
  const auto& a = c.user->taste.leaf_affinity;
  std::vector<double> w(a.begin(), a.end());
  for (double& x : w) x += 0.02 / static_cast<double>(w.size());  // now and then something new
  return static_cast<int>(c.rng.Pick(w));
}

// The most expensive products of a few pricey categories (what fraudsters resell).
int ExpensiveProduct(Ctx& c) {
  const SimCatalog& cat = c.world->catalog();
  int best = -1;
  for (int tries = 0; tries < 60; ++tries) {
    int p = static_cast<int>(c.rng.Below(cat.products.size()));
    if (cat.products[static_cast<size_t>(p)].available <= 0) continue;
    if (best < 0 ||
        cat.products[static_cast<size_t>(p)].price > cat.products[static_cast<size_t>(best)].price)
      best = p;
  }
  return best;
}

int CheapProduct(Ctx& c) {
  const SimCatalog& cat = c.world->catalog();
  int best = -1;
  for (int tries = 0; tries < 60; ++tries) {
    int p = static_cast<int>(c.rng.Below(cat.products.size()));
    if (cat.products[static_cast<size_t>(p)].available <= 0) continue;
    if (best < 0 ||
        cat.products[static_cast<size_t>(p)].price < cat.products[static_cast<size_t>(best)].price)
      best = p;
  }
  return best;
}

array Positions(const Ctx& c, const std::vector<int>& products) {
  array out;
  for (size_t i = 0; i < products.size(); ++i)
    out.push_back(object{{"product_id", Id(c, products[i])}, {"position", static_cast<int64_t>(i + 1)}});
  return out;
}

bool CartEmpty(Ctx& c) {
  std::lock_guard lock(c.state->mu);
  return c.state->CartOn(c.device->id).empty();
}

// Views a product and maybe puts it in the cart or the wishlist (*added: put in the cart).
Session ConsiderProduct(Ctx& c, Shop& shop, int product, bool* added) {
  *added = false;
  if (!co_await shop.ViewProduct(c, product)) co_return;
  shop.Emit(c, object{{"type", "product_view"}, {"product_id", Id(c, product)}});
  c.Think(c.rng.LogNormal(20, 0.7));
  const double want = c.Want(static_cast<size_t>(product));
  const auto& p = c.world->catalog().products[static_cast<size_t>(product)];
  if (p.available > 0 && c.rng.Chance(0.9 * Sigmoid(2.0 * (want - 1.4)))) {
    const int leaf = c.world->catalog().leaf_of[static_cast<size_t>(product)];
    const int qty = c.world->Consumable(leaf) ? c.rng.Int(1, 3) : 1;
    if (co_await shop.AddToCart(c, product, qty)) {
      shop.Emit(c, object{{"type", "add_to_cart"}, {"product_id", p.id}, {"quantity", qty}});
      *added = true;
    }
  } else if (want > 0.8 && c.rng.Chance(0.06)) {
    if (co_await shop.AddToWishlist(c, product))
      shop.Emit(c, object{{"type", "wishlist_add"}, {"product_id", p.id}});
  }
}

// Clicks down a list with position bias: position i is looked at with probability (1/i)^0.9
// and clicked when it appeals (more the more it is wanted); at most three clicks.
std::vector<size_t> Clicks(Ctx& c, const std::vector<int>& shown) {
  std::vector<size_t> out;
  for (size_t i = 0; i < shown.size() && i < 10 && out.size() < 3; ++i) {
    if (!c.rng.Chance(ExaminationProbability(i + 1))) continue;
    if (c.rng.Chance(ClickAppeal(c.Want(static_cast<size_t>(shown[i]))))) out.push_back(i);
  }
  return out;
}

// ConsiderProduct as an operation a session awaits.
Op<bool> Consider(Ctx& c, Shop& shop, int product) {
  return FlowOp<bool>([&c, &shop, product](bool* added) { return ConsiderProduct(c, shop, product, added); });
}

}  // namespace

Session ShopperSession(Ctx& c, Shop& shop) {
  shop.BeginSession(c);
  UserState& st = *c.state;
  bool registered, here;
  {
    std::lock_guard lock(st.mu);
    registered = st.registered;
    here = st.signed_in.count(c.device->id) > 0;
    ++st.sessions;
  }
  if (!here) {
    if (registered && c.rng.Chance(0.7)) {
      co_await shop.SignIn(c);
    } else {
      co_await shop.StartGuest(c);
    }
  }
  shop.Emit(c, object{{"type", "page_view"}, {"page", "/"}});

  int focus = ChooseLeaf(c);
  int target = -1;
  {
    std::lock_guard lock(st.mu);
    for (const auto& [product, due] : st.repurchase) {
      if (due <= c.now_ms) {
        target = product;
        break;
      }
    }
    if (target >= 0) st.repurchase.erase(target);
  }
  if (target >= 0) focus = c.world->catalog().leaf_of[static_cast<size_t>(target)];

  if (c.rng.Chance(0.5)) {
    RecommendationList recs = co_await shop.Recommendations(c, "home", -1);
    if (recs.available && !recs.products.empty()) {
      shop.Emit(c, object{{"type", "recommendation_view"},
                          {"recommendation_id", recs.recommendation_id},
                          {"placement", "home"},
                          {"model_version", recs.model_version},
                          {"items", Positions(c, recs.products)}});
      for (size_t i : Clicks(c, recs.products)) {
        shop.Emit(c, object{{"type", "recommendation_click"},
                            {"recommendation_id", recs.recommendation_id},
                            {"placement", "home"},
                            {"model_version", recs.model_version},
                            {"product_id", Id(c, recs.products[i])},
                            {"position", static_cast<int64_t>(i + 1)}});
        co_await Consider(c, shop, recs.products[i]);
      }
    }
  }

  const int steps = 1 + std::min(12, c.rng.Poisson(3.0));
  for (int step = 0; step < steps; ++step) {
    c.Think(c.rng.LogNormal(12, 0.8));
    int want_product = target >= 0 && step == 0 ? target : ChooseIn(c, focus);
    if (want_product < 0) break;
    const double r = c.rng.Uniform();
    if (target >= 0 && step == 0) {
      // Buying again: straight to the product (order history, or a reminder email).
      co_await Consider(c, shop, want_product);
    } else if (r < 0.5) {
      QueryKind kind;
      std::string q = c.world->Query(static_cast<size_t>(want_product), c.rng, &kind);
      SearchResult res = co_await shop.Search(c, q);
      std::vector<int> top(res.products.begin(),
                           res.products.begin() + std::min<size_t>(20, res.products.size()));
      shop.Emit(c, object{{"type", "search"},
                          {"search_id", res.search_id},
                          {"query", q},
                          {"results", Positions(c, top)}});
      for (size_t i : Clicks(c, top)) {
        shop.Emit(c, object{{"type", "search_click"},
                            {"search_id", res.search_id},
                            {"product_id", Id(c, top[i])},
                            {"position", static_cast<int64_t>(i + 1)}});
        co_await Consider(c, shop, top[i]);
        c.Think(c.rng.LogNormal(8, 0.6));
      }
    } else if (r < 0.8) {
      std::vector<int> shown = co_await shop.Browse(c, focus);
      if (shown.size() > 20) shown.resize(20);
      shop.Emit(c, object{{"type", "page_view"},
                          {"page", "/c/" + c.world->catalog().leaves[static_cast<size_t>(focus)]}});
      for (size_t i : Clicks(c, shown)) co_await Consider(c, shop, shown[i]);
    } else if (r < 0.9 || CartEmpty(c)) {
      shop.Emit(c, object{{"type", "page_view"},
                          {"page", "/p/" + Id(c, want_product)},
                          {"referrer", "https://mail.example.com/"}});
      co_await Consider(c, shop, want_product);
    } else {
      // Something that goes with what is in the cart.
      int in_cart;
      {
        std::lock_guard lock(st.mu);
        const auto& lines = st.CartOn(c.device->id);
        in_cart = lines.empty() ? -1 : lines[c.rng.Below(lines.size())].product;
      }
      if (in_cart >= 0) {
        const auto& comp = c.world->Complements(c.world->catalog().leaf_of[static_cast<size_t>(in_cart)]);
        if (!comp.empty()) {
          int other = ChooseIn(c, comp[c.rng.Below(comp.size())]);
          if (other >= 0) co_await Consider(c, shop, other);
        }
      }
    }
    if (c.rng.Chance(0.12)) focus = ChooseLeaf(c);
  }

  std::vector<CartLine> cart;
  {
    std::lock_guard lock(st.mu);
    cart = st.CartOn(c.device->id);
  }
  if (cart.size() >= 2 && c.rng.Chance(0.1)) {
    const CartLine drop = cart[c.rng.Below(cart.size())];
    if (co_await shop.RemoveFromCart(c, drop.product))
      shop.Emit(c, object{{"type", "remove_from_cart"}, {"product_id", Id(c, drop.product)}});
    std::lock_guard lock(st.mu);
    cart = st.CartOn(c.device->id);
  }
  if (!cart.empty() && c.rng.Chance(0.5)) {
    bool can_buy = true;
    {
      std::lock_guard lock(st.mu);
      registered = st.registered;
      here = st.signed_in.count(c.device->id) > 0;
    }
    if (!registered && !c.user->registers) {
      can_buy = false;
    } else if (!registered) {
      can_buy = co_await shop.Register(c);
    } else if (!here) {
      can_buy = co_await shop.SignIn(c);
    }
    if (can_buy) {
      c.Think(c.rng.LogNormal(40, 0.5));
      OrderResult order = co_await shop.Checkout(c, c.user->cards.front(), c.user->address, FraudKind::kNone);
      if (order.accepted && order.status == "REJECTED" && c.user->cards.size() > 1) {
        c.Think(c.rng.LogNormal(30, 0.5));
        order = co_await shop.Checkout(c, c.user->cards[1], c.user->address, FraudKind::kNone);
      }
      if (order.accepted && order.status != "REJECTED") {
        {
          std::lock_guard lock(st.mu);
          for (const CartLine& l : cart) {
            if (c.world->Consumable(c.world->catalog().leaf_of[static_cast<size_t>(l.product)]))
              st.repurchase[l.product] =
                  c.now_ms + static_cast<int64_t>(c.rng.Uniform(12, 35) * 86'400'000.0);
          }
        }
        // An order held for a review (or still processing) shows a cancel button and some take it;
        // now and then a shopper changes their mind at once (often too late: it has shipped).
        const bool waiting = order.status == "REVIEW" || order.status == "PENDING";
        if (c.rng.Chance(waiting ? 0.3 : 0.02)) {
          c.Think(waiting ? c.rng.Uniform(5, 120) : c.rng.Uniform(0.5, 3));
          co_await shop.Cancel(c, order.order_id);
        }
      }
    }
  }
  co_await shop.Flush(c);
}

Session FraudSession(Ctx& c, Shop& shop) {
  shop.BeginSession(c);
  const SimUser& f = *c.user;
  switch (f.fraud) {
    case FraudKind::kCardTesting: {
      // A script: a fresh account, one cheap item, card after card within minutes.
      if (!co_await shop.Register(c)) break;
      const int item = CheapProduct(c);
      if (item < 0) break;
      const int attempts = c.rng.Int(8, 30);
      static constexpr std::string_view kDeclines[] = {"4000000000000002", "4000000000009995",
                                                       "4000000000000069", "4000000000000127"};
      bool in_cart = false;
      for (int a = 0; a < attempts; ++a) {
        if (!in_cart) in_cart = co_await shop.AddToCart(c, item, 1);
        if (!in_cart) break;
        Card card = f.cards[static_cast<size_t>(a) % f.cards.size()];
        if (c.rng.Chance(0.45)) card.number = std::string(kDeclines[c.rng.Below(std::size(kDeclines))]);
        OrderResult r = co_await shop.Checkout(c, card, f.address, f.fraud);
        if (r.accepted && r.status != "REJECTED") in_cart = false;
        if (r.accepted && r.reason == "fraud_declined") break;
        c.Think(c.rng.Uniform(2, 25));
      }
      break;
    }
    case FraudKind::kStolenCard:
    case FraudKind::kFreshAccount: {
      if (!co_await shop.Register(c)) break;
      c.Think(f.fraud == FraudKind::kFreshAccount ? c.rng.Uniform(60, 600) : c.rng.Uniform(30, 3600));
      const int items = c.rng.Int(1, 2);
      int added = 0;
      for (int i = 0; i < items; ++i) {
        const int p = ExpensiveProduct(c);
        if (p < 0 || !co_await shop.ViewProduct(c, p)) continue;
        shop.Emit(c, object{{"type", "product_view"}, {"product_id", Id(c, p)}});
        c.Think(c.rng.Uniform(5, 40));
        if (co_await shop.AddToCart(c, p, 1)) {
          shop.Emit(c, object{{"type", "add_to_cart"}, {"product_id", Id(c, p)}, {"quantity", 1}});
          ++added;
        }
      }
      if (added > 0) co_await shop.Checkout(c, f.cards[c.rng.Below(f.cards.size())], f.address, f.fraud);
      break;
    }
    case FraudKind::kAccountTakeover: {
      // The victim's password (phished) from a new device and country; a new address; a big order
      // on the victim's saved card. Only accounts that exist can be phished.
      bool exists;
      {
        std::lock_guard lock(c.state->mu);
        exists = c.state->registered;
      }
      if (!exists || !co_await shop.SignIn(c)) break;
      c.Think(c.rng.Uniform(20, 300));
      if (!co_await shop.AddAddress(c, f.address)) break;
      c.Think(c.rng.Uniform(10, 120));
      const int p = ExpensiveProduct(c);
      if (p < 0 || !co_await shop.AddToCart(c, p, 1)) break;
      const SimUser& victim = c.population->shoppers()[static_cast<size_t>(f.victim)];
      co_await shop.Checkout(c, victim.cards.front(), f.address, f.fraud);
      break;
    }
    case FraudKind::kMultiAccountDevice: {
      if (!co_await shop.Register(c)) break;
      const int orders = c.rng.Int(1, 2);
      for (int o = 0; o < orders; ++o) {
        c.Think(c.rng.Uniform(60, 1800));
        const int p = ChooseIn(c, ChooseLeaf(c));
        if (p < 0 || !co_await shop.AddToCart(c, p, 1)) continue;
        co_await shop.Checkout(c, f.cards.front(), f.address, f.fraud);
      }
      break;
    }
    case FraudKind::kNone: break;
  }
  co_await shop.Flush(c);
}

}  // namespace emporium::sim
