// The recommend module end to end in one runtime with behavior: catalog facts and behaviour
// events in, GET /v1/recommendations out; a shopper's views change their list within a second;
// out-of-stock items are never shown; the graph survives a restart; bad parameters are problems.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/core/json.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/registry/registry.h"
#include "platform/module/testing.h"
#include "services/behavior/api.h"
#include "services/catalog/api.h"
#include "services/recommend/api.h"
#include "services/search/api.h"

namespace emporium::recommend {
namespace {

using boost::json::object;
using Steady = std::chrono::steady_clock;

const char* const kCategories[] = {"Tents", "Lamps", "Boots", "Books"};

std::string ProductId(int category, int n) {
  return "p-" + std::to_string(category) + "-" + std::to_string(n);
}

class Env {
 public:
  explicit Env(std::filesystem::path dir = {}, std::vector<std::string> args = {},
               std::vector<ModuleDef> modules = {behavior::Module(), Module()})
      : dir_("recommend", std::move(dir)), rt_(dir_.path(), std::move(modules), Args(std::move(args))) {}

  Status Start() { return rt_.Start(); }

  void Publish(std::string_view topic, const std::string& type, const std::string& key,
               const std::string& data) {
    auto bus = rt_.rt().Bus();
    ASSERT_TRUE(bus.ok());
    ASSERT_TRUE((*bus)->EnsureTopic(std::string(topic), 8).ok());
    if (!producer_) producer_ = std::move((*bus)->NewProducer()).value();
    ASSERT_TRUE(
        producer_->Publish(std::string(topic), key, bus::MakeEvent("/emporium/catalog", type, key, data))
            .ok());
  }

  void Catalog() {
    for (int c = 0; c < 4; ++c) {
      for (int n = 0; n < 10; ++n) {
        const std::string id = ProductId(c, n);
        object p{{"id", id},
                 {"title", std::string(kCategories[c]) + " item " + std::to_string(n)},
                 {"category", object{{"id", "c" + std::to_string(c)}, {"name", kCategories[c]}}},
                 {"price", object{{"amount", 1000 + n}, {"currency", "EUR"}}},
                 {"availability", object{{"in_stock", true}, {"available", 5}}}};
        Publish(catalog::kProductTopic, "catalog.product.created", id, json::Dump(p));
      }
    }
  }

  static std::vector<std::string> Args(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--log-level=warn", "--recommend-train-every=100ms",
                                     "--recommend-train-min-new=1", "--recommend-min-slice=5",
                                     "--recommend-model-poll-ms=20"};
    // A loaded machine (ASan, tests in parallel) must not make the lists degrade by their latency,
    // unless the test asks for it.
    if (std::none_of(extra.begin(), extra.end(),
                     [](const std::string& a) { return a.starts_with("--recommend-latency-budget="); }))
      args.push_back("--recommend-latency-budget=60s");
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  http::Response Call(http::Method method, const std::string& target, const std::string& subject,
                      const std::string& body = "", std::vector<std::string> roles = {"customer"}) {
    http::Request req = http::NewRequest(method, target, body);
    req.remote_addr = "198.51.100.7";
    req.headers.Set("User-Agent", "EmporiumTest/1.0");
    if (!subject.empty()) {
      auth::Principal p;
      p.subject = subject;
      p.guest = subject.starts_with("guest:");
      p.roles = std::move(roles);
      p.client_id = "storefront";
      req.principal = p;
    }
    return rt_.rt().Dispatch(req);
  }

  void View(const std::string& subject, const std::vector<std::string>& products) {
    std::vector<object> events;
    for (const std::string& id : products)
      events.push_back(object{{"type", "product_view"}, {"product_id", id}});
    Events(subject, std::move(events));
  }

  void Events(const std::string& subject, std::vector<object> events) {
    boost::json::array batch;
    for (object& e : events) {
      e["id"] = "e-" + std::to_string(++event_);
      batch.push_back(std::move(e));
    }
    auto r = Call(http::Method::kPost, "/v1/events", subject, json::Dump(object{{"events", batch}}));
    ASSERT_EQ(r.status, 202) << r.body;
  }

  object Recommend(const std::string& query, const std::string& subject = "") {
    auto r = Call(http::Method::kGet, "/v1/recommendations?" + query, subject);
    EXPECT_EQ(r.status, 200) << r.body;
    return ::emporium::testing::ParseObject(r.body);
  }

  // Shoppers who each view six products of one category: what "goes together" means here.
  void Shoppers() {
    for (int u = 0; u < 24; ++u) {
      const int c = u % 4;
      std::vector<std::string> ids;
      for (int k = 0; k < 6; ++k) ids.push_back(ProductId(c, (u / 4 + k * 3) % 10));
      View("user:shopper-" + std::to_string(u), ids);
    }
  }

  // The registry's current version and how many interactions it was fitted on.
  std::pair<std::string, int64_t> Current() {
    ml::ModelStore store(dir_.path() / "models", "recommend");
    auto a = store.Current();
    if (!a.ok()) return {"", 0};
    auto metrics = store.Read(*a, "metrics.json");
    if (!metrics.ok()) return {"", 0};
    return {a->version, ::emporium::testing::ParseObject(*metrics).at("interactions").as_int64()};
  }

  // Waits until a model fitted on at least `interactions` serves. When rounds staged such a model
  // but their gate kept an earlier one (a slow machine trains while events still arrive), it is
  // promoted as an operator would.
  std::string WaitForModel(int64_t interactions) {
    ml::ModelStore store(dir_.path() / "models", "recommend");
    const auto until = Steady::now() + std::chrono::seconds(60);
    while (Steady::now() < until) {
      auto [version, fitted] = Current();
      if (!version.empty() && fitted >= interactions) {
        if (::emporium::testing::Str(Recommend("placement=home"), "model") == version) return version;
      } else {
        for (const std::string& v : store.Versions()) {
          auto metrics = store.Read(ml::Artifact{v, store.dir() / v}, "metrics.json");
          if (metrics.ok() &&
              ::emporium::testing::ParseObject(*metrics).at("interactions").as_int64() >= interactions) {
            EXPECT_TRUE(store.Promote(v).ok());
            break;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no model fitted on " << interactions << " interactions serves";
    return "";
  }

  std::string Metrics() { return rt_.rt().metrics().Render(); }

  std::string RunCommand(const std::string& words, std::vector<std::string> args) {
    return rt_.RunCommand(words, std::move(args));
  }

  std::map<std::string, int> Categories(const object& o) {
    std::map<std::string, int> out;
    for (const auto& item : o.at("items").as_array()) {
      const std::string id(item.at("product_id").as_string());
      ++out[kCategories[id[2] - '0']];
    }
    return out;
  }

 private:
  ::emporium::testing::DataDir dir_;
  ::emporium::testing::TestRuntime rt_;
  std::unique_ptr<bus::Producer> producer_;
  int event_ = 0;
};

TEST(RecommendModule, ViewsChangeTheShoppersHomeWithinOneSecondAndSurviveARestart) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("recommend-" + std::to_string(::getpid()));
  {
    Env env(dir);
    ASSERT_TRUE(env.Start().ok());
    env.Catalog();
    env.Shoppers();
    env.WaitForModel(120);

    object before = env.Recommend("placement=home&limit=6", "user:newcomer");
    ASSERT_EQ(before.at("items").as_array().size(), 6u) << json::Dump(before);
    for (const auto& item : before.at("items").as_array())
      EXPECT_EQ(item.at("source").as_string(), "popularity")
          << "a shopper without history gets popular items";
    EXPECT_FALSE(before.at("degraded").as_bool());
    EXPECT_FALSE(::emporium::testing::Str(before, "recommendation_id").empty());

    const auto start = Steady::now();
    env.View("user:newcomer", {ProductId(2, 0), ProductId(2, 3)});
    bool changed = false;
    object after;
    while (Steady::now() - start < std::chrono::seconds(1)) {
      after = env.Recommend("placement=home&limit=6", "user:newcomer");
      if (env.Categories(after)["Boots"] >= 2 &&
          after.at("items").as_array()[0].at("source").as_string() != "popularity") {
        changed = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(changed) << "two boot views did not bring boots within 1 s: " << json::Dump(after);
    RecordProperty(
        "home_changed_ms",
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start).count()));
    bool explained = false;
    for (const auto& item : after.at("items").as_array()) {
      const std::string id(item.at("product_id").as_string());
      EXPECT_NE(id, ProductId(2, 0)) << "what the shopper has is not recommended to them";
      EXPECT_NE(id, ProductId(2, 3));
      if (item.at("reason").as_string().starts_with("Because you viewed Boots item")) explained = true;
    }
    EXPECT_TRUE(explained) << json::Dump(after);
    EXPECT_LE(env.Categories(after)["Boots"], 2)
        << "at most a third of six (2) from one category while others are left";

    // The product placement: what is viewed with a lamp is lamps.
    object similar = env.Recommend("placement=product&product_id=" + ProductId(1, 4) + "&limit=2");
    ASSERT_EQ(similar.at("items").as_array().size(), 2u) << json::Dump(similar);
    EXPECT_EQ(env.Categories(similar)["Lamps"], 2) << json::Dump(similar);
    EXPECT_TRUE(similar.at("items").as_array()[0].at("reason").as_string().starts_with(
        "Often viewed with Lamps item 4"))
        << json::Dump(similar);

    // Out of stock: never shown.
    env.Publish(catalog::kInventoryTopic, "inventory.changed", ProductId(1, 7),
                R"({"product_id":")" + ProductId(1, 7) + R"(","available":0,"in_stock":false})");
    const auto until = Steady::now() + std::chrono::seconds(5);
    bool gone = false;
    while (!gone && Steady::now() < until) {
      gone = true;
      object o = env.Recommend("placement=product&product_id=" + ProductId(1, 4) + "&limit=9");
      for (const auto& item : o.at("items").as_array())
        if (item.at("product_id").as_string() == ProductId(1, 7)) gone = false;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(gone) << "an out-of-stock product is still recommended";
  }
  {
    Env env(dir);
    ASSERT_TRUE(env.Start().ok());
    env.WaitForModel(120);
    object o = env.Recommend("placement=home&limit=6", "user:newcomer");
    EXPECT_GE(env.Categories(o)["Boots"], 2)
        << "the newcomer's views survived the restart: " << json::Dump(o);
  }
  std::filesystem::remove_all(dir);
}

TEST(RecommendModule, GuestsAndAnonymousCallersGetListsAndBadParametersAreProblems) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  object empty = env.Recommend("placement=home");
  EXPECT_TRUE(empty.at("degraded").as_bool()) << "no model yet says so";
  EXPECT_EQ(empty.at("items").as_array().size(), 0u);

  env.Catalog();
  env.Shoppers();
  env.WaitForModel(120);
  env.View("guest:g-1", {ProductId(3, 1)});
  const auto until = Steady::now() + std::chrono::seconds(5);
  object guest;
  while (Steady::now() < until) {
    guest = env.Recommend("placement=home&limit=3", "guest:g-1");
    if (env.Categories(guest)["Books"] >= 2 &&
        guest.at("items").as_array()[0].at("source").as_string() != "popularity")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(env.Categories(guest)["Books"], 2) << json::Dump(guest);
  EXPECT_EQ(env.Recommend("placement=home&limit=4").at("items").as_array().size(), 4u)
      << "anonymous: popular";
  object cart =
      env.Recommend("placement=cart&product_id=" + ProductId(0, 2) + "," + ProductId(0, 5) + "&limit=3");
  EXPECT_EQ(env.Categories(cart)["Tents"], 3) << json::Dump(cart);

  for (const std::string q : {"placement=nope", "limit=0", "limit=51", "limit=x", "placement=product",
                              "placement=product&product_id=a,b"}) {
    auto r = env.Call(http::Method::kGet, "/v1/recommendations?" + q, "");
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json") << q;
  }
}

// A promoted model (here the version that is not current, by command: a promotion or a rollback)
// replaces the one serving while requests keep coming, and not one of them fails.
TEST(RecommendModule, APromotedModelServesWithoutAFailedRequest) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  env.Catalog();
  env.Shoppers();
  ASSERT_FALSE(env.WaitForModel(120).empty());
  env.Shoppers();  // as many again: the next round stages (and may promote) a second version
  std::string newest, older;
  const auto deadline = Steady::now() + std::chrono::seconds(20);
  while (older.empty() && Steady::now() < deadline) {
    std::istringstream versions(env.RunCommand("promote recommend", {}));
    for (std::string line; std::getline(versions, line);) {
      if (line.ends_with("(current)")) {
        newest = line.substr(0, line.find(' '));
      } else if (!line.empty()) {
        older = line;
      }
    }
    if (older.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(older.empty()) << "a second version was published";
  while (::emporium::testing::Str(env.Recommend("placement=home"), "model") != newest &&
         Steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));

  std::atomic<bool> stop{false};
  std::atomic<int> requests{0}, failures{0};
  std::mutex seen_mu;
  std::set<std::string> seen;
  std::thread load([&] {
    while (!stop) {
      auto r = env.Call(http::Method::kGet, "/v1/recommendations?placement=home&limit=5", "user:shopper-1");
      ++requests;
      if (r.status != 200) {
        ++failures;
        continue;
      }
      std::lock_guard lock(seen_mu);
      seen.insert(::emporium::testing::Str(::emporium::testing::ParseObject(r.body), "model"));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NE(env.RunCommand("promote recommend", {"--version=" + older}).find("is current"),
            std::string::npos);
  const auto until = Steady::now() + std::chrono::seconds(5);
  bool switched = false;
  while (!switched && Steady::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    switched = ::emporium::testing::Str(env.Recommend("placement=home"), "model") == older;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  load.join();
  EXPECT_TRUE(switched) << "the promoted version did not replace " << newest;
  EXPECT_GT(requests.load(), 20);
  EXPECT_EQ(failures.load(), 0);
  std::lock_guard lock(seen_mu);
  EXPECT_TRUE(seen.count(newest) && seen.count(older)) << "requests were answered by both models";
}

// Lists slower than the budget (here 0 ms: every one) three times in a row: popular items, said
// so, until the cooldown is over.
TEST(RecommendModule, SlowListsDegradeToPopularItemsSaidSo) {
  Env env({}, {"--recommend-latency-budget=0ms"});
  ASSERT_TRUE(env.Start().ok());
  env.Catalog();
  env.Shoppers();
  env.WaitForModel(120);
  object o;
  for (int i = 0; i < 10; ++i) {
    o = env.Recommend("placement=home&limit=5", "user:shopper-3");
    if (o.at("degraded").as_bool()) break;
  }
  ASSERT_TRUE(o.at("degraded").as_bool()) << json::Dump(o);
  EXPECT_NE(::emporium::testing::Str(o, "degraded_reason").find("slowly"), std::string::npos);
  EXPECT_EQ(::emporium::testing::Str(o, "strategy"), "popularity");
  ASSERT_EQ(o.at("items").as_array().size(), 5u);
  for (const auto& item : o.at("items").as_array()) EXPECT_EQ(item.at("source").as_string(), "popularity");
}

// An A/B experiment of the fused lists against popularity: each shopper keeps one variant, the
// variant decides how the list is made, and what shoppers do with a list (shown, clicked, carted)
// is counted for the variant that made it, in the admin endpoint and /metrics.
TEST(RecommendModule, AnExperimentSplitsShoppersAndCountsWhatTheirListsDid) {
  Env env({}, {"--recommend-variants=fused=1,popularity=1", "--recommend-experiment=test-1"});
  ASSERT_TRUE(env.Start().ok());
  env.Catalog();
  env.Shoppers();
  env.WaitForModel(120);

  std::map<std::string, std::vector<std::string>> by_variant;
  std::map<std::string, object> lists;
  for (int u = 0; u < 24; ++u) {
    const std::string subject = "user:shopper-" + std::to_string(u);
    object o = env.Recommend("placement=home&limit=4", subject);
    const std::string variant = ::emporium::testing::Str(o, "variant");
    EXPECT_EQ(::emporium::testing::Str(env.Recommend("placement=home", subject), "variant"), variant)
        << "a shopper keeps their variant";
    EXPECT_TRUE(::emporium::testing::Str(o, "recommendation_id").starts_with("rec_" + variant + "_"));
    std::set<std::string> sources;
    for (const auto& item : o.at("items").as_array())
      sources.insert(std::string(item.at("source").as_string()));
    if (variant == "popularity") {
      EXPECT_EQ(::emporium::testing::Str(o, "strategy"), "popularity");
      EXPECT_EQ(sources, std::set<std::string>{"popularity"}) << json::Dump(o);
    } else {
      ASSERT_EQ(variant, "fused");
      EXPECT_EQ(::emporium::testing::Str(o, "strategy"), "fused");
      EXPECT_FALSE(sources.empty() || sources == std::set<std::string>{"popularity"})
          << "a shopper with history gets personal items: " << json::Dump(o);
    }
    by_variant[variant].push_back(subject);
    lists[subject] = std::move(o);
  }
  ASSERT_FALSE(by_variant["fused"].empty());
  ASSERT_FALSE(by_variant["popularity"].empty());

  // One shopper per variant sees the list and clicks its first item, then carts it; the fused
  // shopper also carts something they never clicked (not counted).
  for (const std::string variant : {"fused", "popularity"}) {
    const std::string subject = by_variant[variant].front();
    const object& list = lists[subject];
    const auto& items = list.at("items").as_array();
    ASSERT_FALSE(items.empty());
    boost::json::array shown;
    for (size_t i = 0; i < items.size(); ++i)
      shown.push_back(object{{"product_id", items[i].at("product_id")}, {"position", i + 1}});
    const std::string first(items[0].at("product_id").as_string());
    std::vector<object> events = {{{"type", "recommendation_view"},
                                   {"recommendation_id", list.at("recommendation_id")},
                                   {"placement", "home"},
                                   {"model_version", list.at("model")},
                                   {"items", shown}},
                                  {{"type", "recommendation_click"},
                                   {"recommendation_id", list.at("recommendation_id")},
                                   {"placement", "home"},
                                   {"model_version", list.at("model")},
                                   {"product_id", first},
                                   {"position", 1}},
                                  {{"type", "add_to_cart"}, {"product_id", first}, {"quantity", 1}}};
    if (variant == "fused")
      events.push_back({{"type", "add_to_cart"}, {"product_id", "p-0-9"}, {"quantity", 1}});
    env.Events(subject, std::move(events));
  }

  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/admin/recommendations/experiment", "user:shopper-1").status,
            403);
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/admin/recommendations/experiment", "").status, 401);
  std::map<std::string, object> stats;
  const auto until = Steady::now() + std::chrono::seconds(10);
  while (Steady::now() < until) {
    auto r =
        env.Call(http::Method::kGet, "/v1/admin/recommendations/experiment", "user:admin", "", {"admin"});
    ASSERT_EQ(r.status, 200) << r.body;
    object o = ::emporium::testing::ParseObject(r.body);
    EXPECT_EQ(::emporium::testing::Str(o, "experiment"), "test-1");
    for (const auto& v : o.at("variants").as_array())
      stats[std::string(v.at("name").as_string())] = v.as_object();
    if (stats["fused"].at("add_to_cart").to_number<double>() >= 1 &&
        stats["popularity"].at("add_to_cart").to_number<double>() >= 1)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (const std::string variant : {"fused", "popularity"}) {
    const object& s = stats[variant];
    const double shown =
        static_cast<double>(lists[by_variant[variant].front()].at("items").as_array().size());
    EXPECT_EQ(s.at("strategy").as_string(), variant);
    EXPECT_GE(s.at("served").to_number<double>(), 2.0 * static_cast<double>(by_variant[variant].size()));
    EXPECT_EQ(s.at("impressions").to_number<double>(), shown) << variant;
    EXPECT_EQ(s.at("clicks").to_number<double>(), 1) << variant;
    EXPECT_DOUBLE_EQ(s.at("ctr").to_number<double>(), 1 / shown) << variant;
    EXPECT_EQ(s.at("add_to_cart").to_number<double>(), 1) << variant << ": only the clicked product counts";
    EXPECT_EQ(s.at("conversions").to_number<double>(), 0) << variant;
  }
  const std::string metrics = env.Metrics();
  EXPECT_NE(metrics.find("recommend_clicks_total{variant=\"popularity\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("recommend_add_to_cart_total{variant=\"fused\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace emporium::recommend

namespace emporium::recommend {
namespace {

// With catalog and search in the runtime: GET /v1/products/{id}/similar is recommend's product
// list, and a product nobody viewed has neighbours by its text (search's product vectors, the
// real sentence encoder that `make deps` installs).
TEST(RecommendModule, ANewProductsSimilarItemsComeFromItsTextThroughCatalog) {
  auto model = ml::SharedEncoder(ml::DefaultModelRoot() / ml::kMiniLmDirName);
  ASSERT_TRUE(model.ok()) << "the sentence encoder is part of the build (make deps)";
  Env env(
      {},
      {"--catalog-demo-size=40", "--search-semantic=true", "--model-dir=" + ml::DefaultModelRoot().string()},
      {catalog::Module(), search::Module(), behavior::Module(), Module()});
  ASSERT_TRUE(env.Start().ok());
  const auto id = [](int n) {
    std::string digits = std::to_string(n);
    return "p-" + std::string(6 - digits.size(), '0') + digits;
  };
  for (int u = 0; u < 12; ++u) {
    std::vector<std::string> ids;
    for (int k = 0; k < 5; ++k) ids.push_back(id(1 + (u + k * 4) % 20));
    env.View("user:shopper-" + std::to_string(u), ids);
  }

  const std::string cold = id(35);  // nobody viewed it
  const auto similar_by_text = [&] {
    auto r = env.Call(http::Method::kGet, "/v1/internal/search/similar?limit=20&ids=" + cold, "client:test");
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> out;
    const object o = ::emporium::testing::ParseObject(r.body);
    if (!o.contains("items")) return out;
    for (const auto& item : o.at("items").as_array()) out.emplace(item.at("id").as_string());
    return out;
  };
  // The catalog is embedded before the model is awaited: an unoptimized (sanitizer) build spends
  // most of a minute in the encoder, and the trainer would share the two cores with it.
  std::set<std::string> by_text;
  for (const auto until = Steady::now() + std::chrono::seconds(180); Steady::now() < until;) {
    by_text = similar_by_text();
    if (by_text.size() == 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(by_text.size(), 20u);
  env.WaitForModel(60);

  auto product = env.Call(http::Method::kGet, "/v1/products/" + cold, "");
  ASSERT_EQ(product.status, 200);
  const std::string title(::emporium::testing::ParseObject(product.body).at("title").as_string());
  object list;
  for (const auto until = Steady::now() + std::chrono::seconds(20); Steady::now() < until;) {
    auto r = env.Call(http::Method::kGet, "/v1/products/" + cold + "/similar?limit=5", "");
    ASSERT_EQ(r.status, 200) << r.body;
    list = ::emporium::testing::ParseObject(r.body);
    const auto& items = list.at("items").as_array();
    if (!items.empty() && items[0].at("source").as_string() == "content") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // recommend pauses after a failed ask
  }
  EXPECT_EQ(list.at("placement").as_string(), "product");
  const auto& items = list.at("items").as_array();
  ASSERT_FALSE(items.empty());
  for (const auto& item : items) {
    const std::string pid(item.at("product_id").as_string());
    EXPECT_NE(pid, cold);
    if (item.at("source").as_string() != "content") continue;
    EXPECT_TRUE(by_text.contains(pid)) << pid << " is not like it by text";
    EXPECT_EQ(item.at("reason").as_string(), "Similar to " + title);
  }
  EXPECT_EQ(items[0].at("source").as_string(), "content") << json::Dump(list);

  auto missing = env.Call(http::Method::kGet, "/v1/products/p-999999/similar", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.Get("Content-Type").value_or(""), "application/problem+json");
  auto bad = env.Call(http::Method::kGet, "/v1/products/" + cold + "/similar?limit=0", "");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("limit"), std::string::npos);
}

}  // namespace
}  // namespace emporium::recommend
