// SQLite backend: WAL, synchronous=FULL, a pool of connections, $N parameters bound by name,
// memory-mapped reads (every write in WAL mode empties the other connections' page caches, so
// without mmap each read transaction re-read its pages with pread).
//
// Writes go through a group commit (SqliteDatabase below).
#include <sqlite3.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

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
    rc = sqlite3_exec(raw,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                      "PRAGMA mmap_size=268435456;",
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
  // A probing transaction runs only until its first write: it then stops with kUnavailable and
  // wants_write() (the transaction is rerun as a write, see SqliteDatabase::Transact).
  SqliteTx(Connection& conn, bool probe) : conn_(conn), probe_(probe) {}

  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params) override {
    if (wants_write_) return NeedsWriter();
    int rc = SQLITE_OK;
    auto prepared = conn_.Prepare(sql, &rc);
    if (!prepared.ok()) return Note(rc, prepared.status());
    sqlite3_stmt* stmt = *prepared;
    if (probe_ && !sqlite3_stmt_readonly(stmt)) return NeedsWriter();
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
    if (probe_ || wants_write_) return NeedsWriter();
    return Control(sql);
  }

  // BEGIN / COMMIT / ROLLBACK / SAVEPOINT.
  Status Control(std::string_view sql) {
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
  void ClearBusy() { busy_ = false; }
  bool wants_write() const { return wants_write_; }
  bool InTransaction() { return sqlite3_get_autocommit(conn_.db()) == 0; }

 private:
  Status NeedsWriter() {
    wants_write_ = true;
    return Unavailable("this transaction writes: it is rerun by the database's writer");
  }

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
  const bool probe_;
  bool wants_write_ = false;
  bool busy_ = false;
};

Status RunGuarded(const std::function<Status(Tx&)>& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const std::exception& e) {
    return Internal(std::string("exception in transaction: ") + e.what());
  }
}

// A write transaction waiting for (or inside) a group commit. `started` and `done` are guarded
// by the database's mutex; `result` is written by the writer before it sets `done`.
struct PendingWrite {
  const std::function<Status(Tx&)>* fn;
  Status result;
  bool started = false;
  bool done = false;
  bool settled = false;  // the writer's own mark while it runs the batch (outside the mutex)
};

class SqliteDatabase;

// The group commit this thread is running, so that a transaction nested in one of its
// transactions joins it (as a savepoint) instead of waiting for itself.
struct RunningBatch {
  const SqliteDatabase* db = nullptr;
  SqliteTx* tx = nullptr;
};
thread_local RunningBatch tl_batch;

// Transactions run first as readers on a pooled connection. One that writes is rerun by the
// database's writer, which commits the writes of every thread waiting at that moment in one
// SQLite transaction, each in its own savepoint (a failing one rolls back alone): one WAL sync
// for the group instead of one per transaction (group commit, as in PostgreSQL or InnoDB).
// Writers wait on a condition variable, not in SQLite's busy handler, which polls by sleeping
// 1-100 ms. The busy handler still arbitrates between processes.
class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, size_t pool_size)
      : pool_(pool_size, [path] { return Connection::Open(path); }) {}

  Pool<Connection>& pool() { return pool_; }
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Transact(const std::function<Status(Tx&)>& fn) override {
    if (tl_batch.db == this) return RunNested(*tl_batch.tx, fn);
    Status last;
    for (int attempt = 0; attempt < kMaxTransactAttempts; ++attempt) {
      if (attempt > 0) BackoffBeforeRetry(attempt);
      bool writes = false;
      {
        EMP_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
        SqliteTx tx(*lease, /*probe=*/true);
        Status s = tx.Control("BEGIN");
        if (s.ok()) s = RunGuarded(fn, tx);
        writes = tx.wants_write();
        if (s.ok() && !writes) s = tx.Control("COMMIT");
        if (tx.InTransaction()) (void)tx.Control("ROLLBACK");
        if (!writes && (s.ok() || !tx.busy())) return s;
        last = std::move(s);
      }
      if (writes) return Write(fn);
    }
    return Unavailable("sqlite database stayed busy after " + std::to_string(kMaxTransactAttempts) +
                       " attempts: " + last.message());
  }

 private:
  static constexpr size_t kMaxBatch = 64;

  static Status RunNested(SqliteTx& tx, const std::function<Status(Tx&)>& fn) {
    EMP_RETURN_IF_ERROR(tx.Control("SAVEPOINT nested"));
    Status s = RunGuarded(fn, tx);
    if (!tx.InTransaction()) return s.ok() ? Unavailable("the transaction was rolled back") : s;
    if (!s.ok()) (void)tx.Control("ROLLBACK TO nested");
    (void)tx.Control("RELEASE nested");
    return s;
  }

  Status Write(const std::function<Status(Tx&)>& fn) {
    PendingWrite w{&fn};
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    std::unique_lock lock(mu_);
    queue_.push_back(&w);
    for (;;) {
      if (w.done) return std::move(w.result);
      if (!leading_) {
        leading_ = true;
        while (!w.done) {
          std::vector<PendingWrite*> batch;
          while (!queue_.empty() && batch.size() < kMaxBatch) {
            queue_.front()->started = true;
            batch.push_back(queue_.front());
            queue_.pop_front();
          }
          lock.unlock();
          RunBatch(batch);
          lock.lock();
          for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
            PendingWrite* p = *it;
            if (p->settled) {
              p->done = true;
            } else {
              // A neighbour's failure rolled the whole transaction back: run it again.
              p->started = false;
              queue_.push_front(p);
            }
          }
          cv_.notify_all();
        }
        leading_ = false;
        cv_.notify_all();
        return std::move(w.result);
      }
      // A writer that never got its turn gives up like SQLite's busy_timeout would (this also
      // breaks waits between writers of two databases nested in opposite orders).
      if (!w.started && std::chrono::steady_clock::now() >= give_up) {
        std::erase(queue_, &w);
        return Unavailable("timed out waiting for the database's writer");
      }
      if (w.started) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, give_up);
      }
    }
  }

  // Runs the batch in one transaction; sets result and settled on each entry it settles.
  void RunBatch(const std::vector<PendingWrite*>& batch) {
    auto settle = [](PendingWrite* p, Status s) {
      p->result = std::move(s);
      p->settled = true;
    };
    auto fail_all = [&](const Status& s) {
      for (PendingWrite* p : batch) settle(p, s);
    };
    auto lease = pool_.Acquire();
    if (!lease.ok()) return fail_all(lease.status());
    SqliteTx tx(**lease, /*probe=*/false);
    Status begun;
    for (int attempt = 0; attempt < kMaxTransactAttempts; ++attempt) {
      if (attempt > 0) BackoffBeforeRetry(attempt);
      tx.ClearBusy();
      begun = tx.Control("BEGIN IMMEDIATE");
      if (begun.ok() || !tx.busy()) break;
    }
    if (!begun.ok()) return fail_all(begun);
    tl_batch = {this, &tx};
    std::vector<PendingWrite*> succeeded;
    bool rolled_back = false;
    for (PendingWrite* p : batch) {
      tx.ClearBusy();
      Status s = tx.Control("SAVEPOINT w");
      if (s.ok()) s = RunGuarded(*p->fn, tx);
      if (s.ok() && tx.busy()) s = Unavailable("a statement failed with SQLITE_BUSY");
      if (!tx.InTransaction()) {
        // SQLite rolled the whole transaction back (e.g. I/O error): this entry fails, the
        // others are rerun in the next transaction.
        settle(p, s.ok() ? Unavailable("the transaction was rolled back") : s);
        rolled_back = true;
        break;
      }
      if (!s.ok()) {
        (void)tx.Control("ROLLBACK TO w");
        (void)tx.Control("RELEASE w");
        settle(p, std::move(s));
        continue;
      }
      (void)tx.Control("RELEASE w");
      succeeded.push_back(p);
    }
    tl_batch = {};
    if (rolled_back) return;
    Status committed = tx.Control("COMMIT");
    if (tx.InTransaction()) (void)tx.Control("ROLLBACK");
    for (PendingWrite* p : succeeded) settle(p, committed);
  }

  Pool<Connection> pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingWrite*> queue_;
  bool leading_ = false;
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
