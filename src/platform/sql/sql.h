// SQL access for modules: one small interface with SQLite (WAL) and PostgreSQL (libpq) backends.
//
// Statements use PostgreSQL-style positional parameters ($1, $2, ...) on both backends.
// Portable SQL only in shared code (TEXT, BIGINT, INTEGER, REAL, BLOB/BYTEA via Migration
// variants). Each module owns its own Database: a SQLite file per module in embedded mode, a
// PostgreSQL schema per module in distributed mode; no module touches another's tables.
//
// Thread-safety: a Database is safe to use from many threads (it pools connections). A Tx is
// bound to one thread for the duration of Transact(). Do not call Transact/Query on the same
// Database from inside a Transact callback (it would need a second pooled connection).
//
// Isolation: transactions are serializable on both backends (SQLite by its design, PostgreSQL
// with ISOLATION LEVEL SERIALIZABLE), so read-then-write logic is safe; conflicts are retried.
// SQLite runs WAL with a pool of connections: readers run concurrently with one writer.
//
// Errors of statements: kAlreadyExists for a unique/primary key violation, kFailedPrecondition
// for other constraint violations (foreign key, check, not null), kInvalidArgument for a wrong
// parameter count or bad data, kUnavailable for busy/serialization failures and lost
// connections, kInternal for everything else (e.g. SQL syntax errors).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "platform/core/status.h"

namespace emporium::sql {

struct Null {
  bool operator==(const Null&) const = default;
};
// Bound parameters and result cells. BLOBs are carried as Bytes.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};
using Value = std::variant<Null, int64_t, double, std::string, Bytes>;

class Row {
 public:
  explicit Row(std::vector<Value> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<Null>(cells_.at(i)); }
  // Typed accessors convert between integer/text where the backend returns text (PostgreSQL).
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;
  std::string Blob(size_t i) const;
  const Value& at(size_t i) const { return cells_.at(i); }

 private:
  std::vector<Value> cells_;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

enum class Dialect { kSqlite, kPostgres };

// A transaction in progress. Obtained only inside Database::Transact.
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Result<ResultSet> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  Result<ResultSet> Query(std::string_view sql, std::initializer_list<Value> params) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // Query for statements whose rows are not needed.
  Status Exec(std::string_view sql, std::span<const Value> params = {});
  Status Exec(std::string_view sql, std::initializer_list<Value> params) {
    return Exec(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // Runs one or more statements without parameters (DDL, migration scripts).
  virtual Status ExecScript(std::string_view sql) = 0;
  virtual Dialect dialect() const = 0;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs fn in a transaction: commits when fn returns OK, rolls back otherwise and returns fn's
  // error. Serialization failures and busy/locked errors are retried a few times, and SQLite runs
  // fn first as a reader up to its first write, then again as a writer (group commit), so fn
  // must be safe to run again. Returns kUnavailable when the database cannot be reached.
  virtual Status Transact(const std::function<Status(Tx&)>& fn) = 0;

  // One statement in its own transaction.
  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params = {});
  Result<ResultSet> Query(std::string_view sql, std::initializer_list<Value> params) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
};

// Opens a database for one module.
//   "sqlite:///abs/path/file.db" or "sqlite://relative/file.db" (file created; WAL mode,
//   synchronous=FULL so a commit survives power loss; busy timeout) or "sqlite::memory:".
//   "postgres://user@host:port/db?schema=NAME" or "postgresql://..." (schema created if
//   missing and set as search_path for every pooled connection). Optional &pool_size=N
//   (default 8); other query parameters go to libpq (connect_timeout defaults to 5 s).
// Fails with kInvalidArgument for an unknown scheme, kUnavailable when unreachable.
Result<std::unique_ptr<Database>> Open(const std::string& url);

struct Migration {
  int version;               // strictly increasing per module, starting at 1
  std::string name;          // "create_orders"
  std::string sql;           // portable script, used when no dialect variant is given
  std::string sqlite_sql;    // optional SQLite-specific script
  std::string postgres_sql;  // optional PostgreSQL-specific script
};

// Applies the migrations of `module` not yet recorded in table schema_migrations
// (module, version, name, applied_at), each in its own transaction, in version order. Safe to
// call concurrently from several processes (PostgreSQL: advisory lock). Fails with
// kFailedPrecondition when the database holds a version this binary does not know, or when a
// recorded migration's name differs from the code's.
Status Migrate(Database& db, std::string_view module, std::span<const Migration> migrations);

}  // namespace emporium::sql
