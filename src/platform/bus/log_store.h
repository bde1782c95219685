// The embedded log's on-disk state, shared by every Bus opened on the same directory in this
// process (one process owns a directory: an flock on DIR/LOCK).
//
// Layout:
//   DIR/LOCK                          flock held while open
//   DIR/topics/<topic>/meta           "partitions N\n", written atomically
//   DIR/topics/<topic>/<p>.log        one Segment per partition
//   DIR/groups/<group>.offsets        "topic\tpartition\tnext_offset\n" lines, written atomically
//                                     at most every kOffsetFlushInterval (commits in between are
//                                     coalesced; after a crash they are redelivered: consumers
//                                     de-duplicate, as they must for any at-least-once delivery)
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/bus/segment.h"
#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::bus {

struct LogTopic {
  std::string name;
  std::vector<std::unique_ptr<Segment>> partitions;
};

inline constexpr Millis kOffsetFlushInterval{20};

// Committed positions of one consumer group (next offset to read per topic/partition).
class GroupOffsets {
 public:
  explicit GroupOffsets(std::string path) : path_(std::move(path)) {}
  ~GroupOffsets();
  Status Load();
  // Records next as the group's position; writes the file (atomically, synced) when the last
  // write is kOffsetFlushInterval old, else leaves that to a later Commit or Flush.
  Status Commit(const std::string& topic, int partition, int64_t next);
  // Writes unwritten positions now (consumers call it on close).
  Status Flush();
  // Writes unwritten positions once they are due; returns when the next write is due, if any
  // (a polling consumer wakes up then).
  Result<std::optional<SteadyTime>> FlushIfDue();
  // 0 when nothing was committed yet (consumers start at the earliest record).
  int64_t Committed(const std::string& topic, int partition) const;

 private:
  Status WriteLocked();

  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> next_;
  bool dirty_ = false;
  SteadyTime written_at_{};
};

class LogStore {
 public:
  // Returns the store for dir (creating the directory), shared with earlier Opens in this
  // process. kFailedPrecondition when another process holds the directory.
  static Result<std::shared_ptr<LogStore>> Open(const std::string& dir);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  Status EnsureTopic(const std::string& topic, int partitions);
  // The topic, loaded (and recovered) from disk on first use; kNotFound when it does not exist.
  Result<LogTopic*> Topic(const std::string& topic);
  Result<GroupOffsets*> Group(const std::string& group);

  // Data arrival: a counter bumped whenever any partition gets new durable records.
  uint64_t generation() const;
  // Waits until generation() != seen or deadline passes.
  void WaitForData(uint64_t seen, SteadyTime deadline) const;

  const std::string& dir() const { return dir_; }

  // Constructed by Open(); takes ownership of lock_fd.
  LogStore(std::string dir, int lock_fd);

 private:
  Result<LogTopic*> LoadTopicLocked(const std::string& topic);
  void DataArrived();

  const std::string dir_;
  const int lock_fd_;

  std::mutex mu_;  // topics_ and groups_
  std::map<std::string, std::unique_ptr<LogTopic>> topics_;
  std::map<std::string, std::unique_ptr<GroupOffsets>> groups_;

  mutable std::mutex data_mu_;
  mutable std::condition_variable data_cv_;
  uint64_t generation_ = 0;
};

// kInvalidArgument unless name is 1..200 characters of [A-Za-z0-9._-] (it becomes a file name).
Status ValidateName(const std::string& what, const std::string& name);

}  // namespace emporium::bus
