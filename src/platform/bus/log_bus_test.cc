// Embedded log backend: the shared behaviour suite plus what only a local log has (crash
// recovery, directory ownership, blocking Poll, group commit).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "platform/bus/bus_behaviour_test.h"
#include "platform/core/random.h"

namespace emporium::bus::testing {
namespace fs = std::filesystem;

namespace {

std::string TempDir() {
  fs::path dir = fs::temp_directory_path() / ("emp-bus-" + RandomHex(8));
  fs::create_directories(dir);
  return dir.string();
}

class LogEnv final : public BusEnv {
 public:
  LogEnv() : dir_(TempDir()) {}
  ~LogEnv() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Result<std::unique_ptr<Bus>> OpenBus() override { return Open("log://" + dir_); }
  Millis patience() const override { return Millis(5000); }

 private:
  std::string dir_;
};

}  // namespace

std::unique_ptr<BusEnv> MakeBusEnv() {
  return std::make_unique<LogEnv>();
}

namespace {

class LogBusTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = TempDir(); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Bus> OpenBus() {
    auto bus = Open("log://" + dir_);
    EXPECT_TRUE(bus.ok()) << bus.status().ToString();
    return bus.ok() ? std::move(bus).value() : nullptr;
  }

  std::string dir_;
};

TEST_F(LogBusTest, RejectsBadUrlsAndNames) {
  EXPECT_EQ(Open("log://relative/dir").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Open("nats://x").status().code(), Code::kInvalidArgument);
  auto bus = OpenBus();
  ASSERT_NE(bus, nullptr);
  EXPECT_EQ(bus->EnsureTopic("../etc", 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(bus->EnsureTopic("ok", 0).code(), Code::kInvalidArgument);
  auto producer = std::move(bus->NewProducer()).value();
  EXPECT_EQ(producer->Publish("missing", "k", TestEvent("k", 0)).code(), Code::kNotFound);
  EXPECT_EQ(bus->Subscribe("g", {"missing"}).status().code(), Code::kNotFound);
}

TEST_F(LogBusTest, DirectoryOwnedByOneProcess) {
  // Another process's flock looks the same as one taken on another open file description.
  const std::string lock_path = dir_ + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto bus = Open("log://" + dir_);
  ASSERT_FALSE(bus.ok());
  EXPECT_EQ(bus.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(bus.status().message().find("in use"), std::string::npos);
  ::close(fd);
  EXPECT_TRUE(Open("log://" + dir_).ok());
}

TEST_F(LogBusTest, TwoOpensInOneProcessShareTheLog) {
  auto a = OpenBus();
  auto b = OpenBus();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->EnsureTopic("t", 2).ok());
  ASSERT_TRUE(std::move(a->NewProducer()).value()->Publish("t", "k", TestEvent("k", 7)).ok());
  auto consumer = std::move(b->Subscribe("g", {"t"})).value();
  auto got = PollN(*consumer, 1, Millis(2000));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(SeqOf(got[0]), 7);
}

TEST_F(LogBusTest, PollBlocksUntilARecordArrives) {
  auto bus = OpenBus();
  ASSERT_TRUE(bus->EnsureTopic("t", 3).ok());
  auto consumer = std::move(bus->Subscribe("g", {"t"})).value();
  auto producer = std::move(bus->NewProducer()).value();
  auto empty = consumer->Poll(Millis(50));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  std::thread publisher([&] {
    std::this_thread::sleep_for(Millis(100));
    EXPECT_TRUE(producer->Publish("t", "k", TestEvent("k", 1)).ok());
  });
  const auto start = std::chrono::steady_clock::now();
  auto got = consumer->Poll(Millis(10000));
  const auto waited = std::chrono::steady_clock::now() - start;
  publisher.join();
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_LT(waited, std::chrono::seconds(5)) << "Poll must wake on arrival, not on timeout";
}

TEST_F(LogBusTest, ConcurrentPublishersAllLand) {
  auto bus = OpenBus();
  ASSERT_TRUE(bus->EnsureTopic("t", 2).ok());
  auto producer = std::move(bus->NewProducer()).value();
  constexpr int kThreads = 8;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "key-" + std::to_string(t);
      for (int i = 0; i < kEach; ++i) EXPECT_TRUE(producer->Publish("t", key, TestEvent(key, i)).ok());
    });
  }
  for (auto& th : threads) th.join();
  auto consumer = std::move(bus->Subscribe("g", {"t"})).value();
  auto got = PollN(*consumer, kThreads * kEach, Millis(5000));
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kEach));
  std::set<std::pair<int, int64_t>> positions;
  for (const Record& r : got) positions.insert({r.partition, r.offset});
  EXPECT_EQ(positions.size(), got.size());
  auto lag = consumer->Lag();
  ASSERT_TRUE(lag.ok());
  EXPECT_EQ(*lag, kThreads * kEach);
}

TEST_F(LogBusTest, CommittedOffsetsSurviveReopen) {
  {
    auto bus = OpenBus();
    ASSERT_TRUE(bus->EnsureTopic("t", 1).ok());
    auto producer = std::move(bus->NewProducer()).value();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer->Publish("t", "k", TestEvent("k", i)).ok());
    auto consumer = std::move(bus->Subscribe("g", {"t"})).value();
    auto got = PollN(*consumer, 5, Millis(2000));
    ASSERT_EQ(got.size(), 5u);
    ASSERT_TRUE(consumer->Commit(got[2]).ok());
  }
  auto bus = OpenBus();
  auto consumer = std::move(bus->Subscribe("g", {"t"})).value();
  auto lag = consumer->Lag();
  ASSERT_TRUE(lag.ok());
  EXPECT_EQ(*lag, 2);
  auto got = PollN(*consumer, 5, Millis(300));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].offset, 3);
  EXPECT_EQ(SeqOf(got[0]), 3);
}

void AppendBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << bytes;
}

class TornTailTest : public LogBusTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(TornTailTest, TruncatedOnReopenAndAppendsContinue) {
  {
    auto bus = OpenBus();
    ASSERT_TRUE(bus->EnsureTopic("t", 1).ok());
    auto producer = std::move(bus->NewProducer()).value();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer->Publish("t", "k", TestEvent("k", i)).ok());
  }
  const std::string segment = dir_ + "/topics/t/0.log";
  const auto good_size = fs::file_size(segment);
  AppendBytes(segment, GetParam());
  {
    auto bus = OpenBus();
    ASSERT_NE(bus, nullptr);
    auto consumer = std::move(bus->Subscribe("g", {"t"})).value();
    EXPECT_EQ(fs::file_size(segment), good_size) << "torn tail must be cut on open";
    auto got = PollN(*consumer, 5, Millis(2000));
    ASSERT_EQ(got.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(SeqOf(got[static_cast<size_t>(i)]), i);
    auto producer = std::move(bus->NewProducer()).value();
    ASSERT_TRUE(producer->Publish("t", "k", TestEvent("k", 5)).ok());
    auto more = PollN(*consumer, 1, Millis(2000));
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].offset, 5);
  }
  auto bus = OpenBus();
  auto consumer = std::move(bus->Subscribe("g2", {"t"})).value();
  auto all = PollN(*consumer, 7, Millis(300));
  ASSERT_EQ(all.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(SeqOf(all[static_cast<size_t>(i)]), i);
}

// Garbage; a frame header alone; a header promising more bytes than were written; a complete
// frame whose CRC does not match.
INSTANTIATE_TEST_SUITE_P(Tails, TornTailTest,
                         ::testing::Values(std::string("\x13\x37garbage!!", 11),
                                           std::string("\x05\x00\x00", 3),
                                           std::string("\x64\x00\x00\x00\x01\x02\x03\x04partial", 15),
                                           std::string("\x03\x00\x00\x00\x00\x00\x00\x00"
                                                       "abc",
                                                       11)));

}  // namespace
}  // namespace emporium::bus::testing
