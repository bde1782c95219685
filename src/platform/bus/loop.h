// The loop of a consumer that keeps its own state (a search index, a log file) instead of an
// inbox table: poll, apply, make the result durable, then commit the offsets (bus::Worker is the
// loop for handlers that write SQL).
#pragma once

#include <atomic>
#include <functional>
#include <string_view>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/status.h"

namespace emporium::bus {

// Commits the group's position past the last record of each topic partition in `records`.
Status CommitLast(Consumer& consumer, const std::vector<Record>& records);

// Calls round() until `stop` is set. A failing round is logged as `what` failing and retried
// after a pause that doubles from 50 ms up to 5 s (cut short by stop); a successful one resets it.
void RunWithBackoff(const std::atomic<bool>& stop, std::string_view what,
                    const std::function<Result<bool>()>& round);

}  // namespace emporium::bus
