// Serving the learned ranker (Strategy::kRanked): on a graph of planted groups, the trained
// models rank the generators' candidates with the trees, the lists keep serving's filters and
// reasons, the ranker survives an artifact round trip, and without a ranker kRanked is kFused.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/registry/registry.h"
#include "services/recommend/graph.h"
#include "services/recommend/lifecycle.h"
#include "services/recommend/recommender.h"

namespace emporium::recommend {
namespace {

constexpr int kItems = 100;
constexpr int kUsers = 600;
constexpr int64_t kStartMs = 1'780'000'000'000;

std::string ItemId(int i) {
  return "i" + std::to_string(i);
}
std::string UserId(int u) {
  return "user:u" + std::to_string(u);
}
int GroupOf(int item) {
  return item / 25;
}

// Four groups of shoppers, each viewing 12 items of its own block of 25 and one item anywhere.
// Categories cut across the blocks (item % 4), so the category cap leaves a block's items room.
void Plant(Graph& graph, uint64_t seed) {
  for (int i = 0; i < kItems; ++i)
    graph.SetFacts(ItemFacts{.id = ItemId(i),
                             .title = "Item " + std::to_string(i),
                             .category = "C" + std::to_string(i % 4),
                             .price = 1000 + i});
  Xoshiro256 rng(seed);
  std::vector<LiveInteraction> batch;
  int64_t at = kStartMs;
  for (int u = 0; u < kUsers; ++u) {
    std::set<int> items;
    while (items.size() < 12) items.insert((u % 4) * 25 + static_cast<int>(rng.Next() % 25));
    items.insert(static_cast<int>(rng.Next() % kItems));
    for (int i : items) batch.push_back({UserId(u), ItemId(i), Signal::kView, at += 1000});
  }
  graph.Add(batch);
}

ModelOptions SmallOptions() {
  ModelOptions o = DefaultModelOptions();
  o.als.factors = 8;
  o.als.iterations = 10;
  o.als.regularization = 1;
  o.als.threads = 2;
  o.ranker_min_users = 100;
  o.ranker_min_interactions = 1000;
  return o;
}

RecommendRequest Home(const std::string& subject, Strategy strategy) {
  return RecommendRequest{
      .placement = Placement::kHome, .subject = subject, .limit = 10, .strategy = strategy};
}

int InGroup(const Recommendations& r, int group) {
  int n = 0;
  for (const RecommendedItem& item : r.items) n += GroupOf(std::stoi(item.product_id.substr(1))) == group;
  return n;
}

std::set<std::string> Ids(const Recommendations& r) {
  std::set<std::string> out;
  for (const RecommendedItem& item : r.items) out.insert(item.product_id);
  return out;
}

void ExpectSameLists(const Recommendations& a, const Recommendations& b) {
  EXPECT_EQ(a.strategy, b.strategy);
  ASSERT_EQ(a.items.size(), b.items.size());
  for (size_t n = 0; n < a.items.size(); ++n) {
    EXPECT_EQ(a.items[n].product_id, b.items[n].product_id) << n;
    EXPECT_EQ(a.items[n].score, b.items[n].score) << n;
    EXPECT_EQ(a.items[n].reason, b.items[n].reason) << n;
    EXPECT_EQ(a.items[n].source, b.items[n].source) << n;
  }
}

class RankedServing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    graph_ = new Graph();
    Plant(*graph_, 7);
    auto m = TrainModels(graph_->Snapshot(), SmallOptions());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    models_ = new std::shared_ptr<Models>(*m);
  }
  static void TearDownTestSuite() {
    delete models_;
    delete graph_;
  }
  static Graph* graph_;
  static std::shared_ptr<Models>* models_;
};
Graph* RankedServing::graph_ = nullptr;
std::shared_ptr<Models>* RankedServing::models_ = nullptr;

// A shopper of group g (a trained one, and a newcomer whose three views arrived after training)
// gets mostly items of block g from the trees, explained by what they viewed.
TEST_F(RankedServing, ServesTheTreesListOfThePlantedGroup) {
  const Models& models = **models_;
  ASSERT_NE(models.ranker, nullptr) << models.no_ranker;
  EXPECT_GT(models.ranker->training_groups(), 100u);
  EXPECT_EQ(models.ranker->generators(), (std::vector<std::string>{"cooccur", "als", "popularity"}));
  Recommender rec(*graph_);
  rec.Swap(*models_);

  for (int u : {1, 6, 11}) {
    const Recommendations r = rec.Recommend(Home(UserId(u), Strategy::kRanked));
    EXPECT_EQ(r.strategy, Strategy::kRanked);
    EXPECT_FALSE(r.degraded);
    ASSERT_EQ(r.items.size(), 10u);
    EXPECT_GE(InGroup(r, u % 4), 8) << UserId(u);
  }

  graph_->Add({{"user:newcomer", ItemId(50), Signal::kView, kStartMs + 1'000'000'000},
               {"user:newcomer", ItemId(57), Signal::kView, kStartMs + 1'000'001'000},
               {"user:newcomer", ItemId(63), Signal::kView, kStartMs + 1'000'002'000}});
  const Recommendations r = rec.Recommend(Home("user:newcomer", Strategy::kRanked));
  EXPECT_EQ(r.strategy, Strategy::kRanked);
  ASSERT_EQ(r.items.size(), 10u);
  EXPECT_GE(InGroup(r, 2), 8);
  bool explained = false;
  for (const RecommendedItem& item : r.items) {
    EXPECT_FALSE(item.product_id == ItemId(50) || item.product_id == ItemId(57) ||
                 item.product_id == ItemId(63))
        << "a viewed item";
    EXPECT_TRUE(item.source == "cooccur" || item.source == "als" || item.source == "popularity")
        << item.source;
    if (item.source == "popularity") {
      EXPECT_TRUE(item.reason.starts_with("Popular in C")) << item.reason;
    } else if (item.reason.starts_with("Because you viewed Item ")) {
      const std::string viewed = item.reason.substr(std::string("Because you viewed Item ").size());
      EXPECT_TRUE(viewed == "50" || viewed == "57" || viewed == "63") << item.reason;
      explained = true;
    }
  }
  EXPECT_TRUE(explained) << "no item explained by a viewed one";

  // The other strategies say what made their lists.
  const Recommendations fused = rec.Recommend(Home("user:newcomer", Strategy::kFused));
  EXPECT_EQ(fused.strategy, Strategy::kFused);
  EXPECT_GE(InGroup(fused, 2), 8);
  const Recommendations popular = rec.Recommend(Home("user:newcomer", Strategy::kPopularity));
  EXPECT_EQ(popular.strategy, Strategy::kPopularity);
  ASSERT_EQ(popular.items.size(), 10u);
  for (const RecommendedItem& item : popular.items) {
    EXPECT_EQ(item.source, "popularity");
    EXPECT_TRUE(item.reason.starts_with("Popular in C")) << item.reason;
  }

  // A product page ranked: what goes with the product, never the product.
  RecommendRequest product{.placement = Placement::kProduct,
                           .product_ids = {ItemId(80)},
                           .limit = 10,
                           .strategy = Strategy::kRanked};
  const Recommendations p = rec.Recommend(product);
  EXPECT_EQ(p.strategy, Strategy::kRanked);
  ASSERT_EQ(p.items.size(), 10u);
  EXPECT_GE(InGroup(p, 3), 8);
  EXPECT_FALSE(Ids(p).count(ItemId(80)));
  for (const RecommendedItem& item : p.items)
    EXPECT_TRUE(item.reason == "Often viewed with Item 80" || item.reason == "Similar to Item 80" ||
                item.reason.starts_with("Popular in C"))
        << item.reason;
}

// Artifact files → registry → LoadModels: the same ranked lists; an artifact without the ranker
// loads and serves fused; damaged ranker bytes are refused.
TEST_F(RankedServing, ArtifactRoundTripServesTheSameRankedLists) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("ranked-" + RandomHex(6));
  ml::ModelStore store(dir, "recommend");
  auto files = ModelFiles(**models_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_TRUE(files->count("ranker.bin"));
  auto a = store.Stage(*files, "{}");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto loaded = LoadModels(store, *a, *graph_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_NE((*loaded)->ranker, nullptr);

  Recommender trained(*graph_), reloaded(*graph_);
  trained.Swap(*models_);
  reloaded.Swap(*loaded);
  for (int u = 0; u < 40; u += 3) {
    const Recommendations r = reloaded.Recommend(Home(UserId(u), Strategy::kRanked));
    EXPECT_EQ(r.strategy, Strategy::kRanked);
    ExpectSameLists(trained.Recommend(Home(UserId(u), Strategy::kRanked)), r);
  }

  files->erase("ranker.bin");
  auto without = store.Stage(*files, "{}");
  ASSERT_TRUE(without.ok());
  auto old = LoadModels(store, *without, *graph_);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ((*old)->ranker, nullptr);
  Recommender fused_only(*graph_);
  fused_only.Swap(*old);
  for (int u = 0; u < 40; u += 3) {
    const Recommendations r = fused_only.Recommend(Home(UserId(u), Strategy::kRanked));
    EXPECT_EQ(r.strategy, Strategy::kFused);
    ExpectSameLists(trained.Recommend(Home(UserId(u), Strategy::kFused)), r);
  }

  (*files)["ranker.bin"] = "EMPRANK1 but not a ranker";
  auto damaged = store.Stage(*files, "{}");
  ASSERT_TRUE(damaged.ok());
  EXPECT_EQ(LoadModels(store, *damaged, *graph_).status().code(), Code::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

// Below ranker_min_users no ranker is fitted, and kRanked serves exactly the fused lists.
TEST_F(RankedServing, BelowTheThresholdRankedServesFused) {
  ModelOptions options = SmallOptions();
  options.ranker_min_users = kUsers + 1000;
  auto m = TrainModels(graph_->Snapshot(), options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->ranker, nullptr);
  EXPECT_FALSE((*m)->no_ranker.empty());
  ASSERT_NE((*m)->cooccur, nullptr);
  Recommender rec(*graph_);
  rec.Swap(*m);
  for (int u : {0, 5, 10}) {
    const Recommendations r = rec.Recommend(Home(UserId(u), Strategy::kRanked));
    EXPECT_EQ(r.strategy, Strategy::kFused);
    ASSERT_EQ(r.items.size(), 10u);
    ExpectSameLists(rec.Recommend(Home(UserId(u), Strategy::kFused)), r);
  }
}

// Out-of-stock and deleted items of a block and the shopper's own items never reach a ranked
// list, on home, product and cart placements; the list is still full.
TEST(RankedFilters, NeverShowsOutOfStockDeletedOrOwnItems) {
  Graph graph;
  Plant(graph, 11);
  auto m = TrainModels(graph.Snapshot(), SmallOptions());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE((*m)->ranker, nullptr);
  Recommender rec(graph);
  rec.Swap(*m);
  std::set<std::string> hidden;
  for (int i = 25; i < 50; i += 3) {
    graph.SetStock(ItemId(i), false);
    hidden.insert(ItemId(i));
  }
  graph.SetFacts(ItemFacts{.id = ItemId(26), .title = "Item 26", .category = "C2", .deleted = true});
  hidden.insert(ItemId(26));

  for (int u = 1; u < kUsers; u += 40) {  // group 1 shoppers
    const Recommendations r = rec.Recommend(Home(UserId(u), Strategy::kRanked));
    EXPECT_EQ(r.strategy, Strategy::kRanked);
    EXPECT_EQ(r.items.size(), 10u);
    const History h = graph.HistoryOf(UserId(u), 30);
    for (const RecommendedItem& item : r.items) {
      EXPECT_FALSE(hidden.count(item.product_id)) << item.product_id << " is not showable";
      const auto index = graph.ItemIndex(item.product_id);
      ASSERT_TRUE(index.has_value());
      EXPECT_FALSE(std::binary_search(h.items.begin(), h.items.end(), *index))
          << item.product_id << " is own";
    }
  }
  for (Placement placement : {Placement::kProduct, Placement::kCart}) {
    RecommendRequest req{
        .placement = placement, .product_ids = {ItemId(30)}, .limit = 10, .strategy = Strategy::kRanked};
    if (placement == Placement::kCart) req.product_ids.push_back(ItemId(31));
    const Recommendations r = rec.Recommend(req);
    EXPECT_EQ(r.strategy, Strategy::kRanked);
    EXPECT_EQ(r.items.size(), 10u);
    for (const RecommendedItem& item : r.items) {
      EXPECT_FALSE(hidden.count(item.product_id)) << item.product_id;
      EXPECT_NE(item.product_id, ItemId(30));
      EXPECT_NE(item.product_id, ItemId(31));
      if (placement == Placement::kCart && item.source != "popularity") {
        EXPECT_TRUE(item.reason == "Goes with Item 30" || item.reason == "Goes with Item 31") << item.reason;
      }
    }
  }
}

// A lifecycle round scores the candidate fused (the gate) and ranked (recorded): the ranked slice
// lists find the shoppers' next items far better than popular items do.
TEST(RankedLifecycle, RoundRecordsTheRankedSliceScoreAndGatesOnFused) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("ranked-round-" + RandomHex(6));
  ml::ModelStore store(dir, "recommend");
  Graph graph;
  Plant(graph, 3);
  LifecycleOptions options;
  options.models = SmallOptions();
  options.slice_share = 0.03;
  auto first = TrainRound(graph, store, nullptr, options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->promoted);
  ASSERT_NE(first->candidate->ranker, nullptr);

  // Every shopper views one more item of their block: the newest of these are the slice.
  Xoshiro256 rng(5);
  std::vector<LiveInteraction> more;
  int64_t at = kStartMs + 2'000'000'000;
  for (int u = 0; u < kUsers; ++u) {
    const History h = graph.HistoryOf(UserId(u), 30);
    for (;;) {
      const int i = (u % 4) * 25 + static_cast<int>(rng.Next() % 25);
      const auto index = graph.ItemIndex(ItemId(i));
      if (std::binary_search(h.items.begin(), h.items.end(), *index)) continue;
      more.push_back({UserId(u), ItemId(i), Signal::kView, at += 1000});
      break;
    }
  }
  graph.Add(more);
  auto second = TrainRound(graph, store, first->candidate.get(), options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(second->trained) << second->why;
  EXPECT_EQ(second->candidate_score.strategy, Strategy::kFused);
  ASSERT_TRUE(second->candidate_ranked.has_value());
  ASSERT_TRUE(second->current_ranked.has_value());
  EXPECT_EQ(second->candidate_ranked->strategy, Strategy::kRanked);
  EXPECT_GT(second->candidate_ranked->users, 100u);
  EXPECT_EQ(second->promoted, second->candidate_score.ndcg > second->current_score.ndcg);

  // The round's slice, as TrainRound cuts it.
  const size_t n = graph.interactions();
  const size_t held =
      std::max(options.min_slice, static_cast<size_t>(options.slice_share * static_cast<double>(n)));
  const GraphSnapshot before = graph.Snapshot(n - held);
  const std::vector<Interaction> slice = graph.ArrivedSince(before.interactions);
  const SliceScore popular =
      ScoreOnSlice(*second->candidate, Strategy::kPopularity, before.rows, slice, before.users, 30);
  EXPECT_EQ(popular.strategy, Strategy::kPopularity);
  EXPECT_GT(second->candidate_ranked->ndcg, popular.ndcg + 0.1)
      << "ranked " << second->candidate_ranked->ndcg << ", popular " << popular.ndcg;

  const std::string& version = second->candidate->version;
  auto metrics = store.Read(ml::Artifact{version, store.dir() / version}, "metrics.json");
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  auto v = json::Parse(*metrics);
  ASSERT_TRUE(v.ok());
  const auto& slice_json = v->as_object().at("slice").as_object();
  EXPECT_TRUE(slice_json.contains("candidate_ranked")) << *metrics;
  EXPECT_TRUE(slice_json.contains("current_ranked")) << *metrics;
  EXPECT_GT(v->as_object().at("ranker").as_object().at("groups").as_int64(), 100) << *metrics;
  std::filesystem::remove_all(dir);
}

// Popularity walks a precomputed order instead of scanning every item (a ranked request asks it
// for 50 each time): still TopK of the distinct users, ties by lower item, without `exclude`.
TEST(RankedCost, PopularityIsTopKOfDistinctUsersWithoutAScan) {
  Graph graph;
  Plant(graph, 5);
  const GraphSnapshot snapshot = graph.Snapshot();
  auto t = MakeTrainingSet(snapshot.rows, snapshot.users, snapshot.items, 0);
  ASSERT_TRUE(t.ok());
  std::vector<float> users(static_cast<size_t>(t->items));
  for (size_t i = 0; i < users.size(); ++i)
    users[i] = static_cast<float>(t->item_users.indptr[i + 1] - t->item_users.indptr[i]);
  auto popularity = MakePopularity();
  ASSERT_TRUE(popularity->Fit(*t).ok());
  auto saved = popularity->Save();
  ASSERT_TRUE(saved.ok());
  auto loaded = LoadGenerator("popularity", *saved);
  ASSERT_TRUE(loaded.ok());
  const std::vector<int32_t> exclude{0, 3, 26, 51, 77, 99};
  for (const Generator* g : {popularity.get(), loaded->get()}) {
    for (size_t k : {size_t{1}, size_t{10}, size_t{50}, size_t{200}}) {
      const std::vector<Scored> want = TopK(users, k, exclude), got = g->Recommend({}, k, exclude);
      ASSERT_EQ(got.size(), want.size()) << k;
      for (size_t n = 0; n < want.size(); ++n) {
        EXPECT_EQ(got[n].item, want[n].item) << k << " " << n;
        EXPECT_EQ(got[n].score, want[n].score) << k << " " << n;
      }
    }
  }
}

}  // namespace
}  // namespace emporium::recommend
