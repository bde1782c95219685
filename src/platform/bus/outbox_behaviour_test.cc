// Outbox, relay, inbox and worker over SQLite, against whichever Bus backend the binary uses.
#include <filesystem>
#include <thread>

#include "platform/bus/bus_behaviour_test.h"
#include "platform/bus/outbox.h"
#include "platform/core/random.h"
#include "platform/metrics/metrics.h"

namespace emporium::bus::testing {
namespace {
namespace fs = std::filesystem;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = MakeBusEnv();
    ASSERT_NE(env_, nullptr);
    auto bus = env_->OpenBus();
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    bus_ = std::move(bus).value();
    topic_ = UniqueName("orders");
    ASSERT_TRUE(bus_->EnsureTopic(topic_, 4).ok());
    producer_ = std::move(bus_->NewProducer()).value();

    db_path_ = (fs::temp_directory_path() / ("emp-outbox-" + RandomHex(8) + ".db")).string();
    auto db = sql::Open("sqlite://" + db_path_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(MigrateOutbox(*db_).ok());
    ASSERT_TRUE(MigrateOutbox(*db_).ok());  // idempotent
    ASSERT_TRUE(db_->Query("CREATE TABLE orders (id TEXT PRIMARY KEY, total BIGINT NOT NULL)").ok());
    ASSERT_TRUE(db_->Query("CREATE TABLE effects (event_id TEXT NOT NULL, grp TEXT NOT NULL)").ok());
  }

  void TearDown() override {
    db_.reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_path_ + suffix, ec);
  }

  std::unique_ptr<Consumer> Subscribe(const std::string& group) {
    auto c = bus_->Subscribe(group, {topic_});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // Writes an order and its event in one transaction, as a module does.
  void PlaceOrder(const std::string& id, int seq) {
    Status st = db_->Transact([&](sql::Tx& tx) -> Status {
      EMP_RETURN_IF_ERROR(
          tx.Query("INSERT INTO orders (id, total) VALUES ($1, $2)", {id, int64_t{seq * 100}}).status());
      return Outbox::Add(tx, topic_, "customer-1", TestEvent("customer-1", seq));
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  int64_t Count(const std::string& sql) {
    auto rs = db_->Query(sql);
    EXPECT_TRUE(rs.ok()) << rs.status().ToString();
    return rs.ok() ? rs->rows.at(0).Int(0) : -1;
  }

  // The inbox handler used by the tests: one row in effects per run.
  static Status RecordEffect(const std::string& group, sql::Tx& tx, const Record& r) {
    return tx.Query("INSERT INTO effects (event_id, grp) VALUES ($1, $2)", {r.event.id, group}).status();
  }

  std::unique_ptr<BusEnv> env_;
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<Producer> producer_;
  std::string topic_;
  std::string db_path_;
  std::unique_ptr<sql::Database> db_;
};

TEST_F(OutboxTest, RollbackDiscardsTheEvent) {
  Status st = db_->Transact([&](sql::Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(Outbox::Add(tx, topic_, "k", TestEvent("k", 1)));
    return Conflict("business rule failed");
  });
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 0);
}

TEST_F(OutboxTest, ProducerKilledBetweenCommitAndRelayLosesNothing) {
  for (int i = 0; i < 3; ++i) PlaceOrder("o-" + std::to_string(i), i);
  {
    // The process dies after committing: the relay never got to publish.
    Relay doomed(*db_, *producer_);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 3);

  Relay relay(*db_, *producer_);
  auto n = relay.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 0);
  auto again = relay.RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);

  auto consumer = Subscribe(UniqueName("g"));
  auto got = PollN(*consumer, 3, env_->patience());
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(SeqOf(got[static_cast<size_t>(i)]), i);
}

TEST_F(OutboxTest, BackgroundRelayPublishesInOrder) {
  Relay relay(*db_, *producer_, Millis(20));
  relay.Start();
  for (int i = 0; i < 20; ++i) PlaceOrder("o-" + std::to_string(i), i);
  relay.Notify();
  auto consumer = Subscribe(UniqueName("g"));
  auto got = PollN(*consumer, 20, env_->patience());
  relay.Stop();
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(SeqOf(got[static_cast<size_t>(i)]), i);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 0);
}

class FailingProducer final : public Producer {
 public:
  explicit FailingProducer(int ok_before_failure) : left_(ok_before_failure) {}
  Status Publish(const std::string&, const std::string&, const Event& e) override {
    if (left_-- <= 0) return Unavailable("broker down");
    seen.push_back(e.id);
    return Status::Ok();
  }
  std::vector<std::string> seen;

 private:
  int left_;
};

TEST_F(OutboxTest, RelayStopsAtFirstFailureAndKeepsOrder) {
  for (int i = 0; i < 4; ++i) PlaceOrder("o-" + std::to_string(i), i);
  FailingProducer flaky(2);
  Relay relay(*db_, flaky);
  auto n = relay.RunOnce();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 2);
  auto failed = relay.RunOnce();
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox"), 2);

  Relay healthy(*db_, *producer_);
  ASSERT_EQ(*healthy.RunOnce(), 2);
  auto consumer = Subscribe(UniqueName("g"));
  auto got = PollN(*consumer, 2, env_->patience());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(SeqOf(got[0]), 2);
  EXPECT_EQ(SeqOf(got[1]), 3);
}

TEST_F(OutboxTest, RedeliveredRecordsHaveNoRepeatedEffect) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer_->Publish(topic_, "same", TestEvent("same", i)).ok());
  const std::string group = UniqueName("g");
  auto handler = [&](sql::Tx& tx, const Record& r) { return RecordEffect(group, tx, r); };
  {
    auto consumer = Subscribe(group);
    auto got = PollN(*consumer, 5, env_->patience());
    ASSERT_EQ(got.size(), 5u);
    for (const Record& r : got) {
      auto ran = Inbox::Process(*db_, group, r, handler);
      ASSERT_TRUE(ran.ok()) << ran.status().ToString();
      EXPECT_TRUE(*ran);
    }
    // Crash after handling all five but committing only the first two.
    ASSERT_TRUE(consumer->Commit(got[1]).ok());
  }
  auto restarted = Subscribe(group);
  auto again = DrainUntilMarker(*producer_, *restarted, topic_, 4, env_->patience());
  ASSERT_EQ(again.size(), 3u);
  for (const Record& r : again) {
    auto ran = Inbox::Process(*db_, group, r, handler);
    ASSERT_TRUE(ran.ok());
    EXPECT_FALSE(*ran) << "duplicate " << r.offset << " must be skipped";
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM effects"), 5);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT event_id) FROM effects"), 5);
}

TEST_F(OutboxTest, InboxIsPerGroupAndRollsBackWithTheHandler) {
  Record r;
  r.topic = topic_;
  r.event = TestEvent("k", 1);
  auto effect_a = [](sql::Tx& tx, const Record& rec) { return RecordEffect("a", tx, rec); };
  auto failing = [](sql::Tx& tx, const Record& rec) -> Status {
    EMP_RETURN_IF_ERROR(RecordEffect("b", tx, rec));
    return Unavailable("downstream down");
  };
  auto effect_b = [](sql::Tx& tx, const Record& rec) { return RecordEffect("b", tx, rec); };
  EXPECT_TRUE(*Inbox::Process(*db_, "a", r, effect_a));
  EXPECT_FALSE(*Inbox::Process(*db_, "a", r, effect_a));
  EXPECT_EQ(Inbox::Process(*db_, "b", r, failing).status().code(), Code::kUnavailable);
  EXPECT_TRUE(*Inbox::Process(*db_, "b", r, effect_b)) << "a failed handler must not mark the event";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM effects WHERE grp = 'a'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM effects WHERE grp = 'b'"), 1);
}

TEST_F(OutboxTest, WorkerProcessesAndCommits) {
  const std::string group = UniqueName("g");
  std::atomic<int> failures_left{2};
  Worker worker(*db_, Subscribe(group), group, [&](sql::Tx& tx, const Record& r) -> Status {
    if (failures_left.fetch_sub(1) > 0) return Unavailable("transient");  // retried, not skipped
    return RecordEffect(group, tx, r);
  });
  worker.Start();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer_->Publish(topic_, "k" + std::to_string(i), TestEvent("k", i)).ok());
  }
  const SteadyTime deadline = std::chrono::steady_clock::now() + env_->patience();
  while (worker.processed() < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(20));
  }
  worker.Stop();
  EXPECT_EQ(worker.processed(), 10);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM effects"), 10);
  auto after = Subscribe(group);
  EXPECT_TRUE(DrainUntilMarker(*producer_, *after, topic_, 4, env_->patience()).empty())
      << "the worker commits what it handled";
  const std::string metrics = metrics::Registry::Default().Render();
  EXPECT_NE(metrics.find("bus_events_processed_total{group=\"" + group + "\"} 10"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("bus_consumer_lag{group=\"" + group + "\"}"), std::string::npos);
}

}  // namespace
}  // namespace emporium::bus::testing
