// Backend entry points and helpers shared by the SQL backends (internal to emporium_sql).
//
// Thread-safety: the functions are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "platform/sql/sql.h"

namespace emporium::sql {

// How often Transact runs fn before giving up on busy/serialization failures.
inline constexpr int kMaxTransactAttempts = 12;

// `path` is a file path or ":memory:".
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path);
// `url` is a postgres:// or postgresql:// URL, optionally with ?schema=NAME&pool_size=N.
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

// Sleeps before retry `attempt` (1, 2, ...): jittered exponential backoff, a few ms up to ~200 ms,
// so contending transactions stop colliding in lockstep.
void BackoffBeforeRetry(int attempt);

}  // namespace emporium::sql
