// SQLite backend: WAL, synchronous=FULL, a pool of connections, $N parameters bound by name.
//
// A transaction starts DEFERRED so that read-only work never blocks or conflicts; when a write
// hits SQLITE_BUSY (another writer, or a stale read snapshot) it is rolled back and rerun with
// BEGIN IMMEDIATE, which queues on the write lock through busy_timeout instead of failing.
#include <sqlite3.h>

#include <cctype>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "platform/sql/backends.h"
#include "platform/sql/pool.h"

namespace emporium::sql {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kFilePoolSize = 8;
constexpr size_t kStatementCacheSize = 128;

bool IsBusy(int rc) {
  rc &= 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db);
  int ext = sqlite3_extended_errcode(db);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN: return Unavailable(msg);
    case SQLITE_CONSTRAINT:
      if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists(msg);
      }
      return FailedPrecondition(msg);
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG: return InvalidArgument(msg);
    default: return Internal(msg);
  }
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

class Connection {
 public:
  // Takes ownership of `db` (which may be a handle whose open failed: it still needs closing).
  explicit Connection(sqlite3* db) : db_(db) {}
  static Result<std::unique_ptr<Connection>> Open(const std::string& path) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto conn = std::make_unique<Connection>(raw);
    if (rc != SQLITE_OK) {
      return Unavailable("cannot open sqlite database " + path + ": " +
                         (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    char* err = nullptr;
    rc = sqlite3_exec(raw, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                      nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return Unavailable("configuring sqlite database " + path + ": " + msg);
    }
    return conn;
  }

  ~Connection() {
    cache_.clear();
    sqlite3_close_v2(db_);
  }

  sqlite3* db() { return db_; }

  // Statements are cached per connection: preparing costs more than running a simple query.
  Result<sqlite3_stmt*> Prepare(std::string_view sql, int* rc_out) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second.get();
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                                &raw, &tail);
    *rc_out = rc;
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "preparing statement");
    if (stmt == nullptr) return InvalidArgument("empty SQL statement");
    for (; tail != nullptr && *tail != '\0'; ++tail) {
      if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
        return InvalidArgument("Query runs one statement; use ExecScript for several");
      }
    }
    if (cache_.size() >= kStatementCacheSize) cache_.clear();
    return cache_.emplace(std::move(key), std::move(stmt)).first->second.get();
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, StmtPtr> cache_;
};

class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* s) : s_(s) {}
  ~ResetOnExit() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* s_;
};

Value ColumnValue(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: return static_cast<int64_t>(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT: return sqlite3_column_double(s, i);
    case SQLITE_TEXT: {
      auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      return std::string(p, sqlite3_column_bytes(s, i));
    }
    case SQLITE_BLOB: {
      auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
      int n = sqlite3_column_bytes(s, i);
      return Bytes{p ? std::string(p, n) : std::string()};
    }
    default: return Null{};
  }
}

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Connection& conn) : conn_(conn) {}

  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params) override {
    int rc = SQLITE_OK;
    auto prepared = conn_.Prepare(sql, &rc);
    if (!prepared.ok()) return Note(rc, prepared.status());
    sqlite3_stmt* stmt = *prepared;
    ResetOnExit reset(stmt);
    EMP_RETURN_IF_ERROR(Bind(stmt, params));

    ResultSet out;
    int ncols = sqlite3_column_count(stmt);
    for (int i = 0; i < ncols; ++i) out.columns.emplace_back(sqlite3_column_name(stmt, i));
    sqlite3* db = conn_.db();
    int64_t changes_before = sqlite3_total_changes64(db);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value> cells;
      cells.reserve(ncols);
      for (int i = 0; i < ncols; ++i) cells.push_back(ColumnValue(stmt, i));
      out.rows.emplace_back(std::move(cells));
    }
    if (rc != SQLITE_DONE) return Note(rc, SqliteError(db, rc, "running statement"));
    if (sqlite3_total_changes64(db) != changes_before) out.affected = sqlite3_changes64(db);
    return out;
  }

  Status ExecScript(std::string_view sql) override {
    std::string script(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(conn_.db(), script.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return Note(rc, SqliteError(conn_.db(), rc, "running script"));
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  // True once a statement failed because of a lock: the transaction must be rerun.
  bool busy() const { return busy_; }
  bool InTransaction() { return sqlite3_get_autocommit(conn_.db()) == 0; }

 private:
  Status Note(int rc, Status s) {
    if (IsBusy(rc)) busy_ = true;
    return s;
  }

  static Status Bind(sqlite3_stmt* stmt, std::span<const Value> params) {
    int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<size_t>(expected) != params.size()) {
      return InvalidArgument("statement takes " + std::to_string(expected) + " parameters, got " +
                             std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      std::string name = "$" + std::to_string(i + 1);
      int idx = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (idx == 0) return InvalidArgument("statement has no parameter " + name);
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<Null>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else if (auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else if (auto* b = std::get_if<Bytes>(&v)) {
        rc = sqlite3_bind_blob64(stmt, idx, b->data.data(), b->data.size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return InvalidArgument("binding " + name + ": " + sqlite3_errstr(rc));
    }
    return Status::Ok();
  }

  Connection& conn_;
  bool busy_ = false;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, size_t pool_size)
      : pool_(pool_size, [path] { return Connection::Open(path); }) {}

  Pool<Connection>& pool() { return pool_; }
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Transact(const std::function<Status(Tx&)>& fn) override {
    Status last;
    for (int attempt = 0; attempt < kMaxTransactAttempts; ++attempt) {
      if (attempt > 0) BackoffBeforeRetry(attempt);
      EMP_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
      SqliteTx tx(*lease);
      Status s = RunOnce(tx, fn, /*immediate=*/attempt > 0);
      if (tx.InTransaction()) (void)tx.ExecScript("ROLLBACK");
      if (s.ok() || !tx.busy()) return s;
      last = std::move(s);
    }
    return Unavailable("sqlite database stayed busy after " + std::to_string(kMaxTransactAttempts) +
                       " attempts: " + last.message());
  }

 private:
  static Status RunOnce(SqliteTx& tx, const std::function<Status(Tx&)>& fn, bool immediate) {
    EMP_RETURN_IF_ERROR(tx.ExecScript(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
    Status s;
    try {
      s = fn(tx);
    } catch (const std::exception& e) {
      s = Internal(std::string("exception in transaction: ") + e.what());
    }
    if (!s.ok()) return s;
    if (tx.busy()) return Unavailable("a statement failed with SQLITE_BUSY");
    return tx.ExecScript("COMMIT");
  }

  Pool<Connection> pool_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  bool memory = path == ":memory:";
  if (!memory) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Unavailable("cannot create directory " + parent.string() + ": " + ec.message());
  }
  // Each ":memory:" connection would be a separate database, so memory gets exactly one.
  auto db = std::make_unique<SqliteDatabase>(path, memory ? 1 : kFilePoolSize);
  EMP_ASSIGN_OR_RETURN(auto first, Connection::Open(path));
  db->pool().Seed(std::move(first));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace emporium::sql
