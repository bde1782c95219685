// Redis backend: the shared suite against a real server, plus reconnects and error mapping.
// Needs EMP_TEST_REDIS_URL (tests/harness/redis.sh start DIR prints it); fails when unset.
#include <hiredis/hiredis.h>

#include <cstdlib>
#include <thread>

#include "platform/core/random.h"
#include "platform/kv/kv_test_suite.h"
#include "platform/kv/redis_pool.h"

namespace emporium::kv {
namespace {

using std::optional;
using std::string;

Result<string> RedisUrl() {
  const char* url = std::getenv("EMP_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    return FailedPrecondition(
        "EMP_TEST_REDIS_URL is unset: start a server with `eval \"$(tests/harness/redis.sh start DIR)\"` "
        "or run `make test`");
  }
  return string(url);
}

Result<std::unique_ptr<Store>> OpenRedis(const string& suffix = "") {
  EMP_ASSIGN_OR_RETURN(string url, RedisUrl());
  return Open(url + suffix);
}

INSTANTIATE_TEST_SUITE_P(Redis, StoreTest,
                         testing::Values(Backend{
                             "redis", [](FakeClock&, const std::filesystem::path&) { return OpenRedis(); },
                             /*fake_time=*/false}),
                         [](const testing::TestParamInfo<Backend>& info) { return info.param.name; });

// A direct connection for poking at the server behind the store's back.
class RawRedis {
 public:
  RawRedis() {
    RedisOptions o = ParseRedisUrl(RedisUrl().value()).value();
    c_ = redisConnect(o.host.c_str(), o.port);
  }
  ~RawRedis() { redisFree(c_); }
  string Run(std::initializer_list<const char*> args) {
    std::vector<const char*> argv(args);
    auto* r =
        static_cast<redisReply*>(redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), nullptr));
    if (r == nullptr) return string("io error: ") + c_->errstr;
    string out = r->str != nullptr ? string(r->str, r->len) : std::to_string(r->integer);
    freeReplyObject(r);
    return out;
  }

 private:
  redisContext* c_ = nullptr;
};

class RedisStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    Result<string> url = RedisUrl();
    ASSERT_TRUE(url.ok()) << url.status().message();
    prefix_ = "emp-test:" + RandomHex(6) + ":";
  }
  string Key(const string& name) const { return prefix_ + name; }
  string prefix_;
};

TEST_F(RedisStoreTest, ReconnectsAfterServerDropsConnections) {
  auto store = OpenRedis().value();
  // Several pooled connections, so more than one goes stale.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Increment(Key("n"), 1).ok());
    });
  }
  for (auto& t : threads) t.join();
  RawRedis raw;
  EXPECT_NE(raw.Run({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}), "0");
  std::this_thread::sleep_for(Millis(50));  // let the FINs arrive
  for (int i = 0; i < 10; ++i) {
    Result<optional<string>> v = store->Get(Key("n"));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, optional<string>("80"));
  }
}

TEST_F(RedisStoreTest, ScriptsSurviveScriptFlush) {
  auto store = OpenRedis().value();
  EXPECT_EQ(store->Increment(Key("n"), 1).value(), 1);
  RawRedis raw;
  EXPECT_EQ(raw.Run({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(store->Increment(Key("n"), 1).value(), 2);
  EXPECT_TRUE(store->CompareAndSet(Key("c"), std::nullopt, "x").value());
}

TEST_F(RedisStoreTest, OtherRedisTypesAreFailedPrecondition) {
  auto store = OpenRedis().value();
  RawRedis raw;
  string key = Key("list");
  raw.Run({"RPUSH", key.c_str(), "a"});
  EXPECT_EQ(store->Get(key).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(store->Increment(key, 1).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(store->CompareAndSet(key, "a", "b").status().code(), Code::kFailedPrecondition);
}

TEST_F(RedisStoreTest, DbIndexIsSelected) {
  auto store = OpenRedis("/3").value();
  ASSERT_TRUE(store->Set(Key("in3"), "v").ok());
  RawRedis raw;  // db 0
  string key = Key("in3");
  EXPECT_EQ(raw.Run({"EXISTS", key.c_str()}), "0");
  EXPECT_EQ(raw.Run({"SELECT", "3"}), "OK");
  EXPECT_EQ(raw.Run({"EXISTS", key.c_str()}), "1");
}

TEST_F(RedisStoreTest, SmallPoolServesManyThreads) {
  auto store = OpenRedis("?pool_size=1").value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(store->Increment(Key("n"), 1).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store->Get(Key("n")).value(), optional<string>("200"));
}

}  // namespace
}  // namespace emporium::kv
