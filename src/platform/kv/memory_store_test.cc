// Embedded backend: the shared suite (volatile and persisted) plus what only it has: exact
// fake-clock expiry, sweeping, persistence across reopen, compaction and recovery.
#include <fstream>

#include "platform/kv/kv_test_suite.h"
#include "platform/kv/memory_store.h"
#include "platform/kv/redis_pool.h"

namespace emporium::kv {
namespace {

namespace fs = std::filesystem;
using std::optional;
using std::string;

INSTANTIATE_TEST_SUITE_P(Embedded, StoreTest,
                         testing::Values(Backend{"memory",
                                                 [](FakeClock& clock, const fs::path&) {
                                                   return Open("memory://", clock);
                                                 }},
                                         Backend{"file",
                                                 [](FakeClock& clock, const fs::path& dir) {
                                                   return Open("file://" + (dir / "kv").string(), clock);
                                                 }}),
                         [](const testing::TestParamInfo<Backend>& info) { return info.param.name; });

class PersistenceTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir() / "kv"; }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_.parent_path(), ec);
  }
  void Reopen(uint64_t compact_log_bytes = 8 << 20) {
    store_.reset();
    auto store = MemoryStore::Open(clock_, {.dir = dir_, .compact_log_bytes = compact_log_bytes});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  // Total bytes of the log files in the store's directory.
  uint64_t LogBytes() const {
    uint64_t total = 0;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().starts_with("log.")) total += e.file_size();
    }
    return total;
  }
  fs::path LastLog() const {
    fs::path last;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().starts_with("log.") && e.path() > last) last = e.path();
    }
    return last;
  }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<MemoryStore> store_;
};

TEST_F(PersistenceTest, StateSurvivesReopen) {
  Reopen();
  ASSERT_TRUE(store_->Set("plain", "v").ok());
  ASSERT_TRUE(store_->Set("short", "v", Millis(1000)).ok());
  ASSERT_TRUE(store_->Set("long", "v", Millis(3'600'000)).ok());
  ASSERT_TRUE(store_->Set("deleted", "v").ok());
  ASSERT_TRUE(store_->Delete("deleted").ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->Increment("n", 1).ok());
  ASSERT_TRUE(store_->CompareAndSet("cas", std::nullopt, "won").value());

  clock_.Advance(Millis(2000));
  Reopen();
  EXPECT_EQ(store_->Get("plain").value(), optional<string>("v"));
  EXPECT_EQ(store_->Get("short").value(), std::nullopt);
  EXPECT_EQ(store_->Get("long").value(), optional<string>("v"));
  EXPECT_EQ(store_->Ttl("long").value(), optional<Millis>(Millis(3'600'000 - 2000)));
  EXPECT_EQ(store_->Get("deleted").value(), std::nullopt);
  EXPECT_EQ(store_->Get("n").value(), optional<string>("3"));
  EXPECT_EQ(store_->Get("cas").value(), optional<string>("won"));
  // The expired key is not even loaded, and the log replayed at open was folded into a snapshot.
  EXPECT_EQ(store_->EntryCount(), 4u);
  EXPECT_EQ(LogBytes(), 0u);
  EXPECT_TRUE(fs::exists(dir_ / "snapshot"));

  // And it stays that way across another restart with no writes in between.
  Reopen();
  EXPECT_EQ(store_->Get("short").value(), std::nullopt);
  EXPECT_EQ(store_->Get("n").value(), optional<string>("3"));
}

TEST_F(PersistenceTest, KeyExpiredWhileRunningDoesNotReturn) {
  Reopen();
  ASSERT_TRUE(store_->Set("k", "v", Millis(1000)).ok());
  ASSERT_TRUE(store_->Compact().ok());  // now also in the snapshot, not just the log
  clock_.Advance(Millis(1500));
  EXPECT_EQ(store_->Get("k").value(), std::nullopt);
  Reopen();
  EXPECT_EQ(store_->Get("k").value(), std::nullopt);
  EXPECT_EQ(store_->EntryCount(), 0u);
}

TEST_F(PersistenceTest, LogIsCompactedWhenItGrows) {
  constexpr uint64_t kLimit = 2048;  // about 50 records: several compactions below
  Reopen(kLimit);
  uint64_t max_log = 0;
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(store_->Set("key-" + std::to_string(i % 10), "value-" + std::to_string(i)).ok());
    max_log = std::max(max_log, LogBytes());
  }
  // One record past the limit at most: the write that crosses it compacts.
  EXPECT_LT(max_log, kLimit + 100);
  EXPECT_TRUE(fs::exists(dir_ / "snapshot"));
  Reopen(kLimit);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(store_->Get("key-" + std::to_string(k)).value(),
              optional<string>("value-" + std::to_string(490 + k)));
  }
}

TEST_F(PersistenceTest, TornLogTailIsIgnored) {
  Reopen();
  ASSERT_TRUE(store_->Set("a", "1").ok());
  ASSERT_TRUE(store_->Set("b", "2").ok());
  fs::path log = LastLog();
  store_.reset();
  {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    out << string("\x20\x00\x00\x00garbage", 11);  // a frame header promising more than follows
  }
  Reopen();
  EXPECT_EQ(store_->Get("a").value(), optional<string>("1"));
  EXPECT_EQ(store_->Get("b").value(), optional<string>("2"));
  ASSERT_TRUE(store_->Set("c", "3").ok());
  Reopen();
  EXPECT_EQ(store_->Get("c").value(), optional<string>("3"));
}

TEST_F(PersistenceTest, DirectoryCannotBeOpenedTwice) {
  Reopen();
  auto second = MemoryStore::Open(clock_, {.dir = dir_});
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
}

TEST(MemoryStoreTest, ExpiryIsExactOnTheFakeClock) {
  FakeClock clock;
  auto store = MemoryStore::Open(clock, {}).value();
  ASSERT_TRUE(store->Set("k", "v", Millis(1000)).ok());
  clock.Advance(Millis(999));
  EXPECT_EQ(store->Ttl("k").value(), optional<Millis>(Millis(1)));
  EXPECT_EQ(store->Get("k").value(), optional<string>("v"));
  clock.Advance(Millis(1));
  EXPECT_EQ(store->Get("k").value(), std::nullopt);
}

TEST(MemoryStoreTest, ExpiredKeysAreSweptWithoutBeingTouched) {
  FakeClock clock;
  auto store = MemoryStore::Open(clock, {}).value();
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(store->Set("gone-" + std::to_string(i), "v", Millis(10)).ok());
  EXPECT_EQ(store->EntryCount(), 5000u);
  clock.Advance(Millis(20));
  for (int i = 0; i < 100'000; ++i) ASSERT_TRUE(store->Get("other-" + std::to_string(i)).ok());
  EXPECT_EQ(store->EntryCount(), 0u);
}

TEST(OpenTest, RejectsBadUrls) {
  EXPECT_EQ(Open("nosuch://x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("memory://relative/dir").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("file://").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("redis://127.0.0.1:notaport").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("redis://127.0.0.1:6379/x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("redis://127.0.0.1:6379?bogus=1").status().code(), Code::kInvalidArgument);
}

TEST(OpenTest, UnreachableRedisIsUnavailable) {
  // Port 1 on loopback: nothing listens there, so the connect is refused at once.
  EXPECT_EQ(Open("redis://127.0.0.1:1").status().code(), Code::kUnavailable);
}

TEST(RedisUrlTest, ParsesEveryPart) {
  RedisOptions o = ParseRedisUrl("redis://:s3cret@cache.local:6380/2?pool_size=3&timeout_ms=250").value();
  EXPECT_EQ(o.host, "cache.local");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.db, 2);
  EXPECT_EQ(o.password, "s3cret");
  EXPECT_EQ(o.pool_size, 3u);
  EXPECT_EQ(o.command_timeout, Millis(250));
  RedisOptions v6 = ParseRedisUrl("redis://[::1]").value();
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 6379);
  EXPECT_EQ(v6.db, 0);
}

}  // namespace
}  // namespace emporium::kv
