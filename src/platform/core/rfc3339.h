// Unix milliseconds as RFC 3339 text, for the timestamps that services store as integers and show
// in JSON. Kept out of clock.h, which most of the tree includes. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emporium {

// "2026-11-26T10:39:49.123Z": UTC, always three fraction digits (FormatRfc3339 of that instant).
std::string FormatRfc3339UnixMillis(int64_t unix_ms);

// Unix milliseconds of an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"
// (lower-case 't' and 'z' accepted, as RFC 3339 allows; not a space for 'T': OpenAPI's date-time
// is the grammar of RFC 3339 section 5.6); fractions beyond milliseconds are truncated. nullopt for anything
// else, including out-of-range fields (month 13, Feb 30, 24:00).
std::optional<int64_t> ParseRfc3339UnixMillis(std::string_view text);

}  // namespace emporium
