#include "platform/core/rfc3339.h"

#include <chrono>

#include "platform/core/clock.h"

namespace emporium {

std::string FormatRfc3339UnixMillis(int64_t unix_ms) {
  return FormatRfc3339(SystemTime(std::chrono::milliseconds(unix_ms)));
}

}  // namespace emporium
