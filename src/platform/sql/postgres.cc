// PostgreSQL backend over libpq: a pool of connections, text parameters (bytea as binary),
// SERIALIZABLE transactions rerun on serialization failure/deadlock, reconnect when a pooled
// connection turns out broken.
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "platform/sql/backends.h"
#include "platform/sql/pool.h"

namespace emporium::sql {
namespace {

// Type OIDs from PostgreSQL's pg_type.h (a server header, not shipped with libpq).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

constexpr size_t kDefaultPoolSize = 8;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct Connection {
  explicit Connection(PGconn* c) : conn(c) {}
  ~Connection() { PQfinish(conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  PGconn* conn;
};

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// The highest $N in `sql`, skipping string literals, quoted identifiers, comments and
// dollar-quoted bodies. PostgreSQL silently ignores surplus typed parameters; SQLite rejects
// them, and both backends should fail alike.
int HighestParameter(std::string_view sql) {
  int highest = 0;
  auto is_ident = [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  size_t i = 0;
  auto skip_to = [&](std::string_view end) {
    size_t at = sql.find(end, i);
    i = at == std::string_view::npos ? sql.size() : at + end.size();
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      ++i;
      skip_to(std::string_view(&sql[i - 1], 1));  // '' and "" escapes re-enter the loop harmlessly
    } else if (sql.substr(i, 2) == "--") {
      skip_to("\n");
    } else if (sql.substr(i, 2) == "/*") {
      skip_to("*/");
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9' &&
               (i == 0 || !is_ident(sql[i - 1]))) {
      int n = 0;
      for (++i; i < sql.size() && sql[i] >= '0' && sql[i] <= '9'; ++i) n = n * 10 + (sql[i] - '0');
      highest = std::max(highest, n);
    } else if (c == '$' && (i == 0 || !is_ident(sql[i - 1]))) {
      size_t close = sql.find('$', i + 1);
      if (close == std::string_view::npos) break;
      std::string tag(sql.substr(i, close - i + 1));
      bool tag_ok = std::all_of(tag.begin() + 1, tag.end() - 1, is_ident);
      i = close + 1;
      if (tag_ok) skip_to(tag);
    } else {
      ++i;
    }
  }
  return highest;
}

// Outcome of one libpq call, classified so Transact knows whether to rerun or reconnect.
struct PgOutcome {
  Status status;
  bool retryable = false;  // serialization failure or deadlock: rerun the transaction
  bool broken = false;     // the connection is gone
};

PgOutcome Classify(PGconn* conn, PGresult* res, std::string_view what) {
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
  std::string msg = std::string(what) + ": " + (res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const char* state_raw = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string state = state_raw ? state_raw : "";
  // 08P01 is a protocol violation such as a wrong parameter count: the connection survives.
  bool lost = (state.starts_with("08") && state != "08P01") || state.starts_with("57P0");
  if (PQstatus(conn) != CONNECTION_OK || lost) {
    return {Unavailable(msg), false, true};
  }
  if (state == "40001" || state == "40P01") return {Unavailable(msg), true, false};
  if (state == "23505") return {AlreadyExists(msg)};
  if (state.starts_with("23")) return {FailedPrecondition(msg)};
  if (state.starts_with("22") || state == "08P01") return {InvalidArgument(msg)};
  if (state.starts_with("53") || state.starts_with("57")) return {Unavailable(msg)};
  return {Internal(msg)};
}

Value CellValue(PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return Null{};
  const char* p = PQgetvalue(res, row, col);
  int n = PQgetlength(res, row, col);
  switch (PQftype(res, col)) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kOidOid: {
      int64_t v = 0;
      std::from_chars(p, p + n, v);
      return v;
    }
    case kFloat4Oid:
    case kFloat8Oid: return std::strtod(p, nullptr);
    case kBoolOid: return static_cast<int64_t>(p[0] == 't' ? 1 : 0);
    case kByteaOid: {
      size_t len = 0;
      unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(p), &len);
      if (raw == nullptr) return Bytes{};
      Bytes b{std::string(reinterpret_cast<const char*>(raw), len)};
      PQfreemem(raw);
      return b;
    }
    default: return std::string(p, n);
  }
}

class PgTx final : public Tx {
 public:
  explicit PgTx(PGconn* conn) : conn_(conn) {}

  Result<ResultSet> Query(std::string_view sql, std::span<const Value> params) override {
    const int n = static_cast<int>(params.size());
    if (int wanted = HighestParameter(sql); wanted != n) {
      return InvalidArgument("statement takes " + std::to_string(wanted) + " parameters, got " +
                             std::to_string(n));
    }
    std::vector<Oid> types(n, 0);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0);
    std::vector<int> formats(n, 0);
    std::vector<std::string> scratch(n);
    for (int i = 0; i < n; ++i) {
      const Value& v = params[i];
      if (auto* x = std::get_if<int64_t>(&v)) {
        types[i] = kInt8Oid;
        values[i] = (scratch[i] = std::to_string(*x)).c_str();
      } else if (auto* d = std::get_if<double>(&v)) {
        types[i] = kFloat8Oid;
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
        values[i] = (scratch[i] = std::string(buf, end)).c_str();
      } else if (auto* s = std::get_if<std::string>(&v)) {
        // Left untyped so the server infers it (text, timestamptz, jsonb, ...).
        values[i] = s->c_str();
      } else if (auto* b = std::get_if<Bytes>(&v)) {
        types[i] = kByteaOid;
        values[i] = b->data.data();
        lengths[i] = static_cast<int>(b->data.size());
        formats[i] = 1;
      }
    }
    std::string text(sql);
    ResultPtr res(
        PQexecParams(conn_, text.c_str(), n, types.data(), values.data(), lengths.data(), formats.data(), 0));
    EMP_RETURN_IF_ERROR(Check(res.get(), "running statement"));

    ResultSet out;
    int ncols = PQnfields(res.get());
    int nrows = PQntuples(res.get());
    for (int c = 0; c < ncols; ++c) out.columns.emplace_back(PQfname(res.get(), c));
    out.rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
      std::vector<Value> cells;
      cells.reserve(ncols);
      for (int c = 0; c < ncols; ++c) cells.push_back(CellValue(res.get(), r, c));
      out.rows.emplace_back(std::move(cells));
    }
    const char* tuples = PQcmdTuples(res.get());
    if (tuples != nullptr && *tuples != '\0') out.affected = std::strtoll(tuples, nullptr, 10);
    return out;
  }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    ResultPtr res(PQexec(conn_, text.c_str()));
    return Check(res.get(), "running script");
  }

  // Like ExecScript, also returning the command tag ("COMMIT", or "ROLLBACK" when PostgreSQL
  // turned a COMMIT of an aborted transaction into a rollback).
  Status Command(const char* sql, std::string* tag) {
    ResultPtr res(PQexec(conn_, sql));
    EMP_RETURN_IF_ERROR(Check(res.get(), sql));
    if (tag != nullptr) *tag = PQcmdStatus(res.get());
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  bool retryable() const { return retryable_; }
  bool broken() const { return broken_; }

 private:
  Status Check(PGresult* res, std::string_view what) {
    PgOutcome o = Classify(conn_, res, what);
    retryable_ = retryable_ || o.retryable;
    broken_ = broken_ || o.broken;
    return o.status;
  }

  PGconn* conn_;
  bool retryable_ = false;
  bool broken_ = false;
};

struct ParsedUrl {
  std::string conninfo;  // the URL libpq gets: without our own parameters
  std::string schema;
  size_t pool_size = kDefaultPoolSize;
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl out;
  auto q = url.find('?');
  std::string base = url.substr(0, q);
  std::string kept;
  bool has_timeout = false;
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(url).substr(q + 1);
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view kv = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (kv.empty()) continue;
      auto eq = kv.find('=');
      std::string_view key = kv.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
      if (key == "schema") {
        if (!IsIdentifier(value)) {
          return InvalidArgument("schema must be a plain identifier: " + std::string(value));
        }
        out.schema = value;
        continue;
      }
      if (key == "pool_size") {
        size_t n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || p != value.data() + value.size() || n == 0) {
          return InvalidArgument("pool_size must be a positive integer: " + std::string(value));
        }
        out.pool_size = n;
        continue;
      }
      if (key == "connect_timeout") has_timeout = true;
      kept += (kept.empty() ? "" : "&") + std::string(kv);
    }
  }
  if (!has_timeout) kept += (kept.empty() ? "" : "&") + std::string("connect_timeout=5");
  out.conninfo = base + "?" + kept;
  return out;
}

void IgnoreNotice(void*, const char*) {}

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(ParsedUrl url)
      : url_(std::move(url)), pool_(url_.pool_size, [this] { return Connect(); }) {}

  Dialect dialect() const override { return Dialect::kPostgres; }
  Pool<Connection>& pool() { return pool_; }

  // Opens and prepares one connection; kUnavailable when the server cannot be reached.
  Result<std::unique_ptr<Connection>> Connect() {
    auto conn = std::make_unique<Connection>(PQconnectdb(url_.conninfo.c_str()));
    if (conn->conn == nullptr || PQstatus(conn->conn) != CONNECTION_OK) {
      std::string msg = conn->conn ? PQerrorMessage(conn->conn) : "out of memory";
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      return Unavailable("cannot connect to PostgreSQL: " + msg);
    }
    PQsetNoticeProcessor(conn->conn, IgnoreNotice, nullptr);
    if (url_.schema.empty()) return conn;
    PgTx setup(conn->conn);
    std::string quoted = "\"" + url_.schema + "\"";
    Status s = setup.ExecScript("CREATE SCHEMA IF NOT EXISTS " + quoted);
    // Two connections creating the schema at once: the loser sees a unique violation.
    if (!s.ok() && s.code() != Code::kAlreadyExists) return s;
    EMP_RETURN_IF_ERROR(setup.ExecScript("SET search_path TO " + quoted));
    return conn;
  }

  Status Transact(const std::function<Status(Tx&)>& fn) override {
    Status last;
    for (int attempt = 0; attempt < kMaxTransactAttempts; ++attempt) {
      if (attempt > 0 && !last.ok()) BackoffBeforeRetry(attempt);
      EMP_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
      PgTx tx(lease->conn);
      bool committing = false;
      Status s = RunOnce(tx, fn, &committing);
      if (s.ok()) return s;
      if (tx.broken()) {
        lease.Discard();
        pool_.DropIdle();
        // A lost COMMIT may or may not have been applied: rerunning could apply fn twice.
        if (committing) return Unavailable("connection lost during COMMIT: " + s.message());
        last = std::move(s);
        continue;
      }
      if (PQtransactionStatus(lease->conn) != PQTRANS_IDLE) (void)tx.ExecScript("ROLLBACK");
      if (!tx.retryable()) return s;
      last = std::move(s);
    }
    return Unavailable("PostgreSQL transaction failed after " + std::to_string(kMaxTransactAttempts) +
                       " attempts: " + last.message());
  }

 private:
  static Status RunOnce(PgTx& tx, const std::function<Status(Tx&)>& fn, bool* committing) {
    EMP_RETURN_IF_ERROR(tx.ExecScript("BEGIN ISOLATION LEVEL SERIALIZABLE"));
    Status s;
    try {
      s = fn(tx);
    } catch (const std::exception& e) {
      s = Internal(std::string("exception in transaction: ") + e.what());
    }
    if (!s.ok()) return s;
    *committing = true;
    std::string tag;
    EMP_RETURN_IF_ERROR(tx.Command("COMMIT", &tag));
    if (tag == "ROLLBACK") {
      return Internal("transaction rolled back: a statement in it failed but fn returned OK");
    }
    return Status::Ok();
  }

  ParsedUrl url_;
  Pool<Connection> pool_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url) {
  EMP_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseUrl(url));
  auto db = std::make_unique<PgDatabase>(std::move(parsed));
  EMP_ASSIGN_OR_RETURN(auto first, db->Connect());
  db->pool().Seed(std::move(first));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace emporium::sql
