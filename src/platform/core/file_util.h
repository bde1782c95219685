// Small POSIX file helpers (the embedded log, model artifacts): errno → Status, atomic whole-file
// replace.
// Stateless functions: thread-safe (callers serialize writes to the same path).
#pragma once

#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::fileutil {

// kInternal "<what> <path>: <strerror(errno)>".
Status ErrnoStatus(std::string_view what, const std::string& path);

// Writes all bytes at offset, retrying short writes and EINTR.
Status PwriteAll(int fd, std::string_view bytes, uint64_t offset, const std::string& path);
// Reads exactly n bytes at offset; kInternal on a short read.
Status PreadAll(int fd, char* out, size_t n, uint64_t offset, const std::string& path);

// Replaces path with contents so a crash leaves either the old or the new file:
// write path.tmp, fsync, rename over path, fsync the directory.
Status WriteFileAtomic(const std::string& path, std::string_view contents);
// Appends bytes at the end of path (created when missing, mode 0600) and fdatasyncs it, so what
// returned OK survives a crash; a crash during the call may leave part of it (a torn tail).
Status AppendFileSynced(const std::string& path, std::string_view bytes);
// kNotFound when the file does not exist.
Result<std::string> ReadFile(const std::string& path);
// fsync of a directory, so a create or rename in it is durable.
Status SyncDir(const std::string& dir);

}  // namespace emporium::fileutil
