// The offline simulator: deterministic by seed, plausible behaviour, and a ground truth that
// agrees with what the shoppers did.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/core/rfc3339.h"
#include "sim/offline.h"
#include "sim/truth.h"

namespace emporium::sim {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct SimRun {
  fs::path dir;
  Summary summary;
};

const World& TestWorld() {
  static const World* world = new World(DemoCatalog(42, 600), 9);
  return *world;
}

SimRun Simulate(uint64_t seed, int users, int days, double fraud_rate, int threads) {
  const World& world = TestWorld();
  Population population = Population::Make(world, PopulationOptions{users, fraud_rate, seed});
  OfflineOptions o;
  o.out_dir = fs::path(::testing::TempDir()) / ("sim-" + NewUuid());
  const int64_t start = *ParseRfc3339UnixMillis("2026-03-02T00:00:00Z");
  o.schedule = ScheduleOptions{start, start + days * int64_t{86'400'000}, DefaultPromotions(days)};
  o.seed = seed;
  o.threads = threads;
  auto summary = RunOffline(world, population, o);
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  return SimRun{o.out_dir, summary.ok() ? *summary : Summary{}};
}

std::vector<boost::json::object> Records(const fs::path& dir) {
  std::vector<boost::json::object> out;
  std::ifstream in(dir / "history.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto v = json::Parse(line);
    EXPECT_TRUE(v.ok() && v->is_object()) << line;
    if (v.ok() && v->is_object()) out.push_back(v->as_object());
  }
  return out;
}

std::string S(const boost::json::object& o, std::string_view k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

TEST(Offline, TheSameSeedGivesByteIdenticalFilesWhateverTheThreads) {
  SimRun a = Simulate(5, 150, 10, 0.05, 1);
  SimRun b = Simulate(5, 150, 10, 0.05, 3);
  SimRun c = Simulate(6, 150, 10, 0.05, 2);
  const std::string history = Slurp(a.dir / "history.jsonl");
  ASSERT_GT(history.size(), 10'000u);
  EXPECT_EQ(history, Slurp(b.dir / "history.jsonl"));
  EXPECT_EQ(Slurp(a.dir / "truth.json"), Slurp(b.dir / "truth.json"));
  EXPECT_NE(history, Slurp(c.dir / "history.jsonl"));
}

TEST(Offline, GeneratesEveryKindOfBehaviourInTimeOrder) {
  SimRun r = Simulate(11, 300, 14, 0.08, 2);
  const auto& n = r.summary.counts;
  for (const char* kind : {"events.page_view", "events.product_view", "events.search", "events.search_click",
                           "events.add_to_cart", "events.remove_from_cart", "events.wishlist_add",
                           "orders.CONFIRMED", "orders.REJECTED", "users.registered", "signins", "cancels"}) {
    EXPECT_GT(n.count(kind) ? n.at(kind) : 0, 0) << kind;
  }
  for (const char* kind : {"card_testing.accounts", "stolen_card.accounts", "multi_account_device.accounts"})
    EXPECT_GT(r.summary.fraud.count(kind) ? r.summary.fraud.at(kind) : 0, 0) << kind;

  std::vector<boost::json::object> records = Records(r.dir);
  ASSERT_FALSE(records.empty());
  int64_t last = 0;
  std::map<int64_t, int> clicks_at;
  std::set<std::string> guests_merged, guest_subjects;
  for (const auto& rec : records) {
    auto t = ParseRfc3339UnixMillis(S(rec, "time"));
    ASSERT_TRUE(t.has_value());
    EXPECT_GE(*t, last);
    last = *t;
    if (S(rec, "record") == "event") {
      const auto& e = rec.at("event").as_object();
      if (S(e, "type") == "search_click") ++clicks_at[e.at("position").as_int64()];
      if (S(rec, "user").starts_with("guest:")) guest_subjects.insert(S(rec, "user"));
    }
    if (S(rec, "record") == "signin") guests_merged.insert(S(rec, "merged_guest"));
  }
  // Position bias: the first result is clicked far more often than the fifth.
  EXPECT_GT(clicks_at[1], 2 * clicks_at[5]);
  // Guests browse first and sign in later: some guests' histories are merged into accounts.
  size_t followed = 0;
  for (const auto& g : guest_subjects) followed += guests_merged.count(g);
  EXPECT_GT(followed, 0u);
}

TEST(Offline, NoCardNumberIsWritten) {
  const World& world = TestWorld();
  Population population = Population::Make(world, PopulationOptions{100, 0.1, 3});
  SimRun r = Simulate(3, 100, 7, 0.1, 2);
  const std::string history = Slurp(r.dir / "history.jsonl");
  for (const auto& u : population.shoppers())
    for (const auto& card : u.cards) EXPECT_EQ(history.find(card.number), std::string::npos);
  for (const auto& u : population.fraudsters())
    for (const auto& card : u.cards) EXPECT_EQ(history.find(card.number), std::string::npos);
}

TEST(GroundTruth, AgreesWithThePopulationAndWithWhatShoppersBought) {
  SimRun r = Simulate(21, 250, 14, 0.05, 2);
  auto truth = GroundTruth::Load((r.dir / "truth.json").string());
  ASSERT_TRUE(truth.ok()) << truth.status().ToString();
  const World& world = TestWorld();
  Population population = Population::Make(world, PopulationOptions{250, 0.05, 21});
  const SimUser& u = population.shoppers()[17];
  for (size_t p : {size_t{0}, size_t{99}, size_t{451}}) {
    auto want = truth->Want(u.key, world.catalog().products[p].id);
    ASSERT_TRUE(want.has_value());
    EXPECT_NEAR(*want, population.Want(world, u, p, 1.0), 1e-4);
  }
  EXPECT_FALSE(truth->Want("u-999999", "p-000001").has_value());

  // Shoppers buy what they want: bought items score well above the catalog average for the buyer.
  double bought = 0, baseline = 0;
  int n_bought = 0, n_base = 0;
  std::set<std::string> fraud_ids;
  for (const auto& rec : Records(r.dir)) {
    if (S(rec, "record") != "order" || S(rec, "status") != "CONFIRMED") continue;
    const std::string user = S(rec, "user");
    if (user.starts_with("f-")) continue;
    if (truth->FraudOf(S(rec, "order_id")) != FraudKind::kNone) {
      fraud_ids.insert(S(rec, "order_id"));
      continue;
    }
    for (const auto& item : rec.at("items").as_array()) {
      if (auto w = truth->Want(user, S(item.as_object(), "product_id"))) {
        bought += *w;
        ++n_bought;
      }
    }
    for (size_t p = 0; p < world.size(); p += 37) {
      if (auto w = truth->Want(user, world.catalog().products[p].id)) {
        baseline += *w;
        ++n_base;
      }
    }
  }
  ASSERT_GT(n_bought, 20);
  EXPECT_GT(bought / n_bought, baseline / n_base + 1.0);
  // Every fraud kind that orders is in the truth's fraud list.
  std::set<FraudKind> kinds;
  for (const auto& [_, k] : truth->fraud_orders()) kinds.insert(k);
  EXPECT_GE(kinds.size(), 3u);
}

TEST(World, QueriesMissPlainKeywordSearchSometimesButMostlyFindTheProduct) {
  const World& world = TestWorld();
  Rng rng(4);
  std::map<QueryKind, std::pair<int, int>> found;  // kind → (found in top 20, asked)
  for (int i = 0; i < 2000; ++i) {
    const size_t p = rng.Below(world.size());
    QueryKind kind;
    const std::string q = world.Query(p, rng, &kind);
    ASSERT_FALSE(q.empty());
    const auto results = world.Search(q, 200);
    const int leaf = world.catalog().leaf_of[p];
    bool hit = false;
    for (int r : results) hit |= world.catalog().leaf_of[static_cast<size_t>(r)] == leaf;
    found[kind].first += hit;
    ++found[kind].second;
  }
  for (QueryKind k :
       {QueryKind::kExact, QueryKind::kPartial, QueryKind::kTypo, QueryKind::kSynonym, QueryKind::kVague})
    ASSERT_GT(found[k].second, 50) << QueryKindName(k);
  auto share = [&](QueryKind k) { return static_cast<double>(found[k].first) / found[k].second; };
  EXPECT_GT(share(QueryKind::kExact), 0.9);
  EXPECT_LT(share(QueryKind::kTypo), share(QueryKind::kExact));
  EXPECT_LT(share(QueryKind::kSynonym), share(QueryKind::kExact));
}

TEST(Schedule, ArrivalsFollowTheDailyRhythmAndPromotions) {
  ScheduleOptions s{*ParseRfc3339UnixMillis("2026-03-02T00:00:00Z"), 0, {{3, 3.0}}};
  EXPECT_GT(Intensity(s.start_ms + 20 * 3'600'000, s), 5 * Intensity(s.start_ms + 4 * 3'600'000, s));
  EXPECT_NEAR(Intensity(s.start_ms + 3 * 86'400'000 + 12 * 3'600'000, s),
              3.0 * Intensity(s.start_ms + 2 * 86'400'000 + 12 * 3'600'000, s), 1e-9);
  EXPECT_FALSE(ParsePromotions("3").ok());
  EXPECT_FALSE(ParsePromotions("3:0").ok());
  auto p = ParsePromotions("3:2.5,10:3");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 2u);
}

}  // namespace
}  // namespace emporium::sim
