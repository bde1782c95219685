// Keeps the index in step with catalog's events (topics catalog.product and catalog.inventory).
//
// Its own consumer loop rather than bus::Worker + inbox: the index is not in the SQL transaction
// an inbox would protect, so exactly-once comes from ordering instead — a polled batch is applied,
// the index committed (durable, searchable), and only then the bus offsets committed. A crash in
// between re-applies the batch, which is harmless (replace by id; older product versions are
// ignored). One batch per poll keeps a change searchable well within a second.
//
// The consumer group is "search-<index generation>": a new index (fresh data dir, deleted
// directory) is a new group and reads both topics from the start, so it catches up by itself.
//
// Thread-safety: Start/Stop from one thread; Apply is a pure function of its arguments.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/core/status.h"
#include "services/search/index.h"

namespace emporium::search {

// Applies one catalog event to the index (not committed). Events search does not use are
// ignored; a malformed one is logged and skipped (kInvalidArgument), never retried.
Status Apply(Index& index, const bus::Record& record);

std::string ConsumerGroup(const Index& index);

class Indexer {
 public:
  Indexer(Index& index, std::unique_ptr<bus::Consumer> consumer);
  ~Indexer();
  Indexer(const Indexer&) = delete;
  Indexer& operator=(const Indexer&) = delete;

  // Subscribes to both topics (creating them when missing) under ConsumerGroup(index).
  static Result<std::unique_ptr<Indexer>> Subscribe(bus::Bus& bus, Index& index);

  void Start();
  void Stop();
  // One poll → apply → commit round; false when nothing was polled. For tests and the loop.
  Result<bool> RunOnce(Millis poll_timeout);
  int64_t applied() const { return applied_.load(); }

 private:
  Status ApplyAndCommit(const std::vector<bus::Record>& records);

  Index& index_;
  std::unique_ptr<bus::Consumer> consumer_;
  std::vector<bus::Record> pending_;  // polled but not yet applied and committed
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> applied_{0};
  std::thread thread_;
};

}  // namespace emporium::search
