#include "sim/offline.h"

#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <cstdio>
#include <fstream>
#include <thread>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "sim/shop.h"
#include "sim/truth.h"

namespace emporium::sim {
namespace {

using boost::json::array;
using boost::json::object;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kShippingFee = 599;
constexpr std::string_view kDeclineCards[] = {"4000000000000002", "4000000000009995", "4000000000000069",
                                              "4000000000000127"};

struct Record {
  int64_t at = 0;
  std::string who;
  int64_t seq = 0;
  std::string line;
};

std::string Hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Records what the sessions would do, into one thread's buffer.
class OfflineShop final : public Shop {
 public:
  OfflineShop(const World& world, uint64_t seed, int64_t end_ms, std::vector<Record>& out,
              std::map<std::string, FraudKind>& fraud_orders, Summary& summary)
      : world_(world),
        seed_(seed),
        end_ms_(end_ms),
        out_(out),
        fraud_orders_(fraud_orders),
        summary_(summary) {}

  Op<bool> StartGuest(Ctx&) override { return Op<bool>::Ready(true); }

  Op<bool> Register(Ctx& c) override {
    {
      std::lock_guard lock(c.state->mu);
      if (!c.state->registered) {
        c.state->registered = true;
        c.state->registered_ms = c.now_ms;
        c.state->user_id = c.account->key;
        Add(c.now_ms, c.account->key,
            object{{"record", "user"},
                   {"user", c.account->key},
                   {"registered_at", FormatRfc3339UnixMillis(c.now_ms)},
                   {"country", c.account->country},
                   {"device_id", c.device->id},
                   {"ip", c.device->ip},
                   {"ip_country", c.device->country}});
        ++summary_.counts["users.registered"];
      }
    }
    return SignIn(c);
  }

  Op<bool> SignIn(Ctx& c) override {
    std::string guest;
    {
      std::lock_guard lock(c.state->mu);
      if (!c.state->registered) return Op<bool>::Ready(false);
      if (!c.state->signed_in.insert(c.device->id).second) return Op<bool>::Ready(true);
      c.state->MergeGuestCart(c.device->id);
    }
    guest = "guest:" + c.device->id;
    Add(c.now_ms, c.account->key,
        object{{"record", "signin"},
               {"user", c.account->key},
               {"device_id", c.device->id},
               {"ip", c.device->ip},
               {"ip_country", c.device->country},
               {"user_agent", c.device->user_agent},
               {"merged_guest", guest}});
    ++summary_.counts["signins"];
    return Op<bool>::Ready(true);
  }

  Op<SearchResult> Search(Ctx& c, const std::string& query) override {
    SearchResult r;
    r.search_id = c.session_id + "-q" + std::to_string(++c.calls);
    r.products = world_.Search(query, 40);
    ++summary_.counts["searches"];
    if (r.products.empty()) ++summary_.counts["searches.no_results"];
    return Op<SearchResult>::Ready(std::move(r));
  }

  Op<std::vector<int>> Browse(Ctx&, int leaf) override {
    std::vector<int> members = world_.catalog().by_leaf[static_cast<size_t>(leaf)];
    const auto& products = world_.catalog().products;
    std::stable_sort(members.begin(), members.end(), [&](int a, int b) {
      return products[static_cast<size_t>(a)].rating_count > products[static_cast<size_t>(b)].rating_count;
    });
    if (members.size() > 40) members.resize(40);
    return Op<std::vector<int>>::Ready(std::move(members));
  }

  Op<RecommendationList> Recommendations(Ctx&, std::string_view, int) override {
    return Op<RecommendationList>::Ready(RecommendationList{});
  }

  Op<bool> ViewProduct(Ctx&, int) override { return Op<bool>::Ready(true); }

  Op<bool> AddToCart(Ctx& c, int product, int quantity) override {
    std::lock_guard lock(c.state->mu);
    auto& cart = c.state->CartOn(c.device->id);
    auto it = std::find_if(cart.begin(), cart.end(), [&](const CartLine& l) { return l.product == product; });
    if (it == cart.end()) {
      cart.push_back({product, quantity});
    } else {
      it->quantity += quantity;
    }
    return Op<bool>::Ready(true);
  }

  Op<bool> RemoveFromCart(Ctx& c, int product) override {
    std::lock_guard lock(c.state->mu);
    auto& cart = c.state->CartOn(c.device->id);
    cart.erase(
        std::remove_if(cart.begin(), cart.end(), [&](const CartLine& l) { return l.product == product; }),
        cart.end());
    return Op<bool>::Ready(true);
  }

  Op<bool> AddToWishlist(Ctx&, int) override { return Op<bool>::Ready(true); }

  Op<bool> AddAddress(Ctx& c, const Address& a) override {
    Add(c.now_ms, c.account->key,
        object{{"record", "address"},
               {"user", c.account->key},
               {"country", a.country},
               {"postal_code", a.postal_code},
               {"device_id", c.device->id},
               {"ip", c.device->ip}});
    return Op<bool>::Ready(true);
  }

  Op<OrderResult> Checkout(Ctx& c, const Card& card, const Address& ship_to, FraudKind fraud) override {
    std::vector<CartLine> cart;
    int64_t account_age = 0;
    {
      std::lock_guard lock(c.state->mu);
      cart = c.state->CartOn(c.device->id);
      account_age = c.now_ms - c.state->registered_ms;
    }
    if (cart.empty()) return Op<OrderResult>::Ready(OrderResult{});
    OrderResult r;
    r.accepted = true;
    r.order_id = "o-" + Hex64(Hash(seed_, c.session_id + ":order:" + std::to_string(++c.calls)));
    const bool declined =
        std::find(std::begin(kDeclineCards), std::end(kDeclineCards), card.number) != std::end(kDeclineCards);
    r.status = declined ? "REJECTED" : "CONFIRMED";
    r.reason = declined ? "payment_declined" : "";
    array items;
    int64_t subtotal = 0;
    const auto& products = world_.catalog().products;
    for (const CartLine& l : cart) {
      const SimProduct& p = products[static_cast<size_t>(l.product)];
      subtotal += p.price * l.quantity;
      items.push_back(object{{"product_id", p.id}, {"quantity", l.quantity}, {"unit_price", p.price}});
    }
    Add(c.now_ms, c.account->key,
        object{{"record", "order"},
               {"order_id", r.order_id},
               {"user", c.account->key},
               {"account_age_ms", account_age},
               {"device_id", c.device->id},
               {"session_id", c.session_id},
               {"ip", c.device->ip},
               {"ip_country", c.device->country},
               {"user_agent", c.device->user_agent},
               {"items", std::move(items)},
               {"total", subtotal + kShippingFee},
               {"currency", "USD"},
               {"card", object{{"bin", card.number.substr(0, 6)},
                               {"last4", card.number.substr(card.number.size() - 4)},
                               {"country", card.country},
                               {"fingerprint", Hex64(Hash(seed_, "card:" + card.number))}}},
               {"billing_country", card.country},
               {"shipping_country", ship_to.country},
               {"shipping_postal_code", ship_to.postal_code},
               {"status", r.status},
               {"reason", r.reason}});
    ++summary_.counts["orders." + r.status];
    if (fraud != FraudKind::kNone) {
      fraud_orders_[r.order_id] = fraud;
      ++summary_.fraud[std::string(FraudKindName(fraud)) + ".orders"];
    }
    if (!declined) {
      summary_.counts["revenue_minor"] += subtotal + kShippingFee;
      std::lock_guard lock(c.state->mu);
      c.state->CartOn(c.device->id).clear();
      c.state->orders.push_back(PlacedOrder{r.order_id, c.now_ms, subtotal + kShippingFee, fraud});
      // The truth about fraud arrives weeks later, if at all; a few honest orders are disputed too.
      const double p_dispute = fraud == FraudKind::kNone          ? 0.003
                               : fraud == FraudKind::kCardTesting ? 0.5
                                                                  : 0.85;
      if (c.rng.Chance(p_dispute)) {
        const int64_t at = c.now_ms + static_cast<int64_t>(c.rng.LogNormal(14, 0.6) * kDayMs);
        if (at < end_ms_) {
          Add(at, c.account->key,
              object{{"record", "chargeback"},
                     {"order_id", r.order_id},
                     {"amount", subtotal + kShippingFee},
                     {"reason", fraud == FraudKind::kNone ? "product_not_received" : "fraudulent"}});
          ++summary_.counts["chargebacks"];
        }
      }
    }
    return Op<OrderResult>::Ready(std::move(r));
  }

  Op<bool> Cancel(Ctx& c, const std::string& order_id) override {
    Add(c.now_ms, c.account->key,
        object{{"record", "cancel"}, {"order_id", order_id}, {"user", c.account->key}});
    ++summary_.counts["cancels"];
    return Op<bool>::Ready(true);
  }

  void Emit(Ctx& c, object event) override {
    bool signed_in;
    {
      std::lock_guard lock(c.state->mu);
      signed_in = c.state->signed_in.count(c.device->id) > 0;
    }
    const std::string type(event.at("type").as_string());
    event["id"] = c.session_id + "-e" + std::to_string(++c.events);
    event["time"] = FormatRfc3339UnixMillis(c.now_ms);
    event["session_id"] = c.session_id;
    event["device_id"] = c.device->id;
    const std::string subject = signed_in ? c.account->key : "guest:" + c.device->id;
    Add(c.now_ms, subject,
        object{{"record", "event"},
               {"user", subject},
               {"ip", c.device->ip},
               {"ip_country", c.device->country},
               {"user_agent", c.device->user_agent},
               {"event", std::move(event)}});
    ++summary_.counts["events." + type];
  }

  Op<bool> Flush(Ctx&) override { return Op<bool>::Ready(true); }

 private:
  void Add(int64_t at, const std::string& who, object o) {
    o["time"] = FormatRfc3339UnixMillis(at);
    out_.push_back(Record{at, who, seq_++, json::Dump(o)});
  }

  const World& world_;
  uint64_t seed_;
  int64_t end_ms_;
  std::vector<Record>& out_;
  std::map<std::string, FraudKind>& fraud_orders_;
  Summary& summary_;
  int64_t seq_ = 0;
};

void Merge(Summary& into, const Summary& from) {
  for (const auto& [k, v] : from.counts) into.counts[k] += v;
  for (const auto& [k, v] : from.fraud) into.fraud[k] += v;
}

// Shoppers with an account from before the period (half of those who ever register).
void Preexisting(const Population& population, const ScheduleOptions& s, uint64_t seed,
                 std::vector<std::unique_ptr<UserState>>& states, std::vector<Record>& out,
                 Summary& summary) {
  for (const SimUser& u : population.shoppers()) {
    Rng rng(Hash(seed, "preexisting:" + u.key));
    if (!u.registers || !rng.Chance(0.5)) continue;
    const int64_t at = s.start_ms - static_cast<int64_t>(rng.Uniform(1, 365) * kDayMs);
    UserState& st = *states[static_cast<size_t>(u.index)];
    st.registered = true;
    st.registered_ms = at;
    st.user_id = u.key;
    object o{{"record", "user"},
             {"user", u.key},
             {"registered_at", FormatRfc3339UnixMillis(at)},
             {"country", u.country},
             {"device_id", u.devices.front().id},
             {"ip", u.devices.front().ip},
             {"ip_country", u.devices.front().country},
             {"time", FormatRfc3339UnixMillis(s.start_ms)}};
    out.push_back(Record{s.start_ms, u.key, -1, json::Dump(o)});
    ++summary.counts["users.registered"];
  }
}

}  // namespace

std::string Summary::ToText() const {
  std::string out;
  char line[160];
  for (const auto& [k, v] : counts) {
    std::snprintf(line, sizeof line, "  %-28s %12lld\n", k.c_str(), static_cast<long long>(v));
    out += line;
  }
  if (!fraud.empty()) out += "  fraud by kind:\n";
  for (const auto& [k, v] : fraud) {
    std::snprintf(line, sizeof line, "    %-26s %12lld\n", k.c_str(), static_cast<long long>(v));
    out += line;
  }
  return out;
}

std::string Summary::ToJson() const {
  object counts_json, fraud_json;
  for (const auto& [k, v] : counts) counts_json[k] = v;
  for (const auto& [k, v] : fraud) fraud_json[k] = v;
  return json::Dump(object{{"counts", std::move(counts_json)}, {"fraud", std::move(fraud_json)}});
}

Result<Summary> RunOffline(const World& world, const Population& population, const OfflineOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return InvalidArgument("cannot create " + options.out_dir.string() + ": " + ec.message());

  const auto& shoppers = population.shoppers();
  std::vector<std::unique_ptr<UserState>> states;
  for (size_t i = 0; i < shoppers.size(); ++i) states.push_back(std::make_unique<UserState>());
  std::vector<PlannedSession> plan = PlanSessions(population, options.schedule, options.seed);

  // Shoppers' sessions in parallel (each shopper's own sessions in order on one thread), then
  // the fraudsters' (an account takeover reads its victim's state) on this thread.
  const int threads = std::max(1, options.threads);
  std::vector<std::vector<Record>> buffers(static_cast<size_t>(threads) + 1);
  std::vector<std::map<std::string, FraudKind>> frauds(static_cast<size_t>(threads) + 1);
  std::vector<Summary> summaries(static_cast<size_t>(threads) + 1);
  Preexisting(population, options.schedule, options.seed, states, buffers.back(), summaries.back());
  std::vector<std::vector<const PlannedSession*>> per_user(shoppers.size());
  std::vector<const PlannedSession*> fraud_plan;
  for (const PlannedSession& s : plan)
    (s.fraud ? fraud_plan : per_user[static_cast<size_t>(s.user)]).push_back(&s);

  std::atomic<size_t> done{0};
  auto run = [&](const PlannedSession& s, Shop& shop) {
    const SimUser& u = s.fraud ? population.fraudsters()[static_cast<size_t>(s.user)]
                               : shoppers[static_cast<size_t>(s.user)];
    Ctx c;
    c.world = &world;
    c.population = &population;
    c.user = &u;
    c.account = u.fraud == FraudKind::kAccountTakeover && u.victim >= 0
                    ? &shoppers[static_cast<size_t>(u.victim)]
                    : &u;
    UserState fraud_state;
    c.state =
        c.account != &u || !s.fraud ? states[static_cast<size_t>(c.account->index)].get() : &fraud_state;
    c.rng = Rng(Hash(options.seed, u.key + ":session:" + std::to_string(s.number)));
    c.device = &u.devices[c.rng.Below(u.devices.size())];
    c.session_id = "s-" + u.key + "-" + std::to_string(s.number);
    c.now_ms = s.at_ms;
    c.period_start_ms = options.schedule.start_ms;
    c.period_end_ms = options.schedule.end_ms;
    (s.fraud ? FraudSession(c, shop) : ShopperSession(c, shop)).Start();
    ++done;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      OfflineShop shop(world, options.seed, options.schedule.end_ms, buffers[static_cast<size_t>(t)],
                       frauds[static_cast<size_t>(t)], summaries[static_cast<size_t>(t)]);
      for (size_t u = static_cast<size_t>(t); u < per_user.size(); u += static_cast<size_t>(threads))
        for (const PlannedSession* s : per_user[u]) run(*s, shop);
    });
  }
  std::thread reporter;
  std::atomic<bool> finished{false};
  if (options.progress) {
    reporter = std::thread([&] {
      while (!finished) {
        for (int i = 0; i < 20 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!finished) options.progress(done.load(), plan.size());
      }
    });
  }
  for (std::thread& t : pool) t.join();
  {
    OfflineShop shop(world, options.seed, options.schedule.end_ms, buffers.back(), frauds.back(),
                     summaries.back());
    for (const PlannedSession* s : fraud_plan) run(*s, shop);
  }
  finished = true;
  if (reporter.joinable()) reporter.join();

  Summary summary;
  std::map<std::string, FraudKind> fraud_orders;
  size_t total = 0;
  for (size_t b = 0; b < buffers.size(); ++b) {
    Merge(summary, summaries[b]);
    fraud_orders.insert(frauds[b].begin(), frauds[b].end());
    total += buffers[b].size();
  }
  summary.counts["sessions"] = static_cast<int64_t>(plan.size() - fraud_plan.size());
  summary.counts["fraud_sessions"] = static_cast<int64_t>(fraud_plan.size());
  summary.counts["shoppers"] = static_cast<int64_t>(shoppers.size());
  summary.counts["fraudsters"] = static_cast<int64_t>(population.fraudsters().size());
  for (const SimUser& f : population.fraudsters())
    ++summary.fraud[std::string(FraudKindName(f.fraud)) + ".accounts"];

  std::vector<Record> all;
  all.reserve(total);
  for (auto& b : buffers)
    for (Record& r : b) all.push_back(std::move(r));
  std::sort(all.begin(), all.end(), [](const Record& a, const Record& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.who != b.who) return a.who < b.who;
    return a.seq < b.seq;
  });
  summary.counts["records"] = static_cast<int64_t>(all.size());
  {
    std::ofstream out(options.out_dir / "history.jsonl", std::ios::binary | std::ios::trunc);
    std::string chunk;
    for (const Record& r : all) {
      chunk += r.line;
      chunk.push_back('\n');
      if (chunk.size() > (1 << 20)) {
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        chunk.clear();
      }
    }
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out) return Internal("cannot write " + (options.out_dir / "history.jsonl").string());
  }
  GroundTruth truth = GroundTruth::From(world, population, options.schedule.start_ms, options.schedule.end_ms,
                                        {}, fraud_orders);
  EMP_RETURN_IF_ERROR(truth.Save((options.out_dir / "truth.json").string()));
  std::ofstream sum(options.out_dir / "summary.json", std::ios::binary | std::ios::trunc);
  sum << summary.ToJson() << "\n";
  if (!sum) return Internal("cannot write summary.json");
  return summary;
}

}  // namespace emporium::sim
