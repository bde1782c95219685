// One partition of the embedded log: an append-only file of framed records.
//
// Frame: u32 payload length, u32 CRC-32 of the payload (both little-endian), payload. A record's
// offset is its index in the file. Open() scans the file and truncates a torn tail (a short
// frame, an implausible length or a CRC mismatch, as left by a crash mid-write).
//
// Append returns only after the record is fsynced; concurrent appenders share one fsync (group
// commit: the first waiter syncs for everyone written so far). Readers see durable records only,
// so a consumer never acts on a record that a crash could still take back.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"

namespace emporium::bus {

class Segment {
 public:
  // Called (without locks held) whenever more records became durable.
  using OnDurable = std::function<void()>;

  static Result<std::unique_ptr<Segment>> Open(const std::string& path, OnDurable on_durable);
  // Takes ownership of fd; use Open(), which also recovers the file.
  Segment(std::string path, int fd, OnDurable on_durable);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Appends one record; returns its offset once it is durable.
  Result<int64_t> Append(std::string_view payload);
  // Appends records in order with one write and one fsync; returns the last one's offset.
  Result<int64_t> AppendMany(std::span<const std::string_view> payloads);
  // Up to max durable records starting at offset (fewer, or none, at the end).
  Result<std::vector<std::string>> Read(int64_t offset, size_t max);
  // Number of durable records (the next offset a reader can reach).
  int64_t end() const;
  // Bytes cut off by Open() when it found a torn tail.
  uint64_t truncated_bytes() const { return truncated_bytes_; }

  static constexpr size_t kHeaderSize = 8;
  static constexpr uint32_t kMaxPayload = 64u << 20;

 private:
  Status Recover();

  const std::string path_;
  const int fd_;
  const OnDurable on_durable_;
  uint64_t truncated_bytes_ = 0;

  mutable std::mutex mu_;
  std::condition_variable synced_cv_;
  std::vector<uint64_t> positions_;  // file position of every written record
  uint64_t end_pos_ = 0;             // bytes written
  int64_t durable_ = 0;              // records known to be on disk
  bool syncing_ = false;
  Status broken_;  // after a failed write/fsync the file's state is unknown: no more appends
};

// CRC-32 (IEEE, as zlib) of bytes.
uint32_t Crc32(std::string_view bytes);

}  // namespace emporium::bus
