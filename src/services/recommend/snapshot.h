// The recommend graph's snapshot on disk (<data-dir>/recommend/graph.snapshot): the Graph's whole
// state and the byte offset of the feed's log it covers, so a restart loads it and replays only
// the log after that offset instead of the whole history.
//
// Format, little-endian: "EMPGRAPH", u32 version, u32 section count; each section a u32 tag, a u64
// length and its payload; then a u64 Checksum64 of every byte before it. Arrays are stored as
// columns so that loading is a few bulk copies. A reader skips tags it does not know (adding a
// section needs no new version); changing what a section holds does.
// Stateless functions, thread-safe as the Graph is.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "platform/core/status.h"
#include "services/recommend/graph.h"

namespace emporium::recommend {

inline constexpr std::string_view kSnapshotMagic = "EMPGRAPH";
inline constexpr uint32_t kSnapshotVersion = 1;

// FNV-1a over 8-byte little-endian words (the last few bytes one at a time), each step followed by
// an xor-shift so every input bit reaches the low bits: one multiply per 8 bytes, since the
// checksum is on the load path.
uint64_t Checksum64(std::string_view bytes);

// Writes the graph's snapshot, covering the log's first `log_offset` bytes, atomically: a temp
// file, fsync, rename over `path`, fsync of the directory. Holds the graph's shared lock only
// while encoding; the write is outside it.
Status WriteSnapshot(const std::filesystem::path& path, const Graph& graph, uint64_t log_offset);
// Replaces the graph's state with the snapshot at `path` (one read of the whole file) and returns
// the log offset it covers. kNotFound when there is no file; kInvalidArgument saying why when it
// is truncated, corrupt or of another version, the graph then unchanged.
Result<uint64_t> ReadSnapshot(const std::filesystem::path& path, Graph& graph);

}  // namespace emporium::recommend
