#include "sim/api_shop.h"

#include <boost/json/array.hpp>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/url.h"

namespace emporium::sim {
namespace {

using boost::json::array;
using boost::json::object;

std::string Text(const object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

int64_t WallMs() {
  return UnixMillis(SystemClock::Get().WallNow());
}

bool Ok(int status) {
  return status >= 200 && status < 300;
}

}  // namespace

ApiShop::ApiShop(const World& world, LoadGen& gen, ApiShopOptions options)
    : world_(world), gen_(gen), options_(std::move(options)) {
  http::ClientOptions co;
  co.max_idle_per_host = 256;
  client_ = std::make_unique<http::HttpClient>(co);
}

ApiShop::~ApiShop() = default;

SteadyTime ApiShop::Planned(Ctx& c) const {
  if (!options_.paced) {
    // As fast as a quick human clicks (and under the shop's per-user rate limit), not faster.
    const SteadyTime at = std::max(std::chrono::steady_clock::now(), c.next_call);
    c.next_call = at + options_.min_gap;
    return at;
  }
  return options_.t0_steady + Millis(c.now_ms - options_.t0_wall_ms);
}

std::string ApiShop::Bearer(const Ctx& c) const {
  std::lock_guard lock(mu_);
  if (auto it = tokens_.find(c.account->key + "|" + c.device->id); it != tokens_.end())
    return it->second.access;
  if (auto it = guests_.find(c.device->id); it != guests_.end()) return it->second;
  return "";
}

http::Request ApiShop::Base(const Ctx& c, http::Method method, std::string target, std::string body,
                            std::string_view type) const {
  http::Request req = http::NewRequest(method, std::move(target), std::move(body), type);
  req.headers.Set("X-Forwarded-For", c.device->ip);
  req.headers.Set("X-Client-Country", c.device->country);
  req.headers.Set("User-Agent", c.device->user_agent);
  if (std::string token = Bearer(c); !token.empty()) req.headers.Set("Authorization", "Bearer " + token);
  return req;
}

CallOutcome ApiShop::Send(const http::Request& req, const std::string& base) const {
  auto resp = client_->Send(base, req, std::chrono::steady_clock::now() + Millis(15'000));
  if (!resp.ok()) return CallOutcome{0, "", resp.status()};
  return CallOutcome{resp->status, std::move(resp->body), Status::Ok()};
}

Op<ApiShop::Reply> ApiShop::Call(Ctx& c, std::string endpoint, std::function<http::Request()> make) {
  return Op<Reply>::Later(
      [this, &c, endpoint = std::move(endpoint), make = std::move(make)](Op<Reply>::Continuation done) {
        gen_.Submit(
            Planned(c), endpoint, [this, make] { return Send(make(), options_.base_url); },
            [done](CallOutcome o) {
              Reply r;
              r.status = o.status;
              if (auto doc = json::Parse(o.body); doc.ok() && doc->is_object())
                r.body = std::move(doc->as_object());
              done(std::move(r));
            });
      });
}

std::vector<int> ApiShop::Indexes(const object& body, std::string_view id_field) const {
  std::vector<int> out;
  auto items = body.if_contains("items");
  if (!items || !items->is_array()) return out;
  for (const auto& item : items->as_array()) {
    if (!item.is_object()) continue;
    auto it = world_.catalog().index_of.find(Text(item.as_object(), id_field));
    if (it != world_.catalog().index_of.end()) out.push_back(it->second);
  }
  return out;
}

void ApiShop::BeginSession(Ctx& c) {
  // A device whose access token runs out within five minutes signs in again.
  std::lock_guard lock(mu_);
  auto it = tokens_.find(c.account->key + "|" + c.device->id);
  if (it == tokens_.end() || it->second.expires_ms > WallMs() + 300'000) return;
  tokens_.erase(it);
  std::lock_guard state_lock(c.state->mu);
  c.state->signed_in.erase(c.device->id);
}

Op<bool> ApiShop::StartGuest(Ctx& c) {
  return FlowOp<bool>([this, &c](bool* ok) { return StartGuestFlow(c, ok); });
}

Op<bool> ApiShop::Register(Ctx& c) {
  return FlowOp<bool>([this, &c](bool* ok) { return RegisterFlow(c, ok); });
}

Session ApiShop::RegisterFlow(Ctx& c, bool* ok) {
  *ok = false;
  bool registered;
  {
    std::lock_guard lock(c.state->mu);
    registered = c.state->registered;
  }
  if (!registered) {
    auto op = Call(c, "POST /v1/users", [this, &c] {
      object body{{"email", c.account->email}, {"password", c.account->password}, {"name", c.account->name}};
      return Base(c, http::Method::kPost, "/v1/users", json::Dump(body));
    });
    Reply r = co_await op;
    // 409: the account exists (a history run resumed after an interruption): sign in.
    if (r.status != 201 && r.status != 409) co_return;
    std::lock_guard lock(c.state->mu);
    c.state->registered = true;
    c.state->registered_ms = c.now_ms;
    if (r.status == 201) c.state->user_id = Text(r.body, "id");
  }
  *ok = co_await SignIn(c);
}

Op<bool> ApiShop::SignIn(Ctx& c) {
  return FlowOp<bool>([this, &c](bool* ok) { return SignInFlow(c, ok); });
}

Session ApiShop::SignInFlow(Ctx& c, bool* ok) {
  *ok = false;
  std::string guest;
  {
    std::lock_guard lock(mu_);
    if (auto it = guests_.find(c.device->id); it != guests_.end()) guest = it->second;
  }
  auto op = Call(c, "POST /oauth2/token", [this, &c, guest] {
    std::vector<std::pair<std::string, std::string>> form{{"grant_type", "password"},
                                                          {"client_id", "storefront"},
                                                          {"username", c.account->email},
                                                          {"password", c.account->password}};
    if (!guest.empty()) form.emplace_back("guest_token", guest);
    return Base(c, http::Method::kPost, "/oauth2/token", http::FormEncode(form),
                "application/x-www-form-urlencoded");
  });
  Reply r = co_await op;
  if (r.status != 200) co_return;
  {
    std::lock_guard lock(mu_);
    auto expires = r.body.if_contains("expires_in");
    tokens_[c.account->key + "|" + c.device->id] =
        Token{Text(r.body, "access_token"), Text(r.body, "refresh_token"),
              WallMs() + 1000 * (expires && expires->is_int64() ? expires->as_int64() : 900)};
    guests_.erase(c.device->id);
  }
  std::string user_id;
  {
    std::lock_guard lock(c.state->mu);
    c.state->registered = true;
    c.state->signed_in.insert(c.device->id);
    c.state->MergeGuestCart(c.device->id);
    user_id = c.state->user_id;
  }
  if (user_id.empty()) {
    auto op = Call(c, "GET /v1/me", [this, &c] { return Base(c, http::Method::kGet, "/v1/me"); });
    Reply me = co_await op;
    user_id = Text(me.body, "id");
    std::lock_guard lock(c.state->mu);
    c.state->user_id = user_id;
  }
  if (!user_id.empty()) {
    std::lock_guard lock(mu_);
    user_ids_[c.account->key] = user_id;
  }
  *ok = true;
}

Op<SearchResult> ApiShop::Search(Ctx& c, const std::string& query) {
  const std::string search_id = c.session_id + "-q" + std::to_string(++c.calls);
  return FlowOp<SearchResult>(
      [this, &c, query, search_id](SearchResult* out) { return SearchFlow(c, query, search_id, out); });
}

Op<std::vector<int>> ApiShop::Browse(Ctx& c, int leaf) {
  std::string category;
  for (int p : world_.catalog().by_leaf[static_cast<size_t>(leaf)]) {
    category = world_.catalog().products[static_cast<size_t>(p)].category_id;
    if (!category.empty()) break;
  }
  const std::string& name = world_.catalog().leaves[static_cast<size_t>(leaf)];
  const std::string last = name.substr(name.rfind('>') == std::string::npos ? 0 : name.rfind('>') + 2);
  return FlowOp<std::vector<int>>(
      [this, &c, category, last](std::vector<int>* out) { return BrowseFlow(c, category, last, out); });
}

Op<RecommendationList> ApiShop::Recommendations(Ctx& c, std::string_view placement, int product) {
  if (recommendations_retry_ms_.load() > WallMs()) return Op<RecommendationList>::Ready(RecommendationList{});
  std::string target = "/v1/recommendations?limit=10&placement=" + std::string(placement);
  if (product >= 0) target += "&product_id=" + world_.catalog().products[static_cast<size_t>(product)].id;
  return FlowOp<RecommendationList>(
      [this, &c, target](RecommendationList* out) { return RecommendationsFlow(c, target, out); });
}

Op<bool> ApiShop::ViewProduct(Ctx& c, int product) {
  if (!options_.fetch_product_pages) return Op<bool>::Ready(true);
  const std::string id = world_.catalog().products[static_cast<size_t>(product)].id;
  return FlowOp<bool>([this, &c, id](bool* ok) { return ViewFlow(c, id, ok); });
}

Op<bool> ApiShop::AddToCart(Ctx& c, int product, int quantity) {
  const std::string id = world_.catalog().products[static_cast<size_t>(product)].id;
  return FlowOp<bool>(
      [this, &c, id, product, quantity](bool* ok) { return AddToCartFlow(c, id, product, quantity, ok); });
}

Op<bool> ApiShop::RemoveFromCart(Ctx& c, int product) {
  const std::string id = world_.catalog().products[static_cast<size_t>(product)].id;
  return FlowOp<bool>([this, &c, id, product](bool* ok) { return RemoveFlow(c, id, product, ok); });
}

Op<bool> ApiShop::AddToWishlist(Ctx& c, int product) {
  const std::string id = world_.catalog().products[static_cast<size_t>(product)].id;
  return FlowOp<bool>([this, &c, id](bool* ok) { return WishlistFlow(c, id, ok); });
}

Op<bool> ApiShop::AddAddress(Ctx& c, const Address& a) {
  return FlowOp<bool>([this, &c, a](bool* ok) { return AddressFlow(c, a, ok); });
}

Op<OrderResult> ApiShop::Checkout(Ctx& c, const Card& card, const Address& ship_to, FraudKind fraud) {
  return FlowOp<OrderResult>([this, &c, card, ship_to, fraud](OrderResult* out) {
    return CheckoutFlow(c, card, ship_to, fraud, out);
  });
}

Session ApiShop::CheckoutFlow(Ctx& c, Card card, Address ship_to, FraudKind fraud, OrderResult* out) {
  // The checkout page shows the cart first. A guest cart merged at sign-in arrives a moment later
  // (the merge travels as an event), so a shopper who finds it empty looks again.
  bool has_items = false;
  for (int look = 0; look < 4 && !has_items; ++look) {
    if (look > 0) c.Think(0.5);
    auto cart_op = Call(c, "GET /v1/cart", [this, &c] { return Base(c, http::Method::kGet, "/v1/cart"); });
    Reply cart = co_await cart_op;
    std::vector<CartLine> lines;
    if (auto items = cart.body.if_contains("items"); items && items->is_array()) {
      for (const auto& item : items->as_array()) {
        if (!item.is_object()) continue;
        auto it = world_.catalog().index_of.find(Text(item.as_object(), "product_id"));
        auto qty = item.as_object().if_contains("quantity");
        if (it != world_.catalog().index_of.end() && qty && qty->is_int64())
          lines.push_back(CartLine{it->second, static_cast<int>(qty->as_int64())});
      }
    }
    has_items = !lines.empty();
    std::lock_guard lock(c.state->mu);
    c.state->CartOn(c.device->id) = std::move(lines);
  }
  if (!has_items) {
    out->reason = "empty_cart";
    co_return;
  }
  const std::string key = c.session_id + "-o" + std::to_string(++c.calls);
  auto op = Call(c, "POST /v1/orders", [this, &c, card, ship_to, key] {
    object body{
        {"shipping_address", object{{"name", ship_to.name},
                                    {"line1", ship_to.line1},
                                    {"city", ship_to.city},
                                    {"postal_code", ship_to.postal_code},
                                    {"country", ship_to.country}}},
        {"payment",
         object{
             {"card", object{{"number", card.number}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}}},
             {"billing_country", card.country}}},
        {"device_id", c.device->id},
        {"session_id", c.session_id}};
    http::Request req = Base(c, http::Method::kPost, "/v1/orders", json::Dump(body));
    req.headers.Set("Idempotency-Key", key);
    return req;
  });
  Reply r = co_await op;
  if (!Ok(r.status)) {
    out->reason = "http_" + std::to_string(r.status);
    std::lock_guard lock(mu_);
    ++counts_.orders["refused_" + std::to_string(r.status)];
    co_return;
  }
  out->accepted = true;
  out->order_id = Text(r.body, "id");
  out->status = Text(r.body, "status");
  // The confirmation page polls until the saga has decided.
  for (int i = 0; i < 10 && out->status == "PENDING"; ++i) {
    c.Think(0.7);
    const std::string id = out->order_id;
    auto op = Call(c, "GET /v1/orders/{id}",
                   [this, &c, id] { return Base(c, http::Method::kGet, "/v1/orders/" + id); });
    r = co_await op;
    if (Ok(r.status)) out->status = Text(r.body, "status");
  }
  out->reason = Text(r.body, "reason");
  std::string provider;
  if (auto p = r.body.if_contains("payment"); p && p->is_object())
    provider = Text(p->as_object(), "provider");
  const bool went_through =
      out->status == "CONFIRMED" || out->status == "SHIPPED" || out->status == "DELIVERED";
  {
    std::lock_guard lock(mu_);
    ++counts_.orders[out->status];
    if (fraud != FraudKind::kNone) fraud_orders_[out->order_id] = fraud;
  }
  if (out->status != "REJECTED" && out->status != "CANCELLED") {
    std::lock_guard lock(c.state->mu);
    c.state->CartOn(c.device->id).clear();
    c.state->orders.push_back(PlacedOrder{out->order_id, c.now_ms, 0, fraud});
  }
  const double p_dispute = fraud == FraudKind::kNone ? 0.003 : fraud == FraudKind::kCardTesting ? 0.5 : 0.85;
  if (fraud != FraudKind::kNone && !went_through) {
    std::lock_guard lock(mu_);
    ++counts_.chargebacks_skipped;
  } else if (went_through && c.rng.Chance(p_dispute)) {
    const std::string reason = fraud == FraudKind::kNone ? "product_not_received" : "fraudulent";
    const auto delay = Millis(static_cast<int64_t>(static_cast<double>(options_.chargeback_delay.count()) *
                                                   c.rng.Uniform(0.5, 1.5)));
    const std::string id = out->order_id;
    gen_.Schedule(std::chrono::steady_clock::now() + delay,
                  [this, id, provider, reason] { FileChargeback(id, provider, reason); });
  }
}

void ApiShop::FileChargeback(const std::string& order_id, const std::string& provider,
                             const std::string& reason) {
  // The issuer files it with the provider that took the payment; unknown provider: ask each.
  std::vector<std::string> bases;
  if (auto it = options_.sandboxes.find(provider); it != options_.sandboxes.end())
    bases.push_back(it->second);
  for (const auto& [name, base] : options_.sandboxes)
    if (name != provider) bases.push_back(base);
  const std::string body =
      json::Dump(object{{"dispute", object{{"reference", order_id}, {"reason", reason}}}});
  for (const std::string& base : bases) {
    http::Request req = http::NewRequest(http::Method::kPost, "/control", body);
    CallOutcome o = Send(req, base);
    if (Ok(o.status)) {
      std::lock_guard lock(mu_);
      ++counts_.chargebacks_filed;
      return;
    }
  }
  std::lock_guard lock(mu_);
  ++counts_.chargebacks_skipped;
}

Op<bool> ApiShop::Cancel(Ctx& c, const std::string& order_id) {
  return FlowOp<bool>([this, &c, order_id](bool* ok) { return CancelFlow(c, order_id, ok); });
}

void ApiShop::Emit(Ctx& c, object event) {
  event["id"] = c.session_id + "-e" + std::to_string(++c.events);
  event["time"] = FormatRfc3339UnixMillis(c.now_ms);
  event["session_id"] = c.session_id;
  event["device_id"] = c.device->id;
  c.queued.push_back(std::move(event));
}

Op<bool> ApiShop::Flush(Ctx& c) {
  return FlowOp<bool>([this, &c](bool* ok) { return FlushFlow(c, ok); });
}

Session ApiShop::FlushFlow(Ctx& c, bool* ok) {
  *ok = true;
  while (!c.queued.empty()) {
    const size_t n = std::min<size_t>(100, c.queued.size());
    array batch;
    for (size_t i = 0; i < n; ++i) batch.push_back(std::move(c.queued[i]));
    c.queued.erase(c.queued.begin(), c.queued.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string body = json::Dump(object{{"events", std::move(batch)}});
    auto op = Call(c, "POST /v1/events",
                   [this, &c, body] { return Base(c, http::Method::kPost, "/v1/events", body); });
    Reply r = co_await op;
    if (Ok(r.status)) {
      std::lock_guard lock(mu_);
      counts_.events_sent += static_cast<int64_t>(n);
    } else {
      *ok = false;
    }
  }
}

void ApiShop::SessionStarted() {
  std::lock_guard lock(mu_);
  ++counts_.sessions_started;
}

void ApiShop::SessionFinished() {
  std::lock_guard lock(mu_);
  ++counts_.sessions_finished;
}

ShopCounts ApiShop::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::map<std::string, std::string> ApiShop::user_ids() const {
  std::lock_guard lock(mu_);
  return user_ids_;
}

std::map<std::string, FraudKind> ApiShop::fraud_orders() const {
  std::lock_guard lock(mu_);
  return fraud_orders_;
}

Session ApiShop::StartGuestFlow(Ctx& c, bool* ok) {
  {
    std::lock_guard lock(mu_);
    if (guests_.count(c.device->id)) {
      *ok = true;
      co_return;
    }
  }
  auto op = Call(c, "POST /v1/sessions/guest",
                 [this, &c] { return Base(c, http::Method::kPost, "/v1/sessions/guest"); });
  Reply r = co_await op;
  *ok = r.status == 201 || r.status == 200;
  if (*ok) {
    std::lock_guard lock(mu_);
    guests_[c.device->id] = Text(r.body, "access_token");
  }
}

Session ApiShop::SearchFlow(Ctx& c, std::string query, std::string search_id, SearchResult* out) {
  auto op = Call(c, "GET /v1/search", [this, &c, query] {
    return Base(c, http::Method::kGet, "/v1/search?page_size=20&q=" + http::PercentEncode(query));
  });
  Reply r = co_await op;
  out->search_id = search_id;
  out->products = Indexes(r.body, "id");
}

Session ApiShop::BrowseFlow(Ctx& c, std::string category, std::string last, std::vector<int>* out) {
  if (!category.empty()) {
    auto op = Call(c, "GET /v1/products", [this, &c, category] {
      return Base(c, http::Method::kGet,
                  "/v1/products?sort=rating&page_size=40&category=" + http::PercentEncode(category));
    });
    Reply r = co_await op;
    *out = Indexes(r.body, "id");
  } else {
    auto op = Call(c, "GET /v1/search", [this, &c, last] {
      return Base(c, http::Method::kGet, "/v1/search?page_size=40&q=" + http::PercentEncode(last));
    });
    Reply r = co_await op;
    *out = Indexes(r.body, "id");
  }
}

Session ApiShop::RecommendationsFlow(Ctx& c, std::string target, RecommendationList* out) {
  auto op =
      Call(c, "GET /v1/recommendations", [this, &c, target] { return Base(c, http::Method::kGet, target); });
  Reply r = co_await op;
  if (r.status == 404) {
    // This shop has no recommendations (yet): ask again in a minute, not on every page.
    recommendations_retry_ms_ = WallMs() + 60'000;
    co_return;
  }
  if (r.status != 200) co_return;
  out->available = true;
  out->recommendation_id = Text(r.body, "recommendation_id");
  out->model_version = Text(r.body, "model");
  if (out->model_version.empty()) out->model_version = Text(r.body, "model_version");
  out->products = Indexes(r.body, "product_id");
  if (out->products.empty()) out->products = Indexes(r.body, "id");
}

Session ApiShop::ViewFlow(Ctx& c, std::string id, bool* ok) {
  auto op = Call(c, "GET /v1/products/{id}",
                 [this, &c, id] { return Base(c, http::Method::kGet, "/v1/products/" + id); });
  Reply r = co_await op;
  *ok = r.status == 200;
}

Session ApiShop::AddToCartFlow(Ctx& c, std::string id, int product, int quantity, bool* ok) {
  auto op = Call(c, "POST /v1/cart/items", [this, &c, id, quantity] {
    return Base(c, http::Method::kPost, "/v1/cart/items",
                json::Dump(object{{"product_id", id}, {"quantity", quantity}}));
  });
  Reply r = co_await op;
  *ok = Ok(r.status);
  if (!*ok) co_return;
  std::lock_guard lock(c.state->mu);
  auto& cart = c.state->CartOn(c.device->id);
  auto it = std::find_if(cart.begin(), cart.end(), [&](const CartLine& l) { return l.product == product; });
  if (it == cart.end()) {
    cart.push_back({product, quantity});
  } else {
    it->quantity += quantity;
  }
}

Session ApiShop::RemoveFlow(Ctx& c, std::string id, int product, bool* ok) {
  auto op = Call(c, "DELETE /v1/cart/items/{id}",
                 [this, &c, id] { return Base(c, http::Method::kDelete, "/v1/cart/items/" + id); });
  Reply r = co_await op;
  *ok = Ok(r.status) || r.status == 404;
  std::lock_guard lock(c.state->mu);
  auto& cart = c.state->CartOn(c.device->id);
  cart.erase(
      std::remove_if(cart.begin(), cart.end(), [&](const CartLine& l) { return l.product == product; }),
      cart.end());
}

Session ApiShop::WishlistFlow(Ctx& c, std::string id, bool* ok) {
  auto op = Call(c, "POST /v1/wishlist/items", [this, &c, id] {
    return Base(c, http::Method::kPost, "/v1/wishlist/items", json::Dump(object{{"product_id", id}}));
  });
  Reply r = co_await op;
  *ok = Ok(r.status);
}

Session ApiShop::AddressFlow(Ctx& c, Address a, bool* ok) {
  auto op = Call(c, "POST /v1/me/addresses", [this, &c, a] {
    object body{{"name", a.name},
                {"line1", a.line1},
                {"city", a.city},
                {"postal_code", a.postal_code},
                {"country", a.country}};
    return Base(c, http::Method::kPost, "/v1/me/addresses", json::Dump(body));
  });
  Reply r = co_await op;
  *ok = Ok(r.status);
}

Session ApiShop::CancelFlow(Ctx& c, std::string order_id, bool* ok) {
  auto op = Call(c, "POST /v1/orders/{id}/cancel", [this, &c, order_id] {
    return Base(c, http::Method::kPost, "/v1/orders/" + order_id + "/cancel", "{}");
  });
  Reply r = co_await op;
  *ok = Ok(r.status);
  if (*ok) {
    std::lock_guard lock(mu_);
    ++counts_.orders["cancelled_by_shopper"];
  }
}

}  // namespace emporium::sim
