// Transactional outbox and consumer inbox.
//
// Outbox: a module writes its state change and the event in one SQL transaction
// (Outbox::Add with the same Tx); the Relay later publishes outbox rows in insertion order and
// deletes them only after the bus acknowledged them. A crash between commit and publish loses
// nothing: the row is still there and is published on restart (possibly twice — consumers
// de-duplicate).
//
// Inbox: Inbox::Process runs a handler inside a transaction that also records the event id; an
// event already recorded for this consumer group is skipped, so the handler's effect happens once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/sql/sql.h"

namespace emporium::bus {

// SQL migrations that create the outbox and inbox tables. They are versioned on their own: apply
// them under their own module name (MigrateOutbox does), so they never collide with the
// versions of the module's own migrations.
std::span<const sql::Migration> OutboxMigrations();
inline constexpr std::string_view kOutboxMigrationModule = "bus_outbox";
// sql::Migrate(db, kOutboxMigrationModule, OutboxMigrations()).
Status MigrateOutbox(sql::Database& db);

class Outbox {
 public:
  // Stores the event in the same transaction as the caller's state change.
  static Status Add(sql::Tx& tx, const std::string& topic, const std::string& key, const Event& e);
};

// Publishes committed outbox rows. RunOnce is for tests; Start/Stop run a background thread that
// polls every `interval` (and immediately after Notify()). Run one relay per database: two
// relays would both publish a row (consumers de-duplicate, but per-key order could interleave).
// Thread-safety: RunOnce, Start, Stop and Notify may be called from any thread.
class Relay {
 public:
  Relay(sql::Database& db, Producer& producer, Millis interval = Millis(50));
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Publishes up to `max` pending rows in order; returns how many were published. Stops at the
  // first publish failure (order is kept: later rows wait).
  Result<int> RunOnce(int max = 500);
  void Start();
  void Stop();
  void Notify();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A module's outbox shipping, in one object: ensures its topics, owns the producer and the relay.
// Start() once the module's migrations ran; Notify() after a commit that added events; Stop() (or
// destruction) stops the relay. Thread-safe after Start().
class OutboxPublisher {
 public:
  OutboxPublisher() = default;
  ~OutboxPublisher();
  OutboxPublisher(const OutboxPublisher&) = delete;
  OutboxPublisher& operator=(const OutboxPublisher&) = delete;

  Status Start(sql::Database& db, Bus& bus, const std::vector<std::pair<std::string, int>>& topics);
  void Notify();
  void Stop();

 private:
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Relay> relay_;
};

class Inbox {
 public:
  using Handler = std::function<Status(sql::Tx&, const Record&)>;
  // Runs handler(tx, record) unless `group` already processed record.event.id; records the id in
  // the same transaction. Returns true when the handler ran, false for a duplicate.
  static Result<bool> Process(sql::Database& db, const std::string& group, const Record& record,
                              const Handler& handler);
  // The same for several records in one transaction: all their effects commit together, or
  // none when any handler fails. Returns how many handlers ran (duplicates are skipped).
  static Result<int> ProcessBatch(sql::Database& db, const std::string& group,
                                  std::span<const Record> records, const Handler& handler);
};

// A consumer loop: poll → Inbox::ProcessBatch (per record after a failure) → commit, on its
// own thread, until Stop(). A failing
// handler is retried with backoff (the record is never skipped, so later records wait); the
// position is committed per partition after each batch.
class Worker {
 public:
  Worker(sql::Database& db, std::unique_ptr<Consumer> consumer, std::string group, Inbox::Handler handler);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  void Start();
  // Stops the loop and closes the consumer (leaves the group); the worker cannot be restarted.
  void Stop();
  // Records handled so far (the handler ran, or the inbox skipped a duplicate).
  int64_t processed() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace emporium::bus
