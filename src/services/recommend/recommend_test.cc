// The recommendation generators and their offline evaluation: reading interactions, the
// per-user split, each generator against planted tastes, EASE against its closed form.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <filesystem>
#include <fstream>
#include <set>

#include "platform/core/random.h"
#include "platform/core/xoshiro.h"
#include "services/catalog/api.h"
#include "services/recommend/generators.h"
#include "services/recommend/interactions.h"
#include "services/recommend/offline.h"
#include "services/recommend/simulated.h"
#include "sim/offline.h"
#include "sim/world.h"

namespace emporium::recommend {
namespace {

std::filesystem::path WriteFile(const std::string& text) {
  auto p = std::filesystem::path(::testing::TempDir()) / ("interactions-" + RandomHex(6) + ".csv");
  std::ofstream(p) << text;
  return p;
}

// Users in four groups; a group's users interact with items of its own block of 25 (and now and
// then any item), so "what my group likes" is the signal and popularity is not.
Interactions Planted(int users, uint64_t seed) {
  Interactions data;
  Xoshiro256 rng(seed);
  for (int i = 0; i < 100; ++i) data.ItemIndex("i" + std::to_string(i));
  for (int u = 0; u < users; ++u) {
    const int32_t user = data.UserIndex("u" + std::to_string(u));
    const int group = u % 4;
    std::set<int32_t> items;
    while (items.size() < 12)
      items.insert(static_cast<int32_t>(group * 25 + static_cast<int>(rng.Next() % 25)));
    items.insert(static_cast<int32_t>(rng.Next() % 100));
    int64_t t = 1'700'000'000'000;
    for (int32_t i : items) data.rows.push_back({user, i, 1, t += 60'000});
  }
  // One item everybody has: the most popular, and useless to recommend to anyone.
  for (int32_t u = 0; u < users; ++u) data.rows.push_back({u, 99, 1, 1'700'000'000'000});
  return data;
}

TEST(Interactions, ReadsMovieLensAndGenericCsvAndNamesTheBadLine) {
  auto ml = ReadInteractionsCsv(
      WriteFile("userId,movieId,rating,timestamp\n1,10,4.0,964982703\n1,20,3.5,964982704\n"
                "2,10,5.0,964982800\n"));
  ASSERT_TRUE(ml.ok()) << ml.status().ToString();
  EXPECT_EQ(ml->users(), 2);
  EXPECT_EQ(ml->items(), 2);
  ASSERT_EQ(ml->rows.size(), 3u);
  EXPECT_EQ(ml->rows[2].user, 1);
  EXPECT_EQ(ml->rows[2].item, 0);
  EXPECT_EQ(ml->rows[1].at_ms, 964'982'704'000);
  EXPECT_EQ(ml->item_ids[1], "20");

  auto generic = ReadInteractionsCsv(WriteFile("user,item\r\n\"a,1\",x\r\nb,y\r\n"));
  ASSERT_TRUE(generic.ok()) << generic.status().ToString();
  EXPECT_EQ(generic->user_ids[0], "a,1");
  EXPECT_EQ(generic->rows.size(), 2u);

  auto bad_time = ReadInteractionsCsv(WriteFile("userId,movieId,rating,timestamp\n1,10,4,96x\n"));
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad_time.status().message().find("line 2"), std::string::npos) << bad_time.status().message();
  auto short_row = ReadInteractionsCsv(WriteFile("user,item\nonly\n"));
  EXPECT_EQ(short_row.status().code(), Code::kInvalidArgument);
  auto no_item = ReadInteractionsCsv(WriteFile("user,rating\na,1\n"));
  EXPECT_EQ(no_item.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ReadInteractionsCsv("/nonexistent/ratings.csv").status().code(), Code::kNotFound);
}

TEST(Interactions, PerUserSplitIsSeededKeepsRepeatsTogetherAndLeavesEveryoneATrainSide) {
  Interactions data = Planted(40, 1);
  data.rows.push_back(data.rows.front());  // a repeat of one pair
  const Split a = SplitPerUser(data, 0.75, 42);
  const Split b = SplitPerUser(data, 0.75, 42);
  const Split c = SplitPerUser(data, 0.75, 43);
  auto pairs = [](const std::vector<Interaction>& rows) {
    std::set<std::pair<int32_t, int32_t>> out;
    for (const Interaction& r : rows) out.insert({r.user, r.item});
    return out;
  };
  EXPECT_EQ(pairs(a.train), pairs(b.train));
  EXPECT_NE(pairs(a.train), pairs(c.train));
  const auto train = pairs(a.train), test = pairs(a.test);
  for (const auto& p : test) EXPECT_FALSE(train.count(p)) << "a pair on both sides";
  EXPECT_EQ(a.train.size() + a.test.size(), data.rows.size());
  std::vector<int> train_items(40), all_items(40);
  for (const auto& p : train) ++train_items[static_cast<size_t>(p.first)];
  for (const auto& p : test) ++all_items[static_cast<size_t>(p.first)];
  for (size_t u = 0; u < 40; ++u) {
    all_items[u] += train_items[u];
    EXPECT_GE(train_items[u], 1);
    EXPECT_NEAR(train_items[u], 0.75 * all_items[u], 0.51) << u;
  }
  Interactions single;
  single.rows.push_back({single.UserIndex("solo"), single.ItemIndex("x"), 1, 0});
  EXPECT_EQ(SplitPerUser(single, 0.75, 1).test.size(), 0u);
}

TEST(Generators, TopKSkipsExcludedAndUnscoredItemsBestFirst) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> scores{0.5f, 2.0f, -inf, 2.0f, 1.0f};
  const std::vector<int32_t> exclude{3};
  auto top = TopK(scores, 3, exclude);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, 1);
  EXPECT_EQ(top[1].item, 4);
  EXPECT_EQ(top[2].item, 0);
  EXPECT_EQ(TopK(scores, 10, {}).size(), 4u);
}

// Every personal generator finds a user's held-out items from their group far better than
// popularity does, and none recommends what the user already has.
TEST(Generators, PersonalGeneratorsLearnThePlantedGroups) {
  const Interactions data = Planted(200, 7);
  OfflineOptions options = DefaultOfflineOptions();
  options.als.factors = 8;
  options.als.iterations = 10;
  options.als.regularization = 1;
  options.als.threads = 2;
  options.walk.steps = 3000;
  auto r = EvaluateOffline(data, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->generators.size(), 6u) << "five generators and the hybrid";
  EXPECT_EQ(r->scored_users, 200u);
  double popularity = -1;
  for (const GeneratorResult& g : r->generators)
    if (g.name == "popularity") popularity = g.recall;
  ASSERT_GE(popularity, 0);
  for (const GeneratorResult& g : r->generators) {
    EXPECT_GE(g.ndcg, 0) << g.name;
    EXPECT_LE(g.ndcg, 1) << g.name;
    if (g.name == "popularity") continue;
    EXPECT_GT(g.recall, 0.5) << g.name;
    EXPECT_GT(g.recall, 2 * popularity) << g.name;
    EXPECT_GT(g.coverage, 0.9) << g.name << ": every group's block is recommended to someone";
  }

  const Split split = SplitPerUser(data, 0.75, 42);
  auto train = MakeTrainingSet(split.train, data.users(), data.items(), 30);
  ASSERT_TRUE(train.ok());
  std::vector<std::unique_ptr<Generator>> all;
  all.push_back(MakePopularity());
  all.push_back(MakeCooccur());
  all.push_back(MakeAls(options.als));
  all.push_back(MakeEase());
  all.push_back(MakeWalk(options.walk));
  for (const auto& g : all) {
    ASSERT_TRUE(g->Fit(*train).ok()) << g->name();
    const History& h = train->histories[3];
    for (const Scored& s : g->Recommend(h, 10, h.items))
      EXPECT_FALSE(std::binary_search(h.items.begin(), h.items.end(), s.item)) << g->name();
  }

  options.generators = {"nope"};
  EXPECT_EQ(EvaluateOffline(data, options).status().code(), Code::kInvalidArgument);
}

// EASE's weights are B = -P / diag(P) with P = (XᵀX + λI)⁻¹ and a zero diagonal: a user with one
// item j scores every other item i with B[j][i].
TEST(Generators, EaseIsTheClosedFormRegression) {
  Interactions data;
  Xoshiro256 rng(5);
  for (int i = 0; i < 12; ++i) data.ItemIndex("i" + std::to_string(i));
  for (int u = 0; u < 60; ++u) {
    const int32_t user = data.UserIndex("u" + std::to_string(u));
    for (int32_t i = 0; i < 12; ++i)
      if (rng.Next() % 3 == 0 || i == u % 12) data.rows.push_back({user, i, 1, 0});
  }
  auto train = MakeTrainingSet(data.rows, data.users(), data.items(), 0);
  ASSERT_TRUE(train.ok());
  const double lambda = 7;
  auto ease = MakeEase({.lambda = lambda, .max_items = 100});
  ASSERT_TRUE(ease->Fit(*train).ok());

  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(60, 12);
  for (const Interaction& r : data.rows) x(r.user, r.item) = 1;
  Eigen::MatrixXd g = x.transpose() * x + lambda * Eigen::MatrixXd::Identity(12, 12);
  Eigen::MatrixXd p = g.inverse();
  for (int32_t j = 0; j < 12; ++j) {
    History h{.items = {j}, .weights = {1}, .affinity = {1}};
    auto scored = ease->Recommend(h, 12, {});
    ASSERT_EQ(scored.size(), 12u);
    for (const Scored& s : scored) {
      const double expected = s.item == j ? 0 : -p(j, s.item) / p(s.item, s.item);
      EXPECT_NEAR(s.score, expected, 1e-4) << j << "→" << s.item;
    }
  }
}

TEST(Generators, HistoriesSumRepeatsAndDecayByAgeFromTheLatest) {
  const int64_t day = 86'400'000;
  std::vector<Interaction> rows{{0, 5, 1, 10 * day}, {0, 2, 1, 40 * day}, {0, 5, 2, 40 * day}, {1, 1, 1, 0}};
  auto h = Histories(rows, 3, 30);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].items, (std::vector<int32_t>{2, 5}));
  EXPECT_FLOAT_EQ(h[0].weights[1], 3);
  EXPECT_FLOAT_EQ(h[0].affinity[0], 1);
  EXPECT_NEAR(h[0].affinity[1], 2 + 0.5, 1e-5) << "30 days older: half";
  EXPECT_TRUE(h[2].items.empty());
}

// The whole evaluation on a small offline simulation: every personal generator and the hybrid
// find what the simulated shoppers want far better than popularity does.
TEST(SimulatedEval, PersonalListsBeatPopularityAgainstTheTruth) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("sim-" + RandomHex(6));
  std::vector<std::string> docs = catalog::DemoProductDocuments(42, 1500, 0);
  sim::SimCatalog catalog;
  for (const std::string& d : docs) catalog.products.push_back(*sim::ParseProduct(d));
  catalog.Index();
  sim::World world(std::move(catalog), 11);
  sim::Population population = sim::Population::Make(world, sim::PopulationOptions{500, 0.0, 11});
  sim::OfflineOptions sim_options;
  sim_options.out_dir = dir;
  sim_options.seed = 11;
  sim_options.schedule.start_ms = 1'767'571'200'000;  // 2026-01-05
  sim_options.schedule.end_ms = sim_options.schedule.start_ms + 21LL * 86'400'000;
  ASSERT_TRUE(sim::RunOffline(world, population, sim_options).ok());

  SimulatedOptions options;
  options.offline.als.factors = 16;
  options.offline.als.regularization = 5;
  options.offline.walk.steps = 3000;
  options.users = 300;
  auto r = EvaluateSimulated(dir, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->scored_users, 100u);
  ASSERT_EQ(r->rows.size(), 9u) << "five generators, two hybrids, two served strategies";
  double popularity = -1;
  for (const SimulatedRow& row : r->rows)
    if (row.name == "popularity") popularity = row.truth_ndcg;
  ASSERT_GE(popularity, 0);
  for (const SimulatedRow& row : r->rows) {
    RecordProperty(row.name + "_truth_ndcg", std::to_string(row.truth_ndcg));
    EXPECT_LE(row.truth_ndcg, 1) << row.name;
    if (row.name != "popularity") {
      EXPECT_GT(row.truth_ndcg, popularity + 0.1) << row.name;
    }
  }
  EXPECT_EQ(EvaluateSimulated(dir / "missing", options).status().code(), Code::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace emporium::recommend
