// What a request knows beyond the shopper's whole history: the segments (popular items of the
// shopper's categories, which categories are bought again), the latest session, and the content
// list (products like the product by text). On a graph of four categories whose shoppers each
// browse one of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "services/recommend/graph.h"
#include "services/recommend/recommender.h"
#include "services/recommend/segments.h"

namespace emporium::recommend {
namespace {

constexpr int64_t kStartMs = 1'780'000'000'000;
constexpr int64_t kDayMs = 86'400'000;
const char* const kCategories[] = {"Tents", "Lamps", "Boots", "Coffee"};

std::string ItemId(int category, int n) {
  return std::string(1, static_cast<char>('a' + category)) + std::to_string(n);
}
int CategoryOf(const std::string& id) {
  return id[0] - 'a';
}

// 200 shoppers, each viewing 6 of the 10 items of one category. Coffee's buyers buy their coffee
// again; a tent is bought once. A new tent has facts and no interactions.
void Plant(Graph& graph) {
  for (int c = 0; c < 4; ++c)
    for (int n = 0; n < 10; ++n)
      graph.SetFacts(ItemFacts{.id = ItemId(c, n),
                               .title = std::string(kCategories[c]) + " " + std::to_string(n),
                               .category = kCategories[c],
                               .price = 1000 + n});
  graph.SetFacts(ItemFacts{.id = "new-tent", .title = "Four-person dome tent", .category = "Tents"});
  std::vector<LiveInteraction> batch;
  int64_t at = kStartMs;
  for (int u = 0; u < 200; ++u) {
    const int c = u % 4;
    const std::string user = "user:u" + std::to_string(u);
    for (int k = 0; k < 6; ++k)
      batch.push_back({user, ItemId(c, (u / 4 + k) % 10), Signal::kView, at += 1000});
    if (c == 0) batch.push_back({user, ItemId(0, u % 5), Signal::kPurchase, at += 1000});
    if (c == 3) {
      batch.push_back({user, ItemId(3, u % 5), Signal::kPurchase, at += 1000});
      batch.push_back({user, ItemId(3, u % 5), Signal::kPurchase, at += 20 * kDayMs});
    }
  }
  graph.Add(batch);
}

ModelOptions SmallOptions() {
  ModelOptions o = DefaultModelOptions();
  o.als.factors = 8;
  o.als.iterations = 8;
  o.als.regularization = 1;
  o.als.threads = 2;
  o.ranker_min_users = 1'000'000;  // these tests are about the fused lists
  return o;
}

std::shared_ptr<Models> Train(const Graph& graph) {
  auto m = TrainModels(graph.Snapshot(), SmallOptions());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

std::vector<std::string> Ids(const Recommendations& r) {
  std::vector<std::string> out;
  for (const RecommendedItem& i : r.items) out.push_back(i.product_id);
  return out;
}

TEST(Segments, RankEachCategorysPopularItemsByTheShoppersSharesAndFindTheConsumables) {
  const std::vector<std::string> categories = {"Tents", "Tents", "Tents", "Coffee", "Coffee", ""};
  const std::vector<float> popularity = {5, 9, 1, 4, 7, 100};
  std::vector<Interaction> rows;
  const float purchase = SignalWeight(Signal::kPurchase);
  for (int u = 0; u < 30; ++u) {
    rows.push_back({u, u % 3, purchase, 0});       // a tent, once
    rows.push_back({u, 3 + u % 2, purchase, 0});   // coffee...
    rows.push_back({u, 3 + u % 2, purchase, 10});  // ...again
  }
  const Segments s = Segments::Fit(rows, categories, popularity);
  EXPECT_EQ(s.categories(), 2u);
  EXPECT_EQ(s.consumables(), 1u);
  EXPECT_TRUE(s.Durable(0));
  EXPECT_FALSE(s.Durable(3)) << "coffee is bought again";
  EXPECT_TRUE(s.Durable(5)) << "an item without a category counts as durable";
  EXPECT_TRUE(s.Durable(99));
  EXPECT_EQ(s.Category(4), "Coffee");
  EXPECT_EQ(s.Category(5), "");

  // Three parts tents, one part coffee: the tents' best, then coffee's best beside the second tent.
  const History seed{.items = {0, 2, 3}, .weights = {1, 1, 1}, .affinity = {2, 1, 1}};
  const std::vector<std::string> of = {"Tents", "Tents", "Coffee"};
  const std::vector<Scored> popular = s.Popular(seed, of, 10, std::vector<int32_t>{0});
  std::vector<int32_t> order;
  for (const Scored& x : popular) order.push_back(x.item);
  EXPECT_EQ(order, (std::vector<int32_t>{1, 2, 4, 3})) << "item 0 excluded, item 5 has no category";
  EXPECT_FLOAT_EQ(popular[0].score, 0.75f);
  EXPECT_FLOAT_EQ(popular[1].score, 0.375f);
  EXPECT_FLOAT_EQ(popular[2].score, 0.25f);
  EXPECT_TRUE(s.Popular(History{}, {}, 10, {}).empty()) << "no history, no segment";
  const std::vector<std::string> unknown = {"Garden", "", "Garden"};
  EXPECT_TRUE(s.Popular(seed, unknown, 10, {}).empty()) << "categories the segments do not know";

  auto loaded = Segments::Load(s.Save());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->items(), 6u);
  EXPECT_FALSE(loaded->Durable(3));
  std::vector<int32_t> again;
  for (const Scored& x : loaded->Popular(seed, of, 10, std::vector<int32_t>{0})) again.push_back(x.item);
  EXPECT_EQ(again, order);
  std::string bytes = s.Save();
  EXPECT_EQ(Segments::Load(bytes.substr(0, bytes.size() - 3)).status().code(), Code::kInvalidArgument);
  bytes[0] = 9;
  EXPECT_EQ(Segments::Load(bytes).status().code(), Code::kInvalidArgument) << "another version";
}

TEST(Serving, ABoughtDurableGoesLastOnProductListsAndABoughtConsumableStays) {
  Graph graph;
  Plant(graph);
  auto models = Train(graph);
  ASSERT_TRUE(models && models->segments);
  EXPECT_TRUE(models->segments->Durable(*graph.ItemIndex("a1")));
  EXPECT_FALSE(models->segments->Durable(*graph.ItemIndex("d1"))) << "every coffee buyer bought again";
  Recommender r(graph);
  r.Swap(models);

  const auto product = [&](const std::string& id, const std::string& subject) {
    return Ids(r.Recommend(RecommendRequest{
        .placement = Placement::kProduct, .subject = subject, .product_ids = {id}, .limit = 10}));
  };
  // u0 browses tents and bought a0; u3 browses coffee and bought d3 twice.
  const std::vector<std::string> anyone = product("a2", ""), owner = product("a2", "user:u0");
  std::vector<std::string> more = Ids(
      r.Recommend(RecommendRequest{.placement = Placement::kProduct, .product_ids = {"a2"}, .limit = 20}));
  const auto at = [](const std::vector<std::string>& v, const std::string& id) {
    return std::find(v.begin(), v.end(), id) - v.begin();
  };
  ASSERT_LT(at(anyone, "a0"), 5) << "a0 goes with a2";
  EXPECT_GE(at(owner, "a0"), static_cast<ptrdiff_t>(owner.size()) - 1)
      << "the tent u0 owns goes last, or off";
  for (const std::string& id : owner) EXPECT_NE(std::find(more.begin(), more.end(), id), more.end()) << id;

  const std::vector<std::string> coffee = product("d2", ""), buyer = product("d2", "user:u3");
  ASSERT_LT(at(coffee, "d3"), 10);
  EXPECT_EQ(at(buyer, "d3"), at(coffee, "d3")) << "coffee is bought again: not demoted";
}

TEST(Serving, TheLatestSessionLeadsTheHomeList) {
  Graph graph;
  Plant(graph);
  Recommender r(graph);
  r.Swap(Train(graph));
  // Ten tents two days ago, then two lamps now.
  std::vector<LiveInteraction> batch;
  const int64_t now = kStartMs + 40 * kDayMs;
  for (int n = 0; n < 8; ++n)
    batch.push_back({"user:camper", ItemId(0, n), Signal::kView, now - 2 * kDayMs + n});
  batch.push_back({"user:camper", ItemId(1, 0), Signal::kView, now});
  batch.push_back({"user:camper", ItemId(1, 1), Signal::kView, now + 60'000});
  // The same items in one session.
  for (int n = 0; n < 8; ++n) batch.push_back({"user:steady", ItemId(0, n), Signal::kView, now + n});
  batch.push_back({"user:steady", ItemId(1, 0), Signal::kView, now + 10});
  batch.push_back({"user:steady", ItemId(1, 1), Signal::kView, now + 11});
  graph.Add(batch);

  const Recommendations camper = r.Recommend(RecommendRequest{.subject = "user:camper", .limit = 4});
  ASSERT_FALSE(camper.items.empty());
  EXPECT_EQ(CategoryOf(camper.items[0].product_id), 1) << "lamps: what the shopper looks at now";
  EXPECT_EQ(camper.items[0].source, "session");
  EXPECT_EQ(camper.items[0].reason.rfind("Because you're looking at Lamps ", 0), 0u)
      << camper.items[0].reason;

  const Recommendations steady = r.Recommend(RecommendRequest{.subject = "user:steady", .limit = 4});
  ASSERT_FALSE(steady.items.empty());
  for (const RecommendedItem& i : steady.items)
    EXPECT_NE(i.source, "session") << "one session is the history";
  EXPECT_EQ(CategoryOf(steady.items[0].product_id), 0) << "eight tents outweigh two lamps";
}

TEST(Serving, AShortHistoryGetsThePopularItemsOfItsCategories) {
  Graph graph;
  Plant(graph);
  Recommender r(graph);
  r.Swap(Train(graph));
  // new-tent is newer than the models: no generator knows it, its category does.
  graph.Add({{"user:new", "new-tent", Signal::kView, kStartMs + 50 * kDayMs}});
  const Recommendations rec = r.Recommend(RecommendRequest{.subject = "user:new", .limit = 6});
  ASSERT_EQ(rec.items.size(), 6u);
  for (size_t n = 0; n < 2; ++n) {
    EXPECT_EQ(CategoryOf(rec.items[n].product_id), 0) << rec.items[n].product_id;
    EXPECT_EQ(rec.items[n].source, "segment");
    EXPECT_EQ(rec.items[n].reason, "Popular in Tents");
  }
  // The shop's popular items for the control, whatever the shopper looked at.
  const Recommendations control =
      r.Recommend(RecommendRequest{.subject = "user:new", .limit = 6, .strategy = Strategy::kPopularity});
  for (const RecommendedItem& i : control.items) EXPECT_EQ(i.source, "popularity");
}

TEST(Serving, TheContentListGivesANewProductNeighboursByItsText) {
  Graph graph;
  Plant(graph);
  Recommender r(graph);
  r.Swap(Train(graph));
  const RecommendRequest request{.placement = Placement::kProduct, .product_ids = {"new-tent"}, .limit = 5};

  // Nobody viewed new-tent: without content, only popular items (of its category first).
  for (const RecommendedItem& i : r.Recommend(request).items)
    EXPECT_TRUE(i.source == "segment" || i.source == "popularity") << i.product_id << " " << i.source;

  // A stand-in for search's vectors: the tents by number.
  std::vector<std::vector<std::string>> asked;
  r.SetContent([&](std::span<const std::string> ids, size_t k) {
    asked.emplace_back(ids.begin(), ids.end());
    std::vector<std::string> out;
    for (int n = 9; n >= 0 && out.size() < k; --n) out.push_back(ItemId(0, n));
    return out;
  });
  const Recommendations rec = r.Recommend(request);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], std::vector<std::string>{"new-tent"});
  ASSERT_EQ(rec.items.size(), 5u);
  EXPECT_EQ(rec.items[0].product_id, "a9") << "the content list's order";
  for (const RecommendedItem& i : rec.items) {
    EXPECT_EQ(i.source, "content");
    EXPECT_EQ(i.reason, "Similar to Four-person dome tent");
  }

  // Home: like the shopper's latest items; a control (popularity) does not ask.
  graph.Add({{"user:tents", "new-tent", Signal::kView, kStartMs + 50 * kDayMs}});
  asked.clear();
  const Recommendations home = r.Recommend(RecommendRequest{.subject = "user:tents", .limit = 5});
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], std::vector<std::string>{"new-tent"});
  EXPECT_TRUE(std::any_of(home.items.begin(), home.items.end(),
                          [](const RecommendedItem& i) { return i.source == "content"; }));
  r.Recommend(RecommendRequest{.subject = "user:tents", .limit = 5, .strategy = Strategy::kPopularity});
  EXPECT_EQ(asked.size(), 1u);
}

}  // namespace
}  // namespace emporium::recommend
