// The search module in a Runtime over a temp data dir with the embedded bus: catalog events make
// products searchable within a second, HTTP shapes and validation, catch-up of a new index, and
// the rebuild from catalog's API.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/core/clock.h"
#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/core/rfc3339.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/gbdt/gbdt.h"
#include "platform/ml/registry/registry.h"
#include "platform/module/testing.h"
#include "platform/rpc/rpc.h"
#include "services/search/api.h"
#include "services/search/generate.h"
#include "services/search/http.h"
#include "services/search/ltr.h"
#include "services/search/rebuild.h"

namespace emporium::search {
namespace {

using Clock = std::chrono::steady_clock;

class Env {
 public:
  explicit Env(std::filesystem::path dir = {}, std::vector<std::string> flags = {})
      : dir_("search", std::move(dir)),
        rt_(dir_.path(), {Module()}, ::emporium::testing::JoinFlags({"--search-semantic=false"}, flags)) {}

  Status Start() { return rt_.Start(); }

  void Publish(const std::string& topic, const std::string& type, const std::string& key,
               const std::string& data) {
    if (!producer_) {
      auto bus = rt().Bus();
      ASSERT_TRUE(bus.ok());
      ASSERT_TRUE((*bus)->EnsureTopic(topic, kTopicPartitions).ok());
      auto p = (*bus)->NewProducer();
      ASSERT_TRUE(p.ok());
      producer_ = std::move(p).value();
    }
    auto bus = rt().Bus();
    ASSERT_TRUE((*bus)->EnsureTopic(topic, kTopicPartitions).ok());
    ASSERT_TRUE(producer_->Publish(topic, key, bus::MakeEvent("/emporium/catalog", type, key, data)).ok());
  }
  void PublishProduct(const ProductSpec& s, const std::string& type = "catalog.product.created") {
    Publish(std::string(kProductTopic), type, s.id, ProductJson(s));
  }

  http::Response Get(const std::string& target) {
    http::Request req = http::NewRequest(http::Method::kGet, target);
    req.remote_addr = "198.51.100.7";
    return rt().Dispatch(req);
  }
  boost::json::object Search(const std::string& query, const std::string& subject = "") {
    http::Request req = http::NewRequest(http::Method::kGet, "/v1/search?" + query);
    req.remote_addr = "198.51.100.7";
    if (!subject.empty()) {
      auth::Principal p;
      p.subject = subject;
      p.roles = {"customer"};
      req.principal = p;
    }
    auto r = rt().Dispatch(req);
    EXPECT_EQ(r.status, 200) << r.body;
    return ::emporium::testing::ParseObject(r.body);
  }
  // Polls the search until `total` products match, for up to `limit`; returns the time it took.
  Millis WaitFor(const std::string& query, int64_t total, Millis limit = Millis(5000)) {
    auto start = Clock::now();
    while (Clock::now() - start < limit) {
      auto o = Search(query);
      if (o.contains("total") && o.at("total").as_int64() == total) break;
      std::this_thread::sleep_for(Millis(10));
    }
    return std::chrono::duration_cast<Millis>(Clock::now() - start);
  }

  Runtime& rt() { return rt_.rt(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  ::emporium::testing::DataDir dir_;
  ::emporium::testing::TestRuntime rt_;
  std::unique_ptr<bus::Producer> producer_;
};

ProductSpec Lantern(std::string id = "p-000001") {
  ProductSpec s;
  s.id = std::move(id);
  s.title = "Brass Camping Lantern";
  s.brand = "Trailhead";
  s.category_id = "c-15";
  s.category_path = {"Sports & Outdoors", "Camping"};
  s.price = 2999;
  return s;
}

TEST(SearchModule, CatalogEventsAreSearchableWithinOneSecond) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  ProductSpec s = Lantern();
  env.PublishProduct(s);
  EXPECT_LT(env.WaitFor("q=lantern", 1).count(), 1000);

  auto o = env.Search("q=lantern");
  ASSERT_EQ(o.at("items").as_array().size(), 1u);
  const auto& item = o.at("items").as_array()[0].as_object();
  EXPECT_EQ(item.at("id").as_string(), "p-000001");
  EXPECT_EQ(item.at("price").at("amount").as_int64(), 2999);
  EXPECT_TRUE(item.at("score").is_double());
  EXPECT_EQ(o.at("facets").at("category").as_array()[0].at("name").as_string(), "Camping");
  EXPECT_TRUE(o.at("next_page_token").is_null());
  EXPECT_FALSE(o.contains("corrected_query"));

  s.title = "Copper Camping Lantern";
  s.version = 2;
  env.PublishProduct(s, "catalog.product.updated");
  EXPECT_LT(env.WaitFor("q=copper", 1).count(), 1000);
  EXPECT_EQ(env.Search("q=brass").at("total").as_int64(), 0);

  env.Publish(std::string(kInventoryTopic), "inventory.changed", s.id,
              R"({"product_id":"p-000001","available":0,"in_stock":false})");
  EXPECT_LT(env.WaitFor("q=lantern&in_stock=true", 0).count(), 1000);
  EXPECT_EQ(env.Search("q=lantern").at("items").as_array()[0].at("availability").at("in_stock").as_bool(),
            false);

  env.Publish(std::string(kProductTopic), "catalog.product.deleted", s.id, R"({"id":"p-000001"})");
  EXPECT_LT(env.WaitFor("q=lantern", 0).count(), 1000);
}

// The sentence encoder is a real part, like a database: `make deps` installs all-MiniLM-L6-v2
// (scripts/fetch-model.sh), and this test uses it.
std::vector<std::string> SemanticFlags() {
  return {"--search-semantic=true", "--model-dir=" + ml::DefaultModelRoot().string()};
}

std::vector<ProductSpec> MeaningCatalog() {
  auto spec = [](std::string id, std::string title, std::string brand, std::string category,
                 std::string description) {
    ProductSpec s;
    s.id = std::move(id);
    s.title = std::move(title);
    s.brand = std::move(brand);
    s.category_id = "c-" + category;
    s.category_path = {"Shop", category};
    s.description = std::move(description);
    return s;
  };
  return {
      spec("p-parka", "Insulated Down Parka", "Northpeak", "Outerwear",
           "Goose down fill, windproof shell, hood."),
      spec("p-drill", "Cordless Hammer Drill", "Voltix", "Power Tools",
           "18 V motor, two batteries, masonry bits."),
      spec("p-hose", "Garden Hose 50 ft", "Greenline", "Garden",
           "Kink-resistant rubber with brass fittings."),
      spec("p-pans", "Stainless Steel Cookware Set", "Chefmate", "Kitchen", "Ten pieces, induction ready."),
      spec("p-lamp", "LED Desk Lamp", "Lumo", "Lighting", "Dimmable, USB port, flexible neck."),
      spec("p-charger", "Phone Charger 20 W", "Voltix", "Electronics", "USB-C power delivery.")};
}

// Shares no word (and no listed synonym) with the parka's title, brand, category or description.
constexpr const char* kWarmQuery = "q=something+warm+to+wear+when+it+snows";

TEST(SearchModule, SemanticAndHybridFindByMeaningWhereKeywordFindsNothing) {
  auto model = ml::SharedEncoder(ml::DefaultModelRoot() / ml::kMiniLmDirName);
  ASSERT_TRUE(model.ok()) << "the sentence encoder is part of the build (make deps): "
                          << model.status().ToString();
  auto dir = std::filesystem::path(::testing::TempDir()) / ("search-semantic-" + NewUuid());
  {
    Env env(dir, SemanticFlags());
    ASSERT_TRUE(env.Start().ok());
    for (const auto& s : MeaningCatalog()) env.PublishProduct(s);
    env.WaitFor("q=parka", 1);
    auto start = Clock::now();
    boost::json::object semantic;
    while (Clock::now() - start < Millis(20'000)) {
      semantic = env.Search(std::string(kWarmQuery) + "&mode=semantic");
      if (semantic.at("items").as_array().size() == 6) break;  // every product embedded
      std::this_thread::sleep_for(Millis(50));
    }
    EXPECT_EQ(semantic.at("mode").as_string(), "semantic");
    ASSERT_FALSE(semantic.at("items").as_array().empty());
    EXPECT_EQ(semantic.at("items").as_array()[0].at("id").as_string(), "p-parka");

    auto keyword = env.Search(std::string(kWarmQuery) + "&mode=keyword");
    EXPECT_EQ(keyword.at("mode").as_string(), "keyword");
    EXPECT_EQ(keyword.at("total").as_int64(), 0);

    auto hybrid = env.Search(kWarmQuery);  // the default mode
    EXPECT_EQ(hybrid.at("mode").as_string(), "hybrid");
    ASSERT_FALSE(hybrid.at("items").as_array().empty());
    EXPECT_EQ(hybrid.at("items").as_array()[0].at("id").as_string(), "p-parka");
    EXPECT_EQ(hybrid.at("ranker").as_string(), "business-rules");

    // Filters stay exact: the parka is not in Power Tools.
    auto filtered = env.Search(std::string(kWarmQuery) + "&mode=semantic&category=c-Power+Tools");
    ASSERT_EQ(filtered.at("total").as_int64(), 1);
    EXPECT_EQ(filtered.at("items").as_array()[0].at("id").as_string(), "p-drill");
    EXPECT_EQ(filtered.at("facets").at("category").as_array().size(), 1u);

    // A keyword match and a meaning match both count in hybrid.
    auto both = env.Search("q=brass+fittings+for+cooking");
    EXPECT_GE(both.at("total").as_int64(), 2);

    env.Publish(std::string(kProductTopic), "catalog.product.deleted", "p-parka", R"({"id":"p-parka"})");
    env.WaitFor("q=parka", 0);
    start = Clock::now();
    while (Clock::now() - start < Millis(10'000) &&
           env.Search(std::string(kWarmQuery) + "&mode=semantic").at("items").as_array().size() != 5) {
      std::this_thread::sleep_for(Millis(50));
    }
    auto after = env.Search(std::string(kWarmQuery) + "&mode=semantic");
    for (const auto& item : after.at("items").as_array()) {
      EXPECT_NE(item.at("id").as_string(), "p-parka");
    }
  }
  // A restart loads the saved vectors instead of embedding again: answers at once.
  Env again(dir, SemanticFlags());
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(again.Search(std::string(kWarmQuery) + "&mode=semantic").at("items").as_array().size(), 5u);
  std::filesystem::remove_all(dir);
}

// Recommend's content list: products like the given ones by their text, for service clients.
TEST(SearchModule, SimilarProductsAreTheNearestByTextForServiceClients) {
  auto model = ml::SharedEncoder(ml::DefaultModelRoot() / ml::kMiniLmDirName);
  ASSERT_TRUE(model.ok()) << "the sentence encoder is part of the build (make deps)";
  Env env({}, SemanticFlags());
  ASSERT_TRUE(env.Start().ok());
  std::vector<ProductSpec> catalog = MeaningCatalog();
  ProductSpec jacket = catalog.front();
  jacket.id = "p-jacket";
  jacket.title = "Hooded Winter Down Jacket";
  jacket.brand = "Alpwear";
  jacket.description = "Warm down insulation, water-repellent shell.";
  catalog.push_back(jacket);
  for (const auto& s : catalog) env.PublishProduct(s);

  const auto similar = [&](const std::string& query, bool service = true) {
    http::Request req = http::NewRequest(http::Method::kGet, "/v1/internal/search/similar?" + query);
    if (service) req.principal = auth::Principal{.subject = "client:recommend", .client_id = "recommend"};
    return env.rt().Dispatch(req);
  };
  boost::json::array items;
  for (auto start = Clock::now(); Clock::now() - start < Millis(20'000);) {
    auto r = similar("ids=p-parka&limit=10");
    ASSERT_EQ(r.status, 200) << r.body;
    items = ::emporium::testing::ParseObject(r.body).at("items").as_array();
    if (items.size() == catalog.size() - 1) break;  // every product embedded
    std::this_thread::sleep_for(Millis(50));
  }
  ASSERT_EQ(items.size(), catalog.size() - 1);
  EXPECT_EQ(items[0].at("id").as_string(), "p-jacket");
  double last = 2;
  for (const auto& item : items) {
    EXPECT_NE(item.at("id").as_string(), "p-parka") << "never the given product";
    const double similarity = item.at("similarity").to_number<double>();
    EXPECT_LE(similarity, last);
    last = similarity;
  }
  auto two = ::emporium::testing::ParseObject(similar("ids=p-parka,p-jacket&limit=2").body);
  ASSERT_EQ(two.at("items").as_array().size(), 2u);
  for (const auto& item : two.at("items").as_array()) {
    EXPECT_NE(item.at("id").as_string(), "p-parka");
    EXPECT_NE(item.at("id").as_string(), "p-jacket");
  }
  EXPECT_TRUE(::emporium::testing::ParseObject(similar("ids=p-unknown").body).at("items").as_array().empty());

  EXPECT_EQ(similar("ids=p-parka", false).status, 401);
  for (const char* bad : {"", "ids=", "limit=0&ids=p-parka", "ids=p-parka&limit=101", "ids=p-parka&limit=x"})
    EXPECT_EQ(similar(bad).status, 400) << bad;
  std::string many = "ids=";
  for (int i = 0; i < 21; ++i) many += "p-" + std::to_string(i) + ",";
  EXPECT_EQ(similar(many).status, 400);

  Env keyword;
  ASSERT_TRUE(keyword.Start().ok());
  http::Request req = http::NewRequest(http::Method::kGet, "/v1/internal/search/similar?ids=p-parka");
  req.principal = auth::Principal{.subject = "client:recommend", .client_id = "recommend"};
  EXPECT_EQ(keyword.rt().Dispatch(req).status, 503) << "said when product vectors are off";
}

// A ranker over this build's features trained on random rows: any valid model will do here
// (ltr_test checks what a model learns).
std::string TinyRanker() {
  ml::Dataset d;
  d.cols = RankFeatureNames().size();
  Xoshiro256 rng(5);
  for (int g = 0; g < 4; ++g) {
    for (int i = 0; i < 10; ++i) {
      std::vector<float> row(d.cols);
      for (float& v : row) v = static_cast<float>(rng.Next() % 1000) / 1000.0f;
      EXPECT_TRUE(d.AddRow(row, static_cast<float>(i % 3)).ok());
    }
    d.groups.push_back(10);
  }
  ml::TrainParams p = RankerTrainParams();
  p.rounds = 5;
  p.early_stopping_rounds = 0;
  auto booster = ml::Booster::Train(d, nullptr, p);
  EXPECT_TRUE(booster.ok()) << booster.status().ToString();
  return *(*booster)->Save();
}

TEST(SearchModule, ANewlyTrainedRankerAnswersWithoutARestart) {
  auto model = ml::SharedEncoder(ml::DefaultModelRoot() / ml::kMiniLmDirName);
  ASSERT_TRUE(model.ok()) << "the sentence encoder is part of the build (make deps)";
  auto flags = SemanticFlags();
  flags.push_back("--search-model-poll-ms=20");
  Env env({}, flags);
  ASSERT_TRUE(env.Start().ok());
  for (const auto& s : MeaningCatalog()) env.PublishProduct(s);
  env.WaitFor("q=parka", 1);
  EXPECT_EQ(env.Search(kWarmQuery).at("ranker").as_string(), "business-rules") << "nothing trained yet";

  ml::ModelStore store(env.rt().data_dir() / "models", std::string(kRankerModelName));
  std::string features;
  for (const auto& n : RankFeatureNames()) features += n + "\n";
  auto v1 = store.Publish({{"model.ubj", TinyRanker()}, {"features.txt", features}}, "{}");
  ASSERT_TRUE(v1.ok());
  auto ranker_is = [&](const std::string& want) {
    auto start = Clock::now();
    while (Clock::now() - start < Millis(5000)) {
      if (env.Search(kWarmQuery).at("ranker").as_string() == want) return true;
      std::this_thread::sleep_for(Millis(20));
    }
    return false;
  };
  EXPECT_TRUE(ranker_is("ltr@" + v1->version));
  auto hybrid = env.Search(kWarmQuery);
  EXPECT_EQ(hybrid.at("mode").as_string(), "hybrid");
  EXPECT_FALSE(hybrid.at("items").as_array().empty());
  EXPECT_EQ(env.Search(std::string(kWarmQuery) + "&mode=keyword").at("ranker").as_string(), "business-rules");

  // A model of other features is refused; the loaded one keeps answering.
  auto bad = store.Publish({{"model.ubj", TinyRanker()}, {"features.txt", "bm25\n"}}, "{}");
  ASSERT_TRUE(bad.ok());
  std::this_thread::sleep_for(Millis(200));
  EXPECT_EQ(env.Search(kWarmQuery).at("ranker").as_string(), "ltr@" + v1->version);
}

// A personal ranker that learned one thing: the shopper's share of a product's category wins.
std::string CategoryLovingRanker() {
  ml::Dataset d;
  d.cols = PersonalRankFeatureNames().size();
  const size_t share = RankFeatureNames().size() + 1;  // PersonalFeatureNames()[1]
  EXPECT_EQ(PersonalRankFeatureNames()[share], "category_share");
  Xoshiro256 rng(6);
  for (int i = 0; i < 400; ++i) {
    std::vector<float> row(d.cols, 0.0f);
    row[share] = static_cast<float>(rng.Next() % 100) / 100.0f;
    EXPECT_TRUE(d.AddRow(row, row[share] > 0.5f ? 1.0f : 0.0f).ok());
  }
  ml::TrainParams p;
  p.rounds = 10;
  auto booster = ml::Booster::Train(d, nullptr, p);
  EXPECT_TRUE(booster.ok()) << booster.status().ToString();
  return *(*booster)->Save();
}

TEST(SearchModule, ShoppersGetARankingOfTheirOwnThatSurvivesARestart) {
  auto model = ml::SharedEncoder(ml::DefaultModelRoot() / ml::kMiniLmDirName);
  ASSERT_TRUE(model.ok()) << "the sentence encoder is part of the build (make deps)";
  auto dir = std::filesystem::path(::testing::TempDir()) / ("search-personal-" + NewUuid());
  auto flags = SemanticFlags();
  flags.push_back("--search-model-poll-ms=20");
  std::string version;
  auto first_for = [](Env& env, const std::string& subject, const std::string& extra = "") {
    auto o = env.Search(std::string(kWarmQuery) + extra, subject);
    const auto& items = o.at("items").as_array();
    return std::make_pair(std::string(o.at("ranker").as_string()),
                          items.empty() ? std::string() : std::string(items[0].at("id").as_string()));
  };
  {
    Env env(dir, flags);
    ASSERT_TRUE(env.Start().ok());
    for (const auto& s : MeaningCatalog()) env.PublishProduct(s);
    env.WaitFor("q=parka", 1);
    auto embedded = Clock::now();
    while (Clock::now() - embedded < Millis(10'000) &&
           env.Search(std::string(kWarmQuery) + "&mode=semantic").at("items").as_array().size() != 6)
      std::this_thread::sleep_for(Millis(20));
    ml::ModelStore store(env.rt().data_dir() / "models", std::string(kRankerModelName));
    std::string features;
    for (const auto& n : PersonalRankFeatureNames()) features += n + "\n";
    auto v = store.Publish({{"model.ubj", CategoryLovingRanker()}, {"features.txt", features}}, "{}");
    ASSERT_TRUE(v.ok());
    version = v->version;
    // What the behavior module publishes when u1 puts the desk lamp in the cart.
    env.Publish("behavior", "behavior.add_to_cart", "user:u1",
                R"({"user_id":"user:u1","type":"add_to_cart","time":")" +
                    FormatRfc3339UnixMillis(UnixMillis(SystemClock::Get().WallNow())) +
                    R"(","product_id":"p-lamp","quantity":1})");
    auto start = Clock::now();
    while (Clock::now() - start < Millis(5000) &&
           first_for(env, "user:u1").first != "ltr@" + version + "+personal")
      std::this_thread::sleep_for(Millis(20));
    EXPECT_EQ(first_for(env, "user:u1"),
              std::make_pair("ltr@" + version + "+personal", std::string("p-lamp")))
        << "the lamp shopper's lighting first";
    auto anonymous = first_for(env, "");
    EXPECT_EQ(anonymous.first, "ltr@" + version);
    EXPECT_NE(anonymous.second, "p-lamp");
    EXPECT_EQ(first_for(env, "user:u2").first, "ltr@" + version) << "another shopper has no profile";
    EXPECT_EQ(first_for(env, "user:u1", "&personalize=false").first, "ltr@" + version);
  }
  Env again(dir, flags);
  ASSERT_TRUE(again.Start().ok());
  auto start = Clock::now();
  while (Clock::now() - start < Millis(5000) && first_for(again, "user:u1").first.rfind("ltr@", 0) != 0)
    std::this_thread::sleep_for(Millis(20));
  EXPECT_EQ(first_for(again, "user:u1"),
            std::make_pair("ltr@" + version + "+personal", std::string("p-lamp")))
      << "the profile is replayed from the activity log";
  std::filesystem::remove_all(dir);
}

TEST(SearchModule, WithoutTheModelSearchFallsBackToKeyword) {
  auto missing = std::filesystem::path(::testing::TempDir()) / ("no-models-" + NewUuid());
  Env env({}, {"--search-semantic=true", "--model-dir=" + missing.string()});
  ASSERT_TRUE(env.Start().ok());
  env.PublishProduct(Lantern());
  env.WaitFor("q=lantern", 1);
  auto o = env.Search("q=lantern&mode=semantic");
  EXPECT_EQ(o.at("mode").as_string(), "keyword");
  EXPECT_EQ(o.at("total").as_int64(), 1);
  auto bad = env.Get("/v1/search?q=lantern&mode=fuzzy");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("mode"), std::string::npos);
}

TEST(SearchModule, MalformedEventsAreSkipped) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  env.Publish(std::string(kProductTopic), "catalog.product.created", "p-bad", R"({"id":"p-bad"})");
  env.Publish(std::string(kInventoryTopic), "inventory.changed", "p-bad", R"({"nothing":1})");
  env.PublishProduct(Lantern());
  EXPECT_LT(env.WaitFor("q=lantern", 1).count(), 1000);
}

TEST(SearchModule, ANewIndexCatchesUpFromTheStartOfTheTopics) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("search-catchup-" + NewUuid());
  {
    Env env(dir);
    ASSERT_TRUE(env.Start().ok());
    for (const auto& s : GenerateProducts(50, 3)) env.PublishProduct(s);
    env.PublishProduct(Lantern("p-lantern"));
    env.WaitFor("q=lantern", 1);
  }
  std::filesystem::remove_all(dir / "search");
  Env again(dir);
  ASSERT_TRUE(again.Start().ok());
  again.WaitFor("", 51);
  EXPECT_EQ(again.Search("").at("total").as_int64(), 51);
}

TEST(SearchModule, ValidationErrorsAreProblems) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  for (const char* q : {"page_size=0", "page_size=101", "page_size=x", "page_token=zzz", "min_price=-1",
                        "min_price=10&max_price=5", "in_stock=maybe"}) {
    auto r = env.Get(std::string("/v1/search?q=a&") + q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_NE(r.body.find("\"errors\""), std::string::npos) << q << r.body;
  }
  EXPECT_EQ(env.Get("/v1/search?q=" + std::string(600, 'a')).status, 400);
}

TEST(SearchModule, PaginatesWithTokensAndCorrectsSpelling) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  for (const auto& s : GenerateProducts(300, 11)) env.PublishProduct(s);
  env.WaitFor("", 300);
  auto first = env.Search("q=headphones&page_size=5");
  int64_t total = first.at("total").as_int64();
  ASSERT_GT(total, 5);
  std::set<std::string> ids;
  boost::json::object page = first;
  for (int pages = 0; pages < 100; ++pages) {
    for (const auto& item : page.at("items").as_array()) ids.insert(std::string(item.at("id").as_string()));
    if (page.at("next_page_token").is_null()) break;
    page = env.Search("q=headphones&page_size=5&page_token=" +
                      std::string(page.at("next_page_token").as_string()));
  }
  EXPECT_EQ(static_cast<int64_t>(ids.size()), total);

  auto fixed = env.Search("q=hedphones");
  EXPECT_EQ(fixed.at("corrected_query").as_string(), "headphones");
  EXPECT_EQ(fixed.at("total").as_int64(), total);

  auto suggest = env.Get("/v1/search/suggest?q=headph");
  EXPECT_EQ(suggest.status, 200);
  EXPECT_NE(suggest.body.find("eadphones"), std::string::npos) << suggest.body;
}

TEST(SearchModule, RebuildRequiresAnAdmin) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  http::Request req;
  req.method = http::Method::kPost;
  req.path = req.target = "/v1/search/rebuild";
  EXPECT_EQ(env.rt().Dispatch(req).status, 401);
}

TEST(Rebuild, ReindexesEveryCatalogPageAndDropsWhatIsGone) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("search-rebuild-" + NewUuid());
  auto index = Index::Open(dir);
  ASSERT_TRUE(index.ok());
  auto stale = ParseProduct(ProductJson(Lantern("p-gone")));
  ASSERT_TRUE((*index)->Upsert(*stale).ok());
  ASSERT_TRUE((*index)->Commit().ok());

  const auto products = GenerateProducts(250, 5);
  int calls = 0;
  auto catalog = rpc::NewLocalClient("catalog", [&](http::Request& req) {
    ++calls;
    size_t offset = 0;
    if (auto t = req.QueryParam("page_token")) offset = std::stoul(*t);
    size_t size = std::stoul(req.QueryParam("page_size").value_or("20"));
    std::string body = "{\"items\":[";
    for (size_t i = offset; i < std::min(products.size(), offset + size); ++i) {
      body += (i > offset ? "," : "") + ProductJson(products[i]);
    }
    body += "],\"next_page_token\":";
    body += offset + size < products.size() ? "\"" + std::to_string(offset + size) + "\"" : "null";
    return http::Response::Json(200, body + "}");
  });
  auto n = Rebuild(**index, *catalog);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 250);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(*(*index)->Size(), 250);
  auto ids = (*index)->ProductIds();
  EXPECT_EQ(std::count(ids->begin(), ids->end(), "p-gone"), 0);

  auto failing =
      rpc::NewLocalClient("catalog", [](http::Request&) { return http::Response::Json(503, "{}"); });
  EXPECT_EQ(Rebuild(**index, *failing).status().code(), Code::kUnavailable);
  index->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace emporium::search
