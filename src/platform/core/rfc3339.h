// Unix milliseconds as RFC 3339 text, for the timestamps that services store as integers and show
// in JSON. Kept out of clock.h, which most of the tree includes. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace emporium {

// "2026-11-26T10:39:49.123Z": UTC, always three fraction digits (FormatRfc3339 of that instant).
std::string FormatRfc3339UnixMillis(int64_t unix_ms);

}  // namespace emporium
