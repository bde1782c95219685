#include "platform/bus/bus_behaviour_test.h"

#include <boost/json/parse.hpp>
#include <map>
#include <set>
#include <thread>

#include "platform/core/random.h"

namespace emporium::bus::testing {

std::string UniqueName(const std::string& prefix) {
  return prefix + "-" + RandomHex(6);
}

std::vector<Record> PollN(Consumer& consumer, size_t n, Millis patience) {
  std::vector<Record> out;
  const SteadyTime deadline = std::chrono::steady_clock::now() + patience;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer.Poll(Millis(200), n - out.size());
    if (!batch.ok()) continue;  // transient (e.g. Kafka rebalancing); the deadline bounds it
    for (Record& r : *batch) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Record> DrainUntilMarker(Producer& producer, Consumer& consumer, const std::string& topic,
                                     int partitions, Millis patience) {
  // One marker per partition: partitions are ordered only within themselves, so a partition is
  // drained only once its own marker has come through.
  std::set<std::string> pending;
  for (int p = 0; p < partitions; ++p) {
    std::string key;
    for (int i = 0; key.empty() || PartitionFor(key, partitions) != p; ++i) {
      key = "marker-" + std::to_string(i);
    }
    Event marker = MakeEvent("/test", "test.marker", key, "{}");
    EXPECT_TRUE(producer.Publish(topic, key, marker).ok());
    pending.insert(marker.id);
  }
  std::vector<Record> before;
  const SteadyTime deadline = std::chrono::steady_clock::now() + patience;
  while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer.Poll(Millis(200), 100);
    if (!batch.ok()) continue;
    for (Record& r : *batch) {
      if (pending.erase(r.event.id) == 0 && r.event.type != "test.marker") before.push_back(std::move(r));
    }
  }
  EXPECT_TRUE(pending.empty()) << pending.size() << " markers never arrived";
  return before;
}

Event TestEvent(const std::string& key, int seq) {
  return MakeEvent("/test", "test.happened", key, "{\"seq\":" + std::to_string(seq) + "}");
}

int SeqOf(const Record& r) {
  return static_cast<int>(boost::json::parse(r.event.data).at("seq").as_int64());
}

namespace {

class BusBehaviourTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = MakeBusEnv();
    ASSERT_NE(env_, nullptr);
    auto bus = env_->OpenBus();
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    bus_ = std::move(bus).value();
    topic_ = UniqueName("orders");
    ASSERT_TRUE(bus_->EnsureTopic(topic_, 4).ok());
    auto producer = bus_->NewProducer();
    ASSERT_TRUE(producer.ok()) << producer.status().ToString();
    producer_ = std::move(producer).value();
  }

  std::unique_ptr<Consumer> Subscribe(const std::string& group) {
    auto c = bus_->Subscribe(group, {topic_});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  std::unique_ptr<BusEnv> env_;
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<Producer> producer_;
  std::string topic_;
};

TEST_F(BusBehaviourTest, EnsureTopicIsIdempotent) {
  EXPECT_TRUE(bus_->EnsureTopic(topic_, 4).ok());
  EXPECT_TRUE(bus_->EnsureTopic(topic_, 8).ok());
}

TEST_F(BusBehaviourTest, OrderedPerKeyAcrossPartitions) {
  constexpr int kKeys = 10;
  constexpr int kPerKey = 20;
  // Two publishing threads, each owning half of the keys, interleaving them.
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int seq = 0; seq < kPerKey; ++seq) {
        for (int k = t; k < kKeys; k += 2) {
          const std::string key = "order-" + std::to_string(k);
          EXPECT_TRUE(producer_->Publish(topic_, key, TestEvent(key, seq)).ok());
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  auto consumer = Subscribe(UniqueName("g"));
  ASSERT_NE(consumer, nullptr);
  auto records = PollN(*consumer, kKeys * kPerKey, env_->patience());
  ASSERT_EQ(records.size(), static_cast<size_t>(kKeys * kPerKey));

  std::map<std::string, int> last_seq;
  std::map<int, int64_t> last_offset;
  std::set<int> partitions_used;
  for (const Record& r : records) {
    EXPECT_EQ(r.topic, topic_);
    EXPECT_EQ(r.key, r.event.subject);
    // Both backends place a key where PartitionFor says (Kafka: murmur2_random partitioner).
    EXPECT_EQ(r.partition, PartitionFor(r.key, 4)) << r.key;
    partitions_used.insert(r.partition);
    auto [it, fresh] = last_seq.try_emplace(r.key, -1);
    EXPECT_EQ(SeqOf(r), it->second + 1) << "key " << r.key << " out of order";
    it->second = SeqOf(r);
    auto [off, first] = last_offset.try_emplace(r.partition, -1);
    EXPECT_GT(r.offset, off->second);
    off->second = r.offset;
  }
  EXPECT_GT(partitions_used.size(), 1u);
  for (const auto& [key, seq] : last_seq) EXPECT_EQ(seq, kPerKey - 1) << key;
}

TEST_F(BusBehaviourTest, RestartResumesAfterCommittedOffset) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer_->Publish(topic_, "k" + std::to_string(i), TestEvent("k", i)).ok());
  }
  const std::string group = UniqueName("g");
  std::vector<Record> first;
  {
    auto consumer = Subscribe(group);
    ASSERT_NE(consumer, nullptr);
    first = PollN(*consumer, 10, env_->patience());
    ASSERT_EQ(first.size(), 10u);
    // Records of one partition arrive in order, so committing the first six (each commits its
    // partition's position) leaves exactly the last four uncommitted.
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(consumer->Commit(first[static_cast<size_t>(i)]).ok());
  }
  auto restarted = Subscribe(group);
  ASSERT_NE(restarted, nullptr);
  auto again = DrainUntilMarker(*producer_, *restarted, topic_, 4, env_->patience());
  std::set<std::string> expected;
  for (size_t i = 6; i < 10; ++i) expected.insert(first[i].event.id);
  std::set<std::string> got;
  for (const Record& r : again) got.insert(r.event.id);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(again.size(), 4u);
}

TEST_F(BusBehaviourTest, UncommittedRecordsAreRedelivered) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(producer_->Publish(topic_, "same", TestEvent("same", i)).ok());
  const std::string group = UniqueName("g");
  {
    auto consumer = Subscribe(group);
    ASSERT_NE(consumer, nullptr);
    ASSERT_EQ(PollN(*consumer, 3, env_->patience()).size(), 3u);
  }
  auto restarted = Subscribe(group);
  ASSERT_NE(restarted, nullptr);
  auto again = DrainUntilMarker(*producer_, *restarted, topic_, 4, env_->patience());
  ASSERT_EQ(again.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(SeqOf(again[static_cast<size_t>(i)]), i);
}

TEST_F(BusBehaviourTest, GroupsAreIsolated) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(producer_->Publish(topic_, "k" + std::to_string(i), TestEvent("k", i)).ok());
  }
  const std::string g1 = UniqueName("g1");
  const std::string g2 = UniqueName("g2");
  {
    auto c1 = Subscribe(g1);
    ASSERT_NE(c1, nullptr);
    auto got = PollN(*c1, 5, env_->patience());
    ASSERT_EQ(got.size(), 5u);
    for (const Record& r : got) ASSERT_TRUE(c1->Commit(r).ok());
    auto lag = c1->Lag();
    ASSERT_TRUE(lag.ok()) << lag.status().ToString();
    EXPECT_EQ(*lag, 0);
  }
  auto c2 = Subscribe(g2);
  ASSERT_NE(c2, nullptr);
  auto got2 = PollN(*c2, 5, env_->patience());
  EXPECT_EQ(got2.size(), 5u) << "g1's commits must not move g2";
  auto lag2 = c2->Lag();
  ASSERT_TRUE(lag2.ok()) << lag2.status().ToString();
  EXPECT_EQ(*lag2, 5);
  c2.reset();

  auto c1_again = Subscribe(g1);
  ASSERT_NE(c1_again, nullptr);
  EXPECT_TRUE(DrainUntilMarker(*producer_, *c1_again, topic_, 4, env_->patience()).empty());
}

TEST_F(BusBehaviourTest, PublishRejectsInvalidEvents) {
  Event bad = TestEvent("k", 0);
  bad.data = "{not json";
  EXPECT_EQ(producer_->Publish(topic_, "k", bad).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace emporium::bus::testing
