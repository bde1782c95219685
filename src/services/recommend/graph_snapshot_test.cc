// The graph's snapshot and the cart facts: a snapshot holds the whole graph; a corrupt, truncated,
// other-version or too-long one is ignored for a full replay; snapshot plus the log's tail is the
// graph a full replay makes; cart events become cart lines that a guest merge moves; the feed
// snapshots as it goes and when it stops, and restarts from the snapshot.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <tuple>

#include "platform/bus/bus.h"
#include "platform/core/file_util.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/core/xoshiro.h"
#include "platform/log/log.h"
#include "platform/module/testing.h"
#include "services/behavior/api.h"
#include "services/cart/api.h"
#include "services/recommend/feed.h"
#include "services/recommend/snapshot.h"

namespace emporium::recommend {
namespace {

using boost::json::array;
using boost::json::object;
using Steady = std::chrono::steady_clock;
using ::emporium::testing::DataDir;

std::string Pid(uint64_t i) {
  return "p-" + std::to_string(i);
}

struct Workload {
  std::vector<Fact> facts;
  std::vector<std::string> subjects;
};

// Facts as the feed logs them: products (some never described, some deleted or out of stock),
// interactions in no particular time order, stock changes, cart lines and guest merges.
Workload MakeWorkload(size_t interactions, uint64_t users, uint64_t items, uint64_t seed) {
  Xoshiro256 rng(seed);
  Workload w;
  for (uint64_t u = 0; u < users; ++u)
    w.subjects.push_back((u % 5 == 0 ? "guest:g" : "user:u") + std::to_string(u));
  for (uint64_t i = 0; i < items; ++i) {
    if (i % 7 == 3) continue;
    w.facts.push_back(ItemFacts{Pid(i), "Item " + std::to_string(i), "cat" + std::to_string(i % 4), "brand",
                                static_cast<int64_t>(1000 + i), i % 11 != 0, i % 13 == 0});
  }
  for (size_t k = 0; k < interactions; ++k) {
    const std::string& s = w.subjects[rng.Next() % users];
    w.facts.push_back(LiveInteraction{s, Pid(rng.Next() % items), static_cast<Signal>(rng.Next() % 5),
                                      1'700'000'000'000 + static_cast<int64_t>(rng.Next() % 1'000'000'000)});
    if (k % 97 == 0)
      w.facts.push_back(CartLine{s, Pid(rng.Next() % items), static_cast<int32_t>(rng.Next() % 4)});
    if (k % 501 == 0) w.facts.push_back(Stock{Pid(rng.Next() % items), rng.Next() % 2 == 0});
    if (k % 1009 == 0) {
      const uint64_t guest = (rng.Next() % users) / 5 * 5;
      w.facts.push_back(Merge{w.subjects[guest], w.subjects[(guest + 1) % users]});
    }
  }
  return w;
}

void AppendLog(const std::filesystem::path& log, const std::vector<Fact>& facts, size_t from = 0,
               size_t to = SIZE_MAX) {
  std::string text;
  for (size_t i = from; i < std::min(to, facts.size()); ++i) text += FactLine(facts[i]) + "\n";
  ASSERT_TRUE(fileutil::AppendFileSynced(log.string(), text).ok());
}

void ExpectSameGraph(const Graph& a, const Graph& b, const std::vector<std::string>& subjects) {
  EXPECT_EQ(a.EncodeSnapshot(0), b.EncodeSnapshot(0)) << "the whole state";
  const GraphSnapshot sa = a.Snapshot(), sb = b.Snapshot();
  EXPECT_EQ(sa.users, sb.users);
  EXPECT_EQ(sa.item_ids, sb.item_ids);
  ASSERT_EQ(sa.rows.size(), sb.rows.size());
  size_t differ = 0;
  for (size_t i = 0; i < sa.rows.size(); ++i) {
    const Interaction &x = sa.rows[i], &y = sb.rows[i];
    if (x.user != y.user || x.item != y.item || x.weight != y.weight || x.at_ms != y.at_ms) ++differ;
  }
  EXPECT_EQ(differ, 0u) << "rows in arrival order";
  for (const std::string& s : subjects) {
    const History ha = a.HistoryOf(s, 7), hb = b.HistoryOf(s, 7);
    EXPECT_EQ(ha.items, hb.items) << s;
    EXPECT_EQ(ha.weights, hb.weights) << s;
    EXPECT_EQ(ha.affinity, hb.affinity) << s;
    EXPECT_EQ(a.RecentItems(s, 1000), b.RecentItems(s, 1000)) << s;
    EXPECT_EQ(a.CartOf(s), b.CartOf(s)) << s;
  }
  for (int32_t i = 0; i < sa.items; ++i) {
    const auto fa = a.Facts(i), fb = b.Facts(i);
    ASSERT_EQ(fa.has_value(), fb.has_value()) << i;
    if (fa) {
      EXPECT_EQ(std::tie(fa->id, fa->title, fa->category, fa->brand, fa->price, fa->in_stock, fa->deleted),
                std::tie(fb->id, fb->title, fb->category, fb->brand, fb->price, fb->in_stock, fb->deleted))
          << i;
    }
    EXPECT_EQ(a.Showable(i), b.Showable(i)) << i;
  }
}

// Warnings logged while it lives.
class Warnings {
 public:
  Warnings() {
    log::SetSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_ += std::string(line) + "\n";
    });
  }
  ~Warnings() { log::SetSink(nullptr); }
  std::string Take() {
    log::Flush();
    std::lock_guard lock(mu_);
    return std::exchange(lines_, "");
  }

 private:
  std::mutex mu_;
  std::string lines_;
};

TEST(GraphSnapshot, RoundTripKeepsEverythingTheGraphHolds) {
  const Workload w = MakeWorkload(5000, 60, 40, 1);
  Graph a;
  for (const Fact& f : w.facts) Apply(a, f);
  size_t carts = 0;
  for (const std::string& s : w.subjects) carts += a.CartOf(s).empty() ? 0 : 1;
  ASSERT_GT(carts, 5u) << "the workload fills carts";
  ASSERT_TRUE(a.ItemIndex("p-3").has_value());
  ASSERT_FALSE(a.Facts(*a.ItemIndex("p-3")).has_value()) << "and leaves items without facts";

  Graph b;
  auto offset = b.DecodeSnapshot(a.EncodeSnapshot(1234));
  ASSERT_TRUE(offset.ok()) << offset.status().ToString();
  EXPECT_EQ(*offset, 1234u);
  ExpectSameGraph(a, b, w.subjects);

  // Through the file, into a graph that held something else: replaced.
  DataDir dir("graph-snapshot", {}, DataDir::Cleanup::kRemove);
  ASSERT_TRUE(WriteSnapshot(dir.path() / "graph.snapshot", a, 99).ok());
  Graph c;
  c.Add({LiveInteraction{"user:other", "p-elsewhere", Signal::kView, 1}});
  c.SetCartQuantity("user:other", "p-1", 1);
  auto read = ReadSnapshot(dir.path() / "graph.snapshot", c);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, 99u);
  ExpectSameGraph(a, c, w.subjects);
  EXPECT_TRUE(c.CartOf("user:other").empty());
  EXPECT_FALSE(c.ItemIndex("p-elsewhere").has_value());

  // A corrupt one changes nothing.
  std::string bad = a.EncodeSnapshot(1);
  bad[bad.size() / 2] ^= 0x10;
  EXPECT_EQ(c.DecodeSnapshot(bad).status().code(), Code::kInvalidArgument);
  ExpectSameGraph(a, c, w.subjects);
  EXPECT_EQ(ReadSnapshot(dir.path() / "none", c).status().code(), Code::kNotFound);
}

TEST(GraphSnapshot, ACorruptTruncatedOtherVersionOrTooLongSnapshotIsIgnoredForAFullReplay) {
  const Workload w = MakeWorkload(3000, 40, 30, 2);
  DataDir dir("graph-snapshot", {}, DataDir::Cleanup::kRemove);
  const auto log = dir.path() / "log.jsonl";
  AppendLog(log, w.facts);
  Graph full;
  ASSERT_EQ(Replay(log, full).value(), w.facts.size());
  const uint64_t size = std::filesystem::file_size(log);
  const std::string good = full.EncodeSnapshot(size);

  ASSERT_TRUE(fileutil::WriteFileAtomic(SnapshotPath(log).string(), good).ok());
  {
    Graph g;
    EXPECT_EQ(Restore(log, g).value(), 0u) << "a good snapshot leaves nothing to replay";
    ExpectSameGraph(full, g, w.subjects);
  }

  std::string flipped = good;
  flipped[good.size() / 3] ^= 0x01;
  std::string version = good;
  version[kSnapshotMagic.size()] = 2;
  const uint64_t sum = Checksum64(std::string_view(version).substr(0, version.size() - 8));
  std::memcpy(version.data() + version.size() - 8, &sum, 8);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a flipped bit", flipped},
      {"truncated", good.substr(0, good.size() * 2 / 3)},
      {"cut inside the header", good.substr(0, 10)},
      {"version 2 (with a right checksum)", version},
      {"covering more than the log", full.EncodeSnapshot(size + 10)},
      {"ending inside a line of the log", full.EncodeSnapshot(size - 5)},
      {"not a snapshot", "hello"},
  };
  Warnings warnings;
  for (const auto& [what, bytes] : cases) {
    ASSERT_TRUE(fileutil::WriteFileAtomic(SnapshotPath(log).string(), bytes).ok());
    Graph g;
    auto replayed = Restore(log, g);
    ASSERT_TRUE(replayed.ok()) << what << ": " << replayed.status().ToString();
    EXPECT_EQ(*replayed, w.facts.size()) << what << ": the whole log is replayed";
    ExpectSameGraph(full, g, w.subjects);
    EXPECT_NE(warnings.Take().find("graph snapshot ignored"), std::string::npos) << what << ": said so";
  }
}

TEST(GraphSnapshot, SnapshotAndTheLogAfterItMakeTheGraphAFullReplayMakes) {
  Workload w = MakeWorkload(4000, 50, 30, 3);
  // The tail has every kind of fact, a guest merge with a cart among them.
  w.facts.push_back(CartLine{"guest:g5", "p-2", 2});
  w.facts.push_back(Merge{"guest:g5", "user:u6"});
  w.facts.push_back(ItemFacts{"p-new", "New", "cat0", "brand", 5, true, false});
  w.facts.push_back(Stock{"p-1", false});
  w.facts.push_back(LiveInteraction{"user:u6", "p-new", Signal::kPurchase, 1});
  DataDir dir("graph-snapshot", {}, DataDir::Cleanup::kRemove);
  const auto log = dir.path() / "log.jsonl";
  const size_t half = w.facts.size() / 2;
  AppendLog(log, w.facts, 0, half);
  {
    Graph first;
    ASSERT_EQ(Replay(log, first).value(), half);
    ASSERT_TRUE(WriteSnapshot(SnapshotPath(log), first, std::filesystem::file_size(log)).ok());
  }
  AppendLog(log, w.facts, half);
  // A crash mid-append leaves a torn last line: skipped.
  ASSERT_TRUE(fileutil::AppendFileSynced(log.string(), R"({"t":1,"u":"user:u1","p":"p-)").ok());

  Graph restored, full;
  EXPECT_EQ(Restore(log, restored).value(), w.facts.size() - half);
  EXPECT_EQ(Replay(log, full).value(), w.facts.size());
  ExpectSameGraph(full, restored, w.subjects);
  EXPECT_EQ(restored.CartOf("user:u6").size(), full.CartOf("user:u6").size());
  EXPECT_TRUE(restored.CartOf("guest:g5").empty());
}

bus::Event CartEvent(const std::string& type, const std::string& subject, const std::string& product,
                     int quantity, const array& items) {
  // As cart's events.cc makes them: the line, and the change its SSE clients receive.
  object change{{"seq", 3},     {"type", type},   {"product_id", product},           {"quantity", quantity},
                {"version", 3}, {"items", items}, {"at", "2026-03-01T10:00:00.000Z"}};
  object data{{"subject", subject}, {"product_id", product}, {"quantity", quantity}, {"change", change}};
  return bus::MakeEvent(std::string(cart::kEventSource), "cart." + type, subject, json::Dump(data));
}

CartLine OnlyCartLine(const bus::Event& e) {
  auto facts = FactsOf(e);
  EXPECT_TRUE(facts.ok()) << facts.status().ToString();
  if (!facts.ok() || facts->size() != 1 || !std::holds_alternative<CartLine>(facts->front())) {
    ADD_FAILURE() << e.type << " is not one cart line";
    return {};
  }
  // What is logged reads back the same.
  auto back = ParseFactLine(FactLine(facts->front()));
  EXPECT_TRUE(back.ok() && std::holds_alternative<CartLine>(*back));
  if (back.ok() && std::holds_alternative<CartLine>(*back)) {
    const CartLine &a = std::get<CartLine>(facts->front()), &b = std::get<CartLine>(*back);
    EXPECT_EQ(std::tie(a.subject, a.product_id, a.quantity), std::tie(b.subject, b.product_id, b.quantity));
  }
  return std::get<CartLine>(facts->front());
}

TEST(CartFacts, CartEventsSayWhatACartHoldsAndAGuestMergeMovesIt) {
  const array one{object{{"product_id", "p-1"}, {"quantity", 2}}};
  CartLine added = OnlyCartLine(CartEvent("item_added", "guest:g1", "p-1", 2, one));
  EXPECT_EQ(std::tie(added.subject, added.product_id, added.quantity),
            std::make_tuple(std::string("guest:g1"), std::string("p-1"), 2));
  EXPECT_EQ(OnlyCartLine(CartEvent("item_updated", "user:ada", "p-3", 4, one)).quantity, 4);
  CartLine removed = OnlyCartLine(CartEvent("item_removed", "guest:g1", "p-9", 0, array{}));
  EXPECT_EQ(removed.quantity, 0);
  EXPECT_EQ(removed.product_id, "p-9");

  auto wish = FactsOf(bus::MakeEvent(std::string(cart::kEventSource), "wishlist.item_added", "user:ada",
                                     R"({"subject":"user:ada","product_id":"p-1"})"));
  ASSERT_TRUE(wish.ok());
  EXPECT_TRUE(wish->empty()) << "a wishlist is behaviour's wishlist_add, not the cart";
  EXPECT_FALSE(FactsOf(bus::MakeEvent(std::string(cart::kEventSource), "cart.item_added", "user:ada",
                                      R"({"subject":"user:ada","product_id":"p-1"})"))
                   .ok())
      << "a line without its quantity is malformed";

  Graph g;
  for (const char* id : {"p-1", "p-2", "p-3"}) g.SetFacts(ItemFacts{id, id, "c", "b", 1, true, false});
  g.Add({LiveInteraction{"user:ada", "p-3", Signal::kView, 1}});
  const int32_t p1 = *g.ItemIndex("p-1"), p2 = *g.ItemIndex("p-2"), p3 = *g.ItemIndex("p-3");
  Apply(g, added);
  Apply(g, OnlyCartLine(CartEvent("item_added", "guest:g1", "p-2", 1, one)));
  Apply(g, OnlyCartLine(CartEvent("item_added", "guest:g1", "p-unknown", 1, one)));
  Apply(g, OnlyCartLine(CartEvent("item_added", "user:ada", "p-3", 1, one)));
  Apply(g, OnlyCartLine(CartEvent("item_added", "user:ada", "p-2", 1, one)));
  EXPECT_EQ(g.interactions(), 1u) << "what a cart holds is not an interaction";
  EXPECT_EQ(g.CartOf("guest:g1"), (std::vector<int32_t>{p1, p2})) << "unknown products left out";
  Apply(g, OnlyCartLine(CartEvent("item_updated", "guest:g1", "p-1", 5, one)));
  EXPECT_EQ(g.CartOf("guest:g1"), (std::vector<int32_t>{p1, p2})) << "a new quantity keeps the place";

  // The guest has no interactions, only a cart: it moves all the same.
  auto merged = FactsOf(bus::MakeEvent("/emporium/behavior", "behavior.guest_merged", "user:ada",
                                       R"({"guest_id":"g1","user_id":"ada","events":0})"));
  ASSERT_TRUE(merged.ok() && merged->size() == 1);
  Apply(g, merged->front());
  EXPECT_TRUE(g.CartOf("guest:g1").empty());
  EXPECT_EQ(g.CartOf("user:ada"), (std::vector<int32_t>{p3, p2, p1}));
  Apply(g, removed);
  Apply(g, OnlyCartLine(CartEvent("item_removed", "user:ada", "p-3", 0, one)));
  EXPECT_EQ(g.CartOf("user:ada"), (std::vector<int32_t>{p2, p1}));
}

TEST(Feed, SnapshotsEveryNLinesAndOnStopAndRestartsFromTheSnapshot) {
  DataDir dir("graph-snapshot-feed", {}, DataDir::Cleanup::kRemove);
  auto bus = bus::Open("log://" + (dir.path() / "bus").string());
  ASSERT_TRUE(bus.ok()) << bus.status().ToString();
  auto producer = (*bus)->NewProducer();
  ASSERT_TRUE(producer.ok());
  const auto log = dir.path() / "recommend" / "log.jsonl";
  const auto view = [&](const std::string& type, const std::string& product) {
    object data{{"user_id", "user:ada"},
                {"type", type},
                {"product_id", product},
                {"time", FormatRfc3339UnixMillis(1'700'000'000'000)}};
    ASSERT_TRUE(
        (*producer)
            ->Publish(std::string(behavior::kBehaviorTopic), "user:ada",
                      bus::MakeEvent("/emporium/behavior", "behavior." + type, "user:ada", json::Dump(data)))
            .ok());
  };
  const auto cart = [&](const std::string& product, int quantity) {
    ASSERT_TRUE(
        (*producer)
            ->Publish(std::string(cart::kCartTopic), "user:ada",
                      CartEvent(quantity ? "item_added" : "item_removed", "user:ada", product, quantity, {}))
            .ok());
  };
  const auto drain = [](Feed& feed) {
    for (int idle = 0; idle < 3;) {
      auto got = feed.RunOnce(Millis(30));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      idle = *got ? 0 : idle + 1;
    }
  };

  Graph graph;
  std::vector<std::string> observed;
  FeedOptions options;
  options.snapshot_every = 4;
  options.observer = [&](const bus::Event& e) { observed.push_back(e.type); };
  auto feed = Feed::Open(**bus, graph, log, options);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  view("product_view", "p-1");
  view("product_view", "p-2");
  view("recommendation_view", "p-2");
  view("add_to_cart", "p-3");
  cart("p-3", 1);
  drain(**feed);
  EXPECT_EQ(graph.interactions(), 3u);
  EXPECT_EQ(graph.CartOf("user:ada"), (std::vector<int32_t>{*graph.ItemIndex("p-3")}));
  std::sort(observed.begin(), observed.end());
  EXPECT_EQ(observed, (std::vector<std::string>{"behavior.add_to_cart", "behavior.product_view",
                                                "behavior.product_view", "behavior.recommendation_view",
                                                "cart.item_added"}))
      << "every live event, learned from or not";
  {
    Graph g;
    auto at = ReadSnapshot(SnapshotPath(log), g);
    ASSERT_TRUE(at.ok()) << "4 lines logged: " << at.status().ToString();
    EXPECT_EQ(*at, std::filesystem::file_size(log));
  }

  view("product_view", "p-4");
  drain(**feed);
  {
    Graph g;
    EXPECT_LT(ReadSnapshot(SnapshotPath(log), g).value(), std::filesystem::file_size(log)) << "1 line < 4";
  }
  (*feed)->Stop();
  {
    Graph g;
    EXPECT_EQ(ReadSnapshot(SnapshotPath(log), g).value(), std::filesystem::file_size(log))
        << "Stop snapshots";
  }
  feed->reset();

  // A restart: nothing to replay. A torn last line is cut off, so the next append starts clean.
  const uint64_t size = std::filesystem::file_size(log);
  ASSERT_TRUE(fileutil::AppendFileSynced(log.string(), R"({"t":5,"u":"user:a)").ok());
  Graph again;
  auto reopened = Feed::Open(**bus, again, log, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->replayed(), 0u);
  EXPECT_EQ(std::filesystem::file_size(log), size);
  ExpectSameGraph(graph, again, {"user:ada"});
  cart("p-3", 0);
  drain(**reopened);
  EXPECT_TRUE(again.CartOf("user:ada").empty());
  reopened->reset();
  Graph replayed;
  EXPECT_EQ(Replay(log, replayed).value(), 6u) << "the log reads to its end";
  ExpectSameGraph(again, replayed, {"user:ada"});
}

// Not a timing assertion: prints what a restart costs with and without the snapshot.
TEST(GraphSnapshot, LoadsAMillionRowsInAFractionOfAReplay) {
#ifdef NDEBUG
  constexpr size_t kRows = 1'000'000;
#else
  constexpr size_t kRows = 100'000;  // sanitizer and debug builds
#endif
  const Workload w = MakeWorkload(kRows, 100'000, 50'000, 4);
  DataDir dir("graph-snapshot-bench", {}, DataDir::Cleanup::kRemove);
  const auto log = dir.path() / "log.jsonl";
  AppendLog(log, w.facts);
  const auto ms = [](Steady::time_point since) {
    return std::chrono::duration<double, std::milli>(Steady::now() - since).count();
  };

  Graph full;
  auto t = Steady::now();
  ASSERT_EQ(Replay(log, full).value(), w.facts.size());
  const double replay_ms = ms(t);
  t = Steady::now();
  ASSERT_TRUE(WriteSnapshot(SnapshotPath(log), full, std::filesystem::file_size(log)).ok());
  const double write_ms = ms(t);
  Graph restored;
  t = Steady::now();
  ASSERT_EQ(Restore(log, restored).value(), 0u);
  const double restore_ms = ms(t);

  ASSERT_EQ(restored.interactions(), kRows);
  ExpectSameGraph(full, restored, std::vector<std::string>(w.subjects.begin(), w.subjects.begin() + 2000));
  const auto mb = static_cast<double>(std::filesystem::file_size(SnapshotPath(log))) / 1e6;
  std::cout << "graph of " << kRows << " rows, " << full.users() << " users: full replay of the log "
            << replay_ms << " ms; snapshot " << mb << " MB written in " << write_ms << " ms, restored in "
            << restore_ms << " ms\n";
  RecordProperty("replay_ms", std::to_string(replay_ms));
  RecordProperty("snapshot_write_ms", std::to_string(write_ms));
  RecordProperty("snapshot_restore_ms", std::to_string(restore_ms));
}

}  // namespace
}  // namespace emporium::recommend
