// Durability for the embedded KV store: one directory holding a snapshot file and append-only logs
// of mutations, one log per generation ("log.<gen>"). A snapshot names the first log generation
// that is not in it; recovery loads the snapshot and replays that log and later ones.
//
// Records carry absolute state (the value a key now has and its absolute expiry), never deltas, so
// replaying a record whose effect is already in the snapshot is harmless. That lets the store
// write a snapshot shard by shard while writers keep going (see MemoryStore::Compact).
//
// Thread-safety: Append, Sync, LogBytes and StartNewLog may be called from many threads.
// WriteSnapshot must not run concurrently with itself (the store serialises compactions).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::kv {

struct Record {
  enum class Type : uint8_t { kPut = 1, kDelete = 2, kEnd = 3 };
  Type type = Type::kPut;
  std::string key;
  std::string value;
  int64_t expires_at_ms = 0;  // Unix milliseconds; 0 = never.
};

// Appends the framed encoding of `record` (length, checksum, payload) to `out`.
void EncodeRecord(const Record& record, std::string& out);

class Journal {
 public:
  // Called for each recovered record, oldest first.
  using ApplyFn = std::function<void(Record&&)>;
  // Receives chunks of encoded records for a snapshot.
  using ChunkWriter = std::function<Status(std::string_view)>;

  // Creates `dir` if needed, locks it against a second opener (kFailedPrecondition when another
  // store has it open), replays the snapshot and logs through `apply`, and starts a fresh log.
  // `replayed_logs` tells whether any old log existed, i.e. whether a compaction would shrink
  // the directory.
  static Result<std::unique_ptr<Journal>> Open(const std::filesystem::path& dir, const ApplyFn& apply,
                                               bool& replayed_logs);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Writes one record to the current log (handed to the OS, not yet durable). Returns a sequence
  // number to pass to Sync.
  Result<uint64_t> Append(const Record& record);
  // Makes every record up to `seq` durable. Concurrent callers share one fdatasync.
  Status Sync(uint64_t seq);
  // Bytes written to the current log generation.
  uint64_t LogBytes() const { return log_bytes_.load(); }

  // Compaction, step 1: makes the current log durable and switches to a new generation, which
  // it returns. Everything appended before this call is in the store's memory already.
  Result<uint64_t> StartNewLog();
  // Compaction, step 2: writes a snapshot naming `first_gen` atomically (temp file, fsync,
  // rename), then removes the logs it covers. `fill` calls the writer with encoded records.
  Status WriteSnapshot(uint64_t first_gen, const std::function<Status(const ChunkWriter&)>& fill);
  // Size of the last snapshot written or loaded.
  uint64_t SnapshotBytes() const { return snapshot_bytes_.load(); }

  // Use Open; public only so make_unique can reach it.
  Journal(std::filesystem::path dir, int lock_fd);

 private:
  Status OpenLog(uint64_t gen);
  Status Recover(const ApplyFn& apply, bool& replayed_logs);

  const std::filesystem::path dir_;
  const int lock_fd_;
  // Lock order: sync_mu_ before mu_. sync_mu_ keeps fd_ open while it is being synced.
  std::mutex sync_mu_;
  std::mutex mu_;
  int fd_ = -1;               // guarded by mu_ (and sync_mu_ for replacement)
  uint64_t gen_ = 0;          // guarded by mu_
  uint64_t written_seq_ = 0;  // guarded by mu_
  Status broken_;             // guarded by mu_: set after a failed write or sync; later writes fail
  std::atomic<uint64_t> synced_seq_{0};
  std::atomic<uint64_t> log_bytes_{0};
  std::atomic<uint64_t> snapshot_bytes_{0};
};

}  // namespace emporium::kv
