// Embedded KV backend: a sharded hash map, optionally made durable by a Journal (snapshot plus
// append-only log) under a directory.
//
// Expiry uses the injected Clock's wall time. Expired keys vanish lazily when touched, and each
// shard is swept once it has seen as many operations as it holds entries, so the memory held by
// expired keys stays proportional to the live set. With persistence, a write returns once its
// log record is fsynced (concurrent writers share fsyncs), and the log is compacted into a new
// snapshot when it outgrows max(compact_log_bytes, size of the last snapshot).
//
// Thread-safety: safe to use from many threads; operations on one key are atomic.
#pragma once

#include <array>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "platform/kv/journal.h"
#include "platform/kv/kv.h"

namespace emporium::kv {

struct MemoryStoreOptions {
  // Persist under this directory; nullopt keeps everything in memory only.
  std::optional<std::filesystem::path> dir;
  // Log size that triggers a compaction (unless the last snapshot is larger).
  uint64_t compact_log_bytes = 8 << 20;
};

class MemoryStore final : public Store {
 public:
  // Loads the snapshot and log when persisted, and compacts them if a log was replayed.
  // kFailedPrecondition when another store has `dir` open.
  static Result<std::unique_ptr<MemoryStore>> Open(Clock& clock, MemoryStoreOptions options);

  // Default arguments repeat Store's so calls through the concrete type behave the same.
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Set(std::string_view key, std::string_view value, Millis ttl = Millis(0)) override;
  Result<bool> Delete(std::string_view key) override;
  Result<int64_t> Increment(std::string_view key, int64_t delta, Millis ttl = Millis(0)) override;
  Result<std::vector<int64_t>> IncrementMany(std::span<const std::pair<std::string, int64_t>> deltas,
                                             Millis ttl = Millis(0)) override;
  Result<bool> CompareAndSet(std::string_view key, std::optional<std::string_view> expected,
                             std::string_view desired, Millis ttl = Millis(0)) override;
  Result<std::optional<Millis>> Ttl(std::string_view key) override;

  // Entries held, including expired ones not swept yet (for tests and metrics).
  size_t EntryCount();
  // Writes a snapshot and starts a fresh log now. No-op without persistence.
  Status Compact();

  // Use Open; public only so make_unique can reach it.
  MemoryStore(Clock& clock, MemoryStoreOptions options);

 private:
  struct Entry {
    std::string value;
    int64_t expires_at_ms = 0;  // Unix ms; 0 = never
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, Entry, Hash, std::equal_to<>>;
  struct Shard {
    std::mutex mu;
    Map map;         // guarded by mu
    size_t ops = 0;  // guarded by mu: operations since the last sweep
  };
  static constexpr size_t kShards = 32;

  int64_t NowMs() const;
  Shard& ShardFor(std::string_view key);
  // Locks nothing; the caller holds shard.mu. Returns the live entry or nullptr, dropping an
  // expired one, and sweeps the shard when it is due.
  Entry* FindLive(Shard& shard, std::string_view key, int64_t now_ms);
  // Logs, then applies. Caller holds shard.mu. Returns the log sequence (0 without a journal).
  Result<uint64_t> Put(Shard& shard, std::string_view key, std::string value, int64_t expires_at_ms);
  Result<uint64_t> Erase(Shard& shard, std::string_view key);
  // Waits for durability of `seq`, then compacts when the log has grown enough.
  Status Commit(uint64_t seq);
  Status CompactLocked();
  void Apply(Record&& record, int64_t now_ms);

  Clock& clock_;
  const MemoryStoreOptions options_;
  std::unique_ptr<Journal> journal_;
  std::mutex compact_mu_;  // one compaction at a time
  // After a failed compaction, wait for the log to double before trying again.
  std::atomic<uint64_t> retry_compact_bytes_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace emporium::kv
