// Personalized search: shopper profiles and their features, the activity the search module
// keeps, the position-bias corrected click model, the personal ranker at serving, and the whole
// loop on a small simulation measured against its ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "platform/core/random.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/registry/registry.h"
#include "services/catalog/api.h"
#include "services/search/activity.h"
#include "services/search/clicks.h"
#include "services/search/ltr.h"
#include "services/search/personal.h"
#include "services/search/simulated.h"
#include "services/search/train.h"
#include "sim/offline.h"
#include "sim/world.h"

namespace emporium::search {
namespace {

constexpr int64_t kDay = 86'400'000;

float Feature(const std::vector<float>& row, std::string_view name) {
  const auto& names = PersonalFeatureNames();
  return row.at(static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin()));
}

TEST(UserProfile, SharesDecayAndTheRecentProducts) {
  UserProfile p;
  EXPECT_TRUE(p.empty());
  const int64_t t0 = 1'700'000'000'000;
  p.Add(Signal::kView, "a", ProductFacts{"shoes", "Acme", 5000}, t0);
  p.Add(Signal::kPurchase, "b", ProductFacts{"shoes", "Bolt", 5000}, t0);
  p.Add(Signal::kView, "c", ProductFacts{"hats", "Acme", 500}, t0);
  EXPECT_DOUBLE_EQ(p.total(), 7);
  EXPECT_NEAR(p.CategoryShare("shoes"), 6.0 / 7, 1e-9);
  EXPECT_NEAR(p.BrandShare("Bolt"), 5.0 / 7, 1e-9);
  EXPECT_EQ(p.CategoryShare("lamps"), 0);
  EXPECT_LT(p.PriceGap(5000), p.PriceGap(500)) << "bought at 50, looked at 5 once";
  EXPECT_TRUE(std::isnan(p.PriceGap(0)));
  // One half-life later, a hat purchase outweighs the old shoes.
  p.Add(Signal::kPurchase, "d", ProductFacts{"hats", "Cap", 800},
        t0 + static_cast<int64_t>(kHalfLifeDays * kDay));
  EXPECT_NEAR(p.total(), 3.5 + 5, 1e-9);
  EXPECT_GT(p.CategoryShare("hats"), p.CategoryShare("shoes"));
  p.Add(Signal::kView, "a", ProductFacts{"shoes", "Acme", 5000},
        t0 + static_cast<int64_t>(kHalfLifeDays * kDay));
  EXPECT_EQ(std::vector<std::string>(p.recent().begin(), p.recent().end()),
            (std::vector<std::string>{"a", "d", "c", "b"}))
      << "newest first, each product once";

  UserProfile guest;
  guest.Add(Signal::kCart, "g", ProductFacts{"lamps", "Lux", 3000},
            t0 + static_cast<int64_t>(kHalfLifeDays * kDay));
  const double before = p.total();
  p.Absorb(guest);
  EXPECT_NEAR(p.total(), before + 3, 1e-9);
  EXPECT_GT(p.CategoryShare("lamps"), 0);
}

TEST(UserProfile, FeaturesAreMissingWithoutAProfile) {
  Hit h;
  h.category = "shoes";
  h.brand = "Acme";
  h.price = 5000;
  std::vector<float> row;
  AppendPersonalFeatures(nullptr, h, 0.5f, row);
  ASSERT_EQ(row.size(), PersonalFeatureNames().size());
  for (float v : row) EXPECT_TRUE(std::isnan(v));
  UserProfile p;
  p.Add(Signal::kView, "a", ProductFacts{"shoes", "Acme", 5000}, 1);
  row.clear();
  AppendPersonalFeatures(&p, h, 0.5f, row);
  EXPECT_FLOAT_EQ(Feature(row, "category_share"), 1);
  EXPECT_FLOAT_EQ(Feature(row, "brand_share"), 1);
  EXPECT_FLOAT_EQ(Feature(row, "price_gap"), 0);
  EXPECT_FLOAT_EQ(Feature(row, "recent_similarity"), 0.5f);
  EXPECT_NEAR(Feature(row, "user_activity"), std::log1p(1.0), 1e-6);
}

bus::Event EventOf(std::string type, std::string data) {
  bus::Event e;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

TEST(Activity, BehaviourAndOrderEventsBecomeActivitiesAndLinesRoundTrip) {
  auto search = ActivitiesOf(EventOf(
      "behavior.search",
      R"({"user_id":"user:u1","type":"search","time":"2026-01-05T00:00:01Z","search_id":"s1","query":"red shoe",)"
      R"("results":[{"product_id":"p2","position":2},{"product_id":"p1","position":1}]})"));
  ASSERT_TRUE(search.ok()) << search.status().ToString();
  ASSERT_EQ(search->size(), 1u);
  const Activity& s = search->front();
  EXPECT_EQ(s.kind, ActivityKind::kSearch);
  EXPECT_EQ(s.user, "user:u1");
  EXPECT_EQ(s.results, (std::vector<std::string>{"p1", "p2"})) << "in position order";
  EXPECT_EQ(s.at_ms, 1767571201000);

  auto order = ActivitiesOf(EventOf(
      "order.confirmed",
      R"({"user_id":"u1","at":"2026-01-05T00:00:09Z","items":[{"product_id":"p1","quantity":1},{"product_id":"p3","quantity":2}]})"));
  ASSERT_TRUE(order.ok());
  ASSERT_EQ(order->size(), 2u);
  EXPECT_EQ((*order)[1].kind, ActivityKind::kPurchase);
  EXPECT_EQ((*order)[1].user, "user:u1");
  EXPECT_EQ((*order)[1].product_id, "p3");

  EXPECT_TRUE(ActivitiesOf(EventOf("behavior.page_view", R"({"user_id":"user:u1","type":"page_view",)"
                                                         R"("time":"2026-01-05T00:00:01Z","page":"/"})"))
                  ->empty());
  EXPECT_TRUE(ActivitiesOf(EventOf("order.created", "{}"))->empty()) << "only confirmed orders are purchases";
  EXPECT_EQ(ActivitiesOf(EventOf("behavior.product_view", R"({"user_id":"user:u1","type":"product_view",)"
                                                          R"("time":"2026-01-05T00:00:01Z"})"))
                .status()
                .code(),
            Code::kInvalidArgument);
  auto merge =
      GuestMerge(EventOf("behavior.guest_merged", R"({"guest_id":"g1","user_id":"user:u1","events":3})"));
  ASSERT_TRUE(merge);
  EXPECT_EQ(merge->first, "guest:g1");

  const auto file = std::filesystem::path(::testing::TempDir()) / ("activity-" + RandomHex(6) + ".jsonl");
  {
    std::ofstream out(file);
    out << ActivityLine(s) << "\n"
        << ActivityLine((*order)[0]) << "\n"
        << R"({"t":12,"u":"us)";
  }
  auto back = ReadActivityLog(file);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u) << "a torn last line (a crash while appending) is skipped";
  EXPECT_EQ((*back)[0].query, "red shoe");
  EXPECT_EQ((*back)[0].results, s.results);
  EXPECT_EQ((*back)[1].product_id, "p1");
  std::filesystem::remove(file);
}

// Clicks from a position-based model where better products are shown higher, as a ranker
// shows them: the click rate by position then overstates how much lower positions are ignored.
TEST(ClickModel, RegressionEmRecoversThePositionBias) {
  Xoshiro256 rng(5);
  auto uniform = [&] { return static_cast<double>(rng.Next() >> 11) * 0x1.0p-53; };
  ml::Dataset data;
  std::vector<uint8_t> position;
  std::vector<double> shown(kClickDepth, 0), clicks(kClickDepth, 0);
  for (int s = 0; s < 4000; ++s) {
    for (size_t k = 0; k < kClickDepth; ++k) {
      const double relevance = std::clamp(uniform() * (1.0 - 0.07 * static_cast<double>(k)), 0.0, 1.0);
      const double examined = std::pow(1.0 / static_cast<double>(k + 1), 0.9);
      const bool click = uniform() < examined * relevance;
      std::vector<float> row{static_cast<float>(relevance), static_cast<float>(uniform())};
      ASSERT_TRUE(data.AddRow(row, click ? 1.0f : 0.0f).ok());
      position.push_back(static_cast<uint8_t>(k));
      shown[k] += 1;
      clicks[k] += click;
    }
  }
  ClickModelParams params = DefaultClickModelParams();
  params.trees.rounds = 200;
  params.trees.eta = 0.3;
  auto m = FitClickModel(data, position, params);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  double worst_em = 0, worst_naive = 0;
  for (size_t k = 1; k < kClickDepth; ++k) {
    const double truth = std::pow(1.0 / static_cast<double>(k + 1), 0.9);
    const double em = m->examination[k] / m->examination[0];
    const double naive = (clicks[k] / shown[k]) / (clicks[0] / shown[0]);
    worst_em = std::max(worst_em, std::fabs(em - truth));
    worst_naive = std::max(worst_naive, std::fabs(naive - truth));
  }
  EXPECT_LT(worst_em, 0.06);
  EXPECT_GT(worst_naive, 2 * worst_em) << "the click-rate ratio is biased by where good products are shown";
  auto p = m->booster->Predict(std::vector<float>{0.9f, 0.5f, 0.1f, 0.5f});
  ASSERT_TRUE(p.ok());
  EXPECT_GT((*p)[0], (*p)[1] + 0.3) << "relevance is learned apart from position";
}

class PersonalRankerTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = std::filesystem::path(::testing::TempDir()) / ("ltr-" + RandomHex(6)); }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

// A personal model that learned "the shopper's category wins" serves it to the shopper only.
TEST_F(PersonalRankerTest, ServesTheShoppersTasteOnlyToThem) {
  ml::Dataset data;
  const size_t cols = PersonalRankFeatureNames().size();
  const size_t share = RankFeatureNames().size() +
                       static_cast<size_t>(std::find(PersonalFeatureNames().begin(),
                                                     PersonalFeatureNames().end(), "category_share") -
                                           PersonalFeatureNames().begin());
  Xoshiro256 rng(9);
  for (int i = 0; i < 2000; ++i) {
    std::vector<float> row(cols, 0.0f);
    const float s = static_cast<float>(rng.Next() % 100) / 100.0f;
    row[share] = s;
    ASSERT_TRUE(data.AddRow(row, s > 0.5f ? 1.0f : 0.0f).ok());
  }
  ClickModelParams params = DefaultClickModelParams();
  params.trees.rounds = 20;
  auto booster = ml::Booster::Train(data, nullptr, params.trees);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  std::string features;
  for (const auto& n : PersonalRankFeatureNames()) features += n + "\n";
  ml::ModelStore store(root_, std::string(kRankerModelName));
  auto a = store.Publish({{"model.ubj", *(*booster)->Save()}, {"features.txt", features}}, "{}");
  ASSERT_TRUE(a.ok());
  auto model = LoadRankerModel(store, *a);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)->personal);

  ProfileBook book;
  book.Add("user:fan", Signal::kPurchase, "x", ProductFacts{"hats", "Cap", 900}, 1);
  LearnedRanker ranker;
  ranker.SetPersonalization(&book, {});
  ranker.Swap(*model);
  auto candidates = [] {
    std::vector<Hit> hits;
    for (int i = 0; i < 4; ++i) {
      Hit h;
      h.product_id = "p" + std::to_string(i);
      h.title = "thing";
      h.category = i == 2 ? "hats" : "shoes";
      h.in_stock = true;
      hits.push_back(h);
    }
    return hits;
  };
  auth::Principal fan;
  fan.subject = "user:fan";
  auth::Principal other;
  other.subject = "user:other";
  const Query q{.text = "thing", .mode = SearchMode::kHybrid};
  std::vector<Hit> hits = candidates();
  EXPECT_EQ(ranker.Rerank(q, fan, hits), "ltr@" + a->version + "+personal");
  EXPECT_EQ(hits.front().product_id, "p2") << "the hat for the hat buyer";
  hits = candidates();
  EXPECT_EQ(ranker.Rerank(q, other, hits), "ltr@" + a->version) << "a shopper without a profile";
  EXPECT_EQ(hits.front().product_id, "p0");
  hits = candidates();
  EXPECT_EQ(ranker.Rerank(q, std::nullopt, hits), "ltr@" + a->version) << "anonymous, or personalize=false";
  EXPECT_EQ(hits.front().product_id, "p0");
}

// A stop request (the module shutting down) ends a training from the activity log unpublished.
TEST_F(PersonalRankerTest, AStoppedTrainingPublishesNothing) {
  auto index = Index::Open(root_ / "index");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  Activity search{.at_ms = 1,
                  .user = "user:a",
                  .kind = ActivityKind::kSearch,
                  .search_id = "s1",
                  .query = "thing",
                  .results = {"p1", "p2"}};
  Activity click{.at_ms = 2,
                 .user = "user:a",
                 .kind = ActivityKind::kSearchClick,
                 .product_id = "p2",
                 .search_id = "s1",
                 .position = 2};
  const std::vector<Activity> activities{search, click};
  auto few = TrainFromActivity(**index, nullptr, activities, root_ / "models", 5);
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), Code::kFailedPrecondition) << few.status().ToString();
  std::stop_source stop;
  stop.request_stop();
  auto stopped = TrainFromActivity(**index, nullptr, activities, root_ / "models", 1, stop.get_token());
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), Code::kCancelled) << stopped.status().ToString();
  EXPECT_FALSE(ml::ModelStore(root_ / "models", std::string(kRankerModelName)).Current().ok());
}

// The whole loop on a small offline simulation: train on the first three quarters of its clicks,
// score at the cut against the truth. Keyword candidates (no encoder in tests).
TEST(SimulatedEval, PersonalizationBeatsTheSameRankerWithoutTheShopper) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("sim-" + RandomHex(6));
  std::vector<std::string> docs = catalog::DemoProductDocuments(42, 1500, 0);
  sim::SimCatalog catalog;
  for (const std::string& d : docs) catalog.products.push_back(*sim::ParseProduct(d));
  catalog.Index();
  sim::World world(std::move(catalog), 11);
  sim::Population population = sim::Population::Make(world, sim::PopulationOptions{600, 0.0, 11});
  sim::OfflineOptions options;
  options.out_dir = dir;
  options.seed = 11;
  options.schedule.start_ms = 1'767'571'200'000;  // 2026-01-05
  options.schedule.end_ms = options.schedule.start_ms + 21 * kDay;
  ASSERT_TRUE(sim::RunOffline(world, population, options).ok());

  SimulatedEvalOptions eval;
  eval.catalog_documents = docs;
  eval.queries = 600;
  eval.params.trees.rounds = 60;
  auto r = EvaluateSimulated(dir, eval, ::testing::TempDir());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->queries, 300u);
  EXPECT_GT(r->train_searches, 500u);
  EXPECT_GT(r->personal_ndcg, r->personal_withheld_ndcg + 0.01);
  EXPECT_GT(r->personal_ndcg, r->plain_ndcg);
  ASSERT_EQ(r->examination.size(), kClickDepth);
  EXPECT_NEAR(r->examination[1], r->true_examination[1], 0.15);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace emporium::search
