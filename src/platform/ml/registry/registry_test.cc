#include "platform/ml/registry/registry.h"

#include <gtest/gtest.h>

#include <fstream>

#include "platform/core/random.h"

namespace emporium::ml {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = fs::path(::testing::TempDir()) / ("registry-" + RandomHex(6)); }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(RegistryTest, NothingPublishedIsNotFound) {
  ModelStore store(root_, "ranker");
  EXPECT_EQ(store.Current().status().code(), Code::kNotFound);
  EXPECT_TRUE(store.Versions().empty());
}

TEST_F(RegistryTest, PublishMakesTheNewVersionCurrentWithItsFilesAndMetrics) {
  ModelStore store(root_, "ranker");
  auto first = store.Publish({{"model.ubj", std::string("one\0bytes", 9)}}, R"({"ndcg":0.4})");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = store.Publish({{"model.ubj", "two"}}, R"({"ndcg":0.5})");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->version, second->version);
  EXPECT_LT(first->version, second->version) << "versions sort by time";

  auto current = store.Current();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version, second->version);
  EXPECT_EQ(*store.Read(*current, "model.ubj"), "two");
  EXPECT_EQ(*store.Read(*current, "metrics.json"), R"({"ndcg":0.5})");
  EXPECT_EQ(*store.Read(*first, "model.ubj"), std::string("one\0bytes", 9)) << "old versions are kept";
  EXPECT_EQ(store.Read(*current, "absent").status().code(), Code::kNotFound);
  EXPECT_EQ(store.Read(*current, "../CURRENT").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Versions().size(), 2u);
}

TEST_F(RegistryTest, AStagedCandidateIsCurrentOnlyOncePromotedAndAnOlderOneCanComeBack) {
  ModelStore store(root_, "recommend");
  auto first = store.Publish({{"m", "one"}}, "{}");
  ASSERT_TRUE(first.ok());
  auto candidate = store.Stage({{"m", "two"}}, "{}");
  ASSERT_TRUE(candidate.ok());
  EXPECT_EQ(store.Current()->version, first->version) << "staging leaves the current model";
  ASSERT_TRUE(store.Promote(candidate->version).ok());
  EXPECT_EQ(store.Current()->version, candidate->version);
  ASSERT_TRUE(store.Promote(first->version).ok()) << "a rollback";
  EXPECT_EQ(*store.Read(*store.Current(), "m"), "one");
  EXPECT_EQ(store.Promote("20990101T000000.000Z-abcdef").status().code(), Code::kNotFound);
  EXPECT_EQ(store.Promote("../x").status().code(), Code::kNotFound);
}

TEST_F(RegistryTest, FileNamesThatEscapeTheVersionAreRejected) {
  ModelStore store(root_, "ranker");
  EXPECT_EQ(store.Publish({{"../x", "a"}}, "{}").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Publish({{"metrics.json", "a"}}, "{}").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store.Current().status().code(), Code::kNotFound);
}

TEST_F(RegistryTest, AHalfWrittenVersionIsNeverCurrent) {
  ModelStore store(root_, "ranker");
  auto good = store.Publish({{"model.ubj", "good"}}, "{}");
  ASSERT_TRUE(good.ok());
  // A trainer that died before switching CURRENT leaves a newer directory behind.
  fs::create_directories(store.dir() / "29991231T000000Z-dead00");
  EXPECT_EQ(store.Current()->version, good->version);
}

TEST_F(RegistryTest, PruneKeepsTheNewestAndTheCurrent) {
  ModelStore store(root_, "ranker");
  std::vector<std::string> versions;
  for (int i = 0; i < 4; ++i) versions.push_back(store.Publish({{"m", std::to_string(i)}}, "{}")->version);
  // Someone rolled back to the oldest by hand.
  std::ofstream(store.dir() / "CURRENT") << versions[0] << "\n";
  store.Prune(2);
  auto kept = store.Versions();
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0], versions[0]);
  EXPECT_EQ(kept[1], versions[2]);
  EXPECT_EQ(kept[2], versions[3]);
}

TEST_F(RegistryTest, WatcherReportsEachNewVersionOnce) {
  ModelStore store(root_, "ranker");
  std::vector<std::string> seen;
  Watcher watcher(store, std::chrono::hours(1), [&](const Artifact& a) { seen.push_back(a.version); });
  watcher.Start();
  EXPECT_TRUE(seen.empty());
  auto v1 = store.Publish({{"m", "1"}}, "{}");
  watcher.Poll();
  watcher.Poll();
  auto v2 = store.Publish({{"m", "2"}}, "{}");
  watcher.Poll();
  watcher.Stop();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], v1->version);
  EXPECT_EQ(seen[1], v2->version);
}

TEST_F(RegistryTest, WatcherStartLoadsWhatIsAlreadyCurrent) {
  ModelStore store(root_, "ranker");
  auto v1 = store.Publish({{"m", "1"}}, "{}");
  std::string seen;
  Watcher watcher(store, std::chrono::milliseconds(10), [&](const Artifact& a) { seen = a.version; });
  watcher.Start();
  EXPECT_EQ(seen, v1->version);
  watcher.Stop();
}

}  // namespace
}  // namespace emporium::ml
