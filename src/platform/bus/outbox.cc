#include "platform/bus/outbox.h"

#include <condition_variable>
#include <map>
#include <mutex>

#include "platform/core/clock.h"
#include "platform/log/log.h"
#include "platform/metrics/metrics.h"

namespace emporium::bus {
namespace {

const sql::Migration kMigrations[] = {
    {1, "create_outbox", "",
     "CREATE TABLE outbox ("
     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     " topic TEXT NOT NULL, key TEXT NOT NULL, event_json TEXT NOT NULL,"
     " created_at TEXT NOT NULL)",
     "CREATE TABLE outbox ("
     " seq BIGSERIAL PRIMARY KEY,"
     " topic TEXT NOT NULL, key TEXT NOT NULL, event_json TEXT NOT NULL,"
     " created_at TEXT NOT NULL)"},
    {2, "create_inbox",
     "CREATE TABLE inbox ("
     " group_name TEXT NOT NULL, event_id TEXT NOT NULL, processed_at TEXT NOT NULL,"
     " PRIMARY KEY (group_name, event_id))",
     "", ""},
};

std::string Now() {
  return FormatRfc3339(SystemClock::Get().WallNow());
}

// Deletes published rows by seq (never by range: on PostgreSQL a lower seq can commit later).
Status DeletePublished(sql::Database& db, const std::vector<int64_t>& seqs) {
  constexpr size_t kChunk = 100;
  for (size_t i = 0; i < seqs.size(); i += kChunk) {
    std::string sql = "DELETE FROM outbox WHERE seq IN (";
    std::vector<sql::Value> params;
    for (size_t j = i; j < std::min(seqs.size(), i + kChunk); ++j) {
      if (j > i) sql += ",";
      params.emplace_back(seqs[j]);
      sql += "$" + std::to_string(params.size());
    }
    sql += ")";
    EMP_RETURN_IF_ERROR(db.Query(sql, params).status());
  }
  return Status::Ok();
}

}  // namespace

std::span<const sql::Migration> OutboxMigrations() {
  return kMigrations;
}

Status MigrateOutbox(sql::Database& db) {
  return sql::Migrate(db, kOutboxMigrationModule, OutboxMigrations());
}

Status Outbox::Add(sql::Tx& tx, const std::string& topic, const std::string& key, const Event& e) {
  if (topic.empty()) return InvalidArgument("outbox: topic is empty");
  EMP_RETURN_IF_ERROR(Validate(e));
  return tx
      .Query("INSERT INTO outbox (topic, key, event_json, created_at) VALUES ($1, $2, $3, $4)",
             {topic, key, ToJson(e), Now()})
      .status();
}

// ---- Relay ----

struct Relay::State {
  State(sql::Database& d, Producer& p, Millis i) : db(d), producer(p), interval(i) {}
  sql::Database& db;
  Producer& producer;
  const Millis interval;

  std::mutex run_mu;  // one RunOnce at a time keeps rows in order

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool notified = false;
  std::thread thread;
};

Relay::Relay(sql::Database& db, Producer& producer, Millis interval)
    : state_(std::make_unique<State>(db, producer, interval)) {}

Relay::~Relay() {
  Stop();
}

Result<int> Relay::RunOnce(int max) {
  std::lock_guard run(state_->run_mu);
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rows,
      state_->db.Query("SELECT seq, topic, key, event_json FROM outbox ORDER BY seq LIMIT $1",
                       {int64_t{max}}));
  std::vector<int64_t> seqs;
  std::vector<Message> batch;
  Status failure;
  for (const sql::Row& row : rows.rows) {
    auto event = FromJson(row.Text(3));
    if (!event.ok()) {
      failure = Internal("outbox row " + std::to_string(row.Int(0)) + ": " + event.status().message());
      break;
    }
    seqs.push_back(row.Int(0));
    batch.push_back(Message{row.Text(1), row.Text(2), std::move(event).value()});
  }
  BatchResult sent = state_->producer.PublishBatch(batch);
  if (!sent.status.ok()) failure = sent.status;
  std::vector<int64_t> published(seqs.begin(), seqs.begin() + static_cast<std::ptrdiff_t>(sent.published));
  // A crash before this delete republishes the rows; consumers de-duplicate with the inbox.
  EMP_RETURN_IF_ERROR(DeletePublished(state_->db, published));
  if (published.empty() && !failure.ok()) return failure;
  return static_cast<int>(published.size());
}

void Relay::Start() {
  std::lock_guard lock(state_->mu);
  if (state_->thread.joinable()) return;
  state_->stop = false;
  state_->thread = std::thread([this] {
    constexpr int kBatch = 500;
    std::unique_lock lock(state_->mu);
    while (!state_->stop) {
      state_->notified = false;
      lock.unlock();
      bool more = true;
      while (more) {
        auto n = RunOnce(kBatch);
        if (!n.ok()) log::Warn("bus relay: publish failed; will retry", {{"error", n.status().ToString()}});
        more = n.ok() && *n == kBatch;
      }
      lock.lock();
      state_->cv.wait_for(lock, state_->interval, [&] { return state_->stop || state_->notified; });
    }
  });
}

void Relay::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    thread = std::move(state_->thread);
  }
  state_->cv.notify_all();
  if (thread.joinable()) thread.join();
}

void Relay::Notify() {
  {
    std::lock_guard lock(state_->mu);
    state_->notified = true;
  }
  state_->cv.notify_all();
}

// ---- Inbox ----

Result<bool> Inbox::Process(sql::Database& db, const std::string& group, const Record& record,
                            const Handler& handler) {
  if (record.event.id.empty()) return InvalidArgument("inbox: event without id");
  bool ran = false;
  Status st = db.Transact([&](sql::Tx& tx) -> Status {
    ran = false;  // Transact may run this again after a serialization failure
    EMP_ASSIGN_OR_RETURN(sql::ResultSet inserted,
                         tx.Query("INSERT INTO inbox (group_name, event_id, processed_at) VALUES ($1, $2, $3)"
                                  " ON CONFLICT DO NOTHING",
                                  {group, record.event.id, Now()}));
    if (inserted.affected == 0) return Status::Ok();
    EMP_RETURN_IF_ERROR(handler(tx, record));
    ran = true;
    return Status::Ok();
  });
  EMP_RETURN_IF_ERROR(st);
  return ran;
}

Result<int> Inbox::ProcessBatch(sql::Database& db, const std::string& group, std::span<const Record> records,
                                const Handler& handler) {
  for (const Record& r : records) {
    if (r.event.id.empty()) return InvalidArgument("inbox: event without id");
  }
  int ran = 0;
  Status st = db.Transact([&](sql::Tx& tx) -> Status {
    ran = 0;
    for (const Record& r : records) {
      EMP_ASSIGN_OR_RETURN(
          sql::ResultSet inserted,
          tx.Query("INSERT INTO inbox (group_name, event_id, processed_at) VALUES ($1, $2, $3)"
                   " ON CONFLICT DO NOTHING",
                   {group, r.event.id, Now()}));
      if (inserted.affected == 0) continue;
      EMP_RETURN_IF_ERROR(handler(tx, r));
      ++ran;
    }
    return Status::Ok();
  });
  EMP_RETURN_IF_ERROR(st);
  return ran;
}

// ---- OutboxPublisher ----

OutboxPublisher::~OutboxPublisher() {
  Stop();
}

Status OutboxPublisher::Start(sql::Database& db, Bus& bus,
                              const std::vector<std::pair<std::string, int>>& topics) {
  for (const auto& [topic, partitions] : topics) EMP_RETURN_IF_ERROR(bus.EnsureTopic(topic, partitions));
  EMP_ASSIGN_OR_RETURN(producer_, bus.NewProducer());
  relay_ = std::make_unique<Relay>(db, *producer_);
  relay_->Start();
  return Status::Ok();
}

void OutboxPublisher::Notify() {
  if (relay_) relay_->Notify();
}

void OutboxPublisher::Stop() {
  if (relay_) relay_->Stop();
  relay_.reset();
  producer_.reset();
}

// ---- Worker ----

namespace {

metrics::Family<metrics::Gauge>& WorkerLag() {
  static auto& family = metrics::Registry::Default().AddGauge(
      "bus_consumer_lag", "Records not yet processed by a consumer group (end offset - committed).",
      {"group"});
  return family;
}

metrics::Family<metrics::Counter>& WorkerProcessed() {
  static auto& family = metrics::Registry::Default().AddCounter(
      "bus_events_processed_total", "Records handled by a consumer group (duplicates included).", {"group"});
  return family;
}

}  // namespace

struct Worker::State {
  State(sql::Database& d, std::unique_ptr<Consumer> c, std::string g, Inbox::Handler h)
      : db(d), consumer(std::move(c)), group(std::move(g)), handler(std::move(h)) {}

  // Sleeps up to d; false when stopping.
  bool Pause(Millis d) {
    std::unique_lock lock(mu);
    return !cv.wait_for(lock, d, [&] { return stop; });
  }
  bool Stopping() {
    std::lock_guard lock(mu);
    return stop;
  }

  // Handles one record, retrying until it succeeds; false when stopped first.
  bool Handle(const Record& r) {
    Millis backoff(50);
    for (;;) {
      auto done = Inbox::Process(db, group, r, handler);
      if (done.ok()) return true;
      log::Warn("bus worker: handler failed; retrying", {{"group", group},
                                                         {"topic", r.topic},
                                                         {"partition", r.partition},
                                                         {"offset", r.offset},
                                                         {"error", done.status().ToString()}});
      if (!Pause(backoff)) return false;
      backoff = std::min(backoff * 2, Millis(5000));
    }
  }

  void Run() {
    while (!Stopping()) {
      auto batch = consumer->Poll(Millis(200), 256);
      if (!batch.ok()) {
        log::Warn("bus worker: poll failed", {{"group", group}, {"error", batch.status().ToString()}});
        if (!Pause(Millis(200))) break;
        continue;
      }
      std::map<std::pair<std::string, int>, const Record*> last;
      // The whole poll in one transaction (one commit instead of one per record); when any
      // record fails, nothing of the batch is kept and each record is retried on its own.
      if (!batch->empty() && Inbox::ProcessBatch(db, group, *batch, handler).ok()) {
        for (const Record& r : *batch) last[{r.topic, r.partition}] = &r;
        processed += static_cast<int64_t>(batch->size());
      } else {
        for (const Record& r : *batch) {
          if (!Handle(r)) break;
          last[{r.topic, r.partition}] = &r;
          ++processed;
        }
      }
      for (const auto& [tp, r] : last) {
        Status st = consumer->Commit(*r);
        // Not fatal: the records come again after a restart and the inbox skips them.
        if (!st.ok()) log::Warn("bus worker: commit failed", {{"group", group}, {"error", st.ToString()}});
      }
      processed_total.Inc(static_cast<double>(batch->size()));
      UpdateLag();
    }
  }

  // Consumer lag for /metrics, at most every 2 s (on Kafka it asks the broker).
  void UpdateLag() {
    const SteadyTime now = std::chrono::steady_clock::now();
    if (now - lag_checked < Millis(2000)) return;
    lag_checked = now;
    if (auto lag = consumer->Lag(); lag.ok()) lag_gauge.Set(static_cast<double>(*lag));
  }

  sql::Database& db;
  std::unique_ptr<Consumer> consumer;
  const std::string group;
  const Inbox::Handler handler;
  std::atomic<int64_t> processed{0};
  metrics::Gauge& lag_gauge = WorkerLag().With({group});
  metrics::Counter& processed_total = WorkerProcessed().With({group});
  SteadyTime lag_checked{};

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;
};

Worker::Worker(sql::Database& db, std::unique_ptr<Consumer> consumer, std::string group,
               Inbox::Handler handler)
    : state_(std::make_unique<State>(db, std::move(consumer), std::move(group), std::move(handler))) {}

Worker::~Worker() {
  Stop();
}

void Worker::Start() {
  std::lock_guard lock(state_->mu);
  if (state_->thread.joinable() || !state_->consumer) return;
  state_->stop = false;
  state_->thread = std::thread([this] { state_->Run(); });
}

void Worker::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    thread = std::move(state_->thread);
  }
  state_->cv.notify_all();
  if (thread.joinable()) thread.join();
  // Leave the group now: a stopped member that stays subscribed would hold its partitions
  // until the broker gives up on it.
  state_->consumer.reset();
}

int64_t Worker::processed() const {
  return state_->processed.load();
}

}  // namespace emporium::bus
