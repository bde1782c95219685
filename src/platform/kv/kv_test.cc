#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "platform/core/random.h"
#include "platform/kv/kv_test_suite.h"

namespace emporium::kv {

std::filesystem::path MakeTempDir() {
  auto dir = std::filesystem::temp_directory_path() / ("emp-kv-test-" + RandomHex(8));
  std::filesystem::create_directories(dir);
  return dir;
}

void StoreTest::SetUp() {
  dir_ = MakeTempDir();
  prefix_ = "emp-test:" + RandomHex(6) + ":";
  Result<std::unique_ptr<Store>> store = GetParam().open(clock_, dir_);
  ASSERT_TRUE(store.ok()) << GetParam().name << ": " << store.status().ToString();
  store_ = std::move(store).value();
}

void StoreTest::TearDown() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void StoreTest::Pass(Millis d) {
  if (GetParam().fake_time) {
    clock_.Advance(d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

namespace {

using std::optional;
using std::string;

// Long enough to check before it runs out even on a loaded machine with a real clock.
constexpr Millis kShortTtl(200);
constexpr Millis kPastShortTtl(350);

TEST_P(StoreTest, GetSetDelete) {
  EXPECT_EQ(store_->Get(Key("a")).value(), std::nullopt);
  ASSERT_TRUE(store_->Set(Key("a"), "one").ok());
  EXPECT_EQ(store_->Get(Key("a")).value(), optional<string>("one"));
  ASSERT_TRUE(store_->Set(Key("a"), "two").ok());
  EXPECT_EQ(store_->Get(Key("a")).value(), optional<string>("two"));
  EXPECT_TRUE(store_->Delete(Key("a")).value());
  EXPECT_FALSE(store_->Delete(Key("a")).value());
  EXPECT_EQ(store_->Get(Key("a")).value(), std::nullopt);
}

TEST_P(StoreTest, ValuesAreBinarySafeAndMayBeEmpty) {
  string binary("a\0b\xff", 4);
  ASSERT_TRUE(store_->Set(Key("bin key"), binary).ok());
  EXPECT_EQ(store_->Get(Key("bin key")).value(), optional<string>(binary));
  ASSERT_TRUE(store_->Set(Key("empty"), "").ok());
  EXPECT_EQ(store_->Get(Key("empty")).value(), optional<string>(""));
}

TEST_P(StoreTest, TtlExpires) {
  ASSERT_TRUE(store_->Set(Key("t"), "v", kShortTtl).ok());
  EXPECT_EQ(store_->Get(Key("t")).value(), optional<string>("v"));
  optional<Millis> ttl = store_->Ttl(Key("t")).value();
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(*ttl, Millis(0));
  EXPECT_LE(*ttl, kShortTtl);
  Pass(kPastShortTtl);
  EXPECT_EQ(store_->Get(Key("t")).value(), std::nullopt);
  EXPECT_EQ(store_->Ttl(Key("t")).value(), std::nullopt);
  EXPECT_FALSE(store_->Delete(Key("t")).value());
}

TEST_P(StoreTest, TtlOfPersistentAndAbsentKeys) {
  EXPECT_EQ(store_->Ttl(Key("none")).value(), std::nullopt);
  ASSERT_TRUE(store_->Set(Key("p"), "v").ok());
  EXPECT_EQ(store_->Ttl(Key("p")).value(), optional<Millis>(Millis(0)));
}

TEST_P(StoreTest, SetWithoutTtlClearsExpiry) {
  ASSERT_TRUE(store_->Set(Key("k"), "v1", kShortTtl).ok());
  ASSERT_TRUE(store_->Set(Key("k"), "v2").ok());
  EXPECT_EQ(store_->Ttl(Key("k")).value(), optional<Millis>(Millis(0)));
  Pass(kPastShortTtl);
  EXPECT_EQ(store_->Get(Key("k")).value(), optional<string>("v2"));
}

TEST_P(StoreTest, NegativeTtlIsInvalid) {
  EXPECT_EQ(store_->Set(Key("k"), "v", Millis(-1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->Increment(Key("k"), 1, Millis(-1)).status().code(), Code::kInvalidArgument);
}

TEST_P(StoreTest, IncrementCountsFromZero) {
  EXPECT_EQ(store_->Increment(Key("n"), 5).value(), 5);
  EXPECT_EQ(store_->Increment(Key("n"), -7).value(), -2);
  EXPECT_EQ(store_->Get(Key("n")).value(), optional<string>("-2"));
  ASSERT_TRUE(store_->Set(Key("m"), "40").ok());
  EXPECT_EQ(store_->Increment(Key("m"), 2).value(), 42);
  EXPECT_EQ(store_->Increment(Key("big"), INT64_MAX - 1).value(), INT64_MAX - 1);
  EXPECT_EQ(store_->Increment(Key("big"), 1).value(), INT64_MAX);
}

TEST_P(StoreTest, IncrementManyAppliesEachInOrder) {
  ASSERT_TRUE(store_->Set(Key("b"), "10").ok());
  const std::vector<std::pair<string, int64_t>> deltas{{Key("a"), 1}, {Key("b"), 5}, {Key("a"), 2}};
  EXPECT_EQ(store_->IncrementMany(deltas, Millis(60'000)).value(), (std::vector<int64_t>{1, 15, 3}));
  EXPECT_EQ(store_->Get(Key("a")).value(), optional<string>("3"));
  EXPECT_EQ(store_->Get(Key("b")).value(), optional<string>("15"));
  EXPECT_GT(store_->Ttl(Key("a")).value().value(), Millis(0)) << "a created key takes the ttl";
  EXPECT_EQ(store_->Ttl(Key("b")).value().value(), Millis(0)) << "an existing key keeps its own";
  ASSERT_TRUE(store_->Set(Key("s"), "x").ok());
  EXPECT_EQ(store_->IncrementMany({{{Key("s"), 1}}}).status().code(), Code::kFailedPrecondition);
}

TEST_P(StoreTest, IncrementOnNonIntegerFails) {
  for (const char* bad : {"abc", "1.5", "12abc", " 7", ""}) {
    ASSERT_TRUE(store_->Set(Key("s"), bad).ok());
    Result<int64_t> r = store_->Increment(Key("s"), 1);
    EXPECT_EQ(r.status().code(), Code::kFailedPrecondition) << "value '" << bad << "'";
    EXPECT_EQ(store_->Get(Key("s")).value(), optional<string>(bad));
  }
  ASSERT_TRUE(store_->Set(Key("max"), std::to_string(INT64_MAX)).ok());
  EXPECT_EQ(store_->Increment(Key("max"), 1).status().code(), Code::kFailedPrecondition);
}

TEST_P(StoreTest, IncrementTtlAppliesOnlyWhenCreated) {
  EXPECT_EQ(store_->Increment(Key("w"), 1, kShortTtl).value(), 1);
  EXPECT_EQ(store_->Increment(Key("w"), 1, Millis(60'000)).value(), 2);
  optional<Millis> ttl = store_->Ttl(Key("w")).value();
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(*ttl, Millis(0));
  EXPECT_LE(*ttl, kShortTtl);
  Pass(kPastShortTtl);
  EXPECT_EQ(store_->Get(Key("w")).value(), std::nullopt);
  EXPECT_EQ(store_->Increment(Key("w"), 1, kShortTtl).value(), 1);

  ASSERT_TRUE(store_->Set(Key("forever"), "10").ok());
  EXPECT_EQ(store_->Increment(Key("forever"), 1, kShortTtl).value(), 11);
  EXPECT_EQ(store_->Ttl(Key("forever")).value(), optional<Millis>(Millis(0)));
}

TEST_P(StoreTest, ConcurrentIncrementsAddUpExactly) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!store_->Increment(Key("counter"), 1).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->Get(Key("counter")).value(), optional<string>(std::to_string(kThreads * kPerThread)));
}

TEST_P(StoreTest, CompareAndSetSemantics) {
  EXPECT_TRUE(store_->CompareAndSet(Key("c"), std::nullopt, "first").value());
  EXPECT_FALSE(store_->CompareAndSet(Key("c"), std::nullopt, "again").value());
  EXPECT_FALSE(store_->CompareAndSet(Key("c"), "wrong", "x").value());
  EXPECT_EQ(store_->Get(Key("c")).value(), optional<string>("first"));
  EXPECT_TRUE(store_->CompareAndSet(Key("c"), "first", "second").value());
  EXPECT_EQ(store_->Get(Key("c")).value(), optional<string>("second"));
  EXPECT_FALSE(store_->CompareAndSet(Key("absent"), "anything", "x").value());
  EXPECT_EQ(store_->Get(Key("absent")).value(), std::nullopt);
  // An empty value is present, not absent.
  ASSERT_TRUE(store_->Set(Key("e"), "").ok());
  EXPECT_FALSE(store_->CompareAndSet(Key("e"), std::nullopt, "x").value());
  EXPECT_TRUE(store_->CompareAndSet(Key("e"), "", "x").value());
}

TEST_P(StoreTest, CompareAndSetTtl) {
  ASSERT_TRUE(store_->Set(Key("c"), "v").ok());
  EXPECT_TRUE(store_->CompareAndSet(Key("c"), "v", "w", kShortTtl).value());
  optional<Millis> ttl = store_->Ttl(Key("c")).value();
  ASSERT_TRUE(ttl.has_value());
  EXPECT_GT(*ttl, Millis(0));
  Pass(kPastShortTtl);
  EXPECT_EQ(store_->Get(Key("c")).value(), std::nullopt);
  // Expired counts as absent.
  EXPECT_TRUE(store_->CompareAndSet(Key("c"), std::nullopt, "new").value());
  EXPECT_EQ(store_->Ttl(Key("c")).value(), optional<Millis>(Millis(0)));
}

TEST_P(StoreTest, ConcurrentCompareAndSetHasOneWinner) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::atomic<int> winner{-1};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Result<bool> r = store_->CompareAndSet(Key("lock"), std::nullopt, "owner-" + std::to_string(t));
      if (r.ok() && *r) {
        ++winners;
        winner = t;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(store_->Get(Key("lock")).value(), optional<string>("owner-" + std::to_string(winner.load())));
}

TEST_P(StoreTest, CompareAndSetLoopsAddUpExactly) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  ASSERT_TRUE(store_->Set(Key("v"), "0").ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        while (true) {
          Result<optional<string>> cur = store_->Get(Key("v"));
          if (!cur.ok() || !cur->has_value()) {
            ++failures;
            return;
          }
          string next = std::to_string(std::stoi(**cur) + 1);
          Result<bool> swapped = store_->CompareAndSet(Key("v"), **cur, next);
          if (!swapped.ok()) {
            ++failures;
            return;
          }
          if (*swapped) break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->Get(Key("v")).value(), optional<string>(std::to_string(kThreads * kPerThread)));
}

}  // namespace
}  // namespace emporium::kv
