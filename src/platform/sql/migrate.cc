// Schema migrations recorded in schema_migrations, applied one transaction per migration.
//
// On PostgreSQL every migration transaction first takes a transaction-scoped advisory lock, so
// concurrent processes apply each migration once. Those transactions run READ COMMITTED: under
// SERIALIZABLE the snapshot would predate the lock and miss a migration another process just
// committed. On SQLite the write lock serialises migrations and a stale read is retried.
#include <algorithm>

#include "platform/core/clock.h"
#include "platform/sql/sql.h"

namespace emporium::sql {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " module TEXT NOT NULL,"
    " version BIGINT NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (module, version))";

Status Lock(Tx& tx) {
  if (tx.dialect() != Dialect::kPostgres) return Status::Ok();
  EMP_RETURN_IF_ERROR(tx.ExecScript("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"));
  return tx.Exec(
      "SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') ||"
      " '.schema_migrations'))");
}

Status CheckList(std::string_view module, std::span<const Migration> migrations) {
  if (module.empty()) return InvalidArgument("migrations need a module name");
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return InvalidArgument("migrations of " + std::string(module) +
                             " must have strictly increasing versions from 1; got " +
                             std::to_string(m.version) + " after " + std::to_string(previous));
    }
    if (m.name.empty()) return InvalidArgument("migration without a name");
    previous = m.version;
  }
  return Status::Ok();
}

const Migration* Find(std::span<const Migration> migrations, int64_t version) {
  auto it = std::find_if(migrations.begin(), migrations.end(),
                         [&](const Migration& m) { return m.version == version; });
  return it == migrations.end() ? nullptr : &*it;
}

Status CheckRecorded(std::string_view module, int64_t version, const std::string& name,
                     std::span<const Migration> migrations) {
  const Migration* known = Find(migrations, version);
  std::string which = std::string(module) + " migration " + std::to_string(version);
  if (known == nullptr) {
    return FailedPrecondition("database has " + which + " (" + name +
                              ") which this binary does not know; was it run by a newer version?");
  }
  if (known->name != name) {
    return FailedPrecondition(which + " is recorded as '" + name + "' but the code calls it '" + known->name +
                              "'");
  }
  return Status::Ok();
}

const std::string& ScriptFor(const Migration& m, Dialect dialect) {
  if (dialect == Dialect::kSqlite && !m.sqlite_sql.empty()) return m.sqlite_sql;
  if (dialect == Dialect::kPostgres && !m.postgres_sql.empty()) return m.postgres_sql;
  return m.sql;
}

Status ApplyOne(Database& db, std::string_view module, const Migration& m) {
  const std::string mod(module);
  return db.Transact([&](Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(Lock(tx));
    EMP_ASSIGN_OR_RETURN(ResultSet done,
                         tx.Query("SELECT name FROM schema_migrations WHERE module = $1 AND version = $2",
                                  {mod, int64_t{m.version}}));
    if (!done.rows.empty()) {
      if (done.rows[0].Text(0) != m.name) {
        return FailedPrecondition(mod + " migration " + std::to_string(m.version) + " is recorded as '" +
                                  done.rows[0].Text(0) + "' but the code calls it '" + m.name + "'");
      }
      return Status::Ok();  // another process applied it meanwhile
    }
    Status s = tx.ExecScript(ScriptFor(m, tx.dialect()));
    if (!s.ok()) {
      return Status(s.code(), "migration " + mod + "/" + std::to_string(m.version) + " " + m.name +
                                  " failed: " + s.message());
    }
    return tx.Exec(
        "INSERT INTO schema_migrations (module, version, name, applied_at) "
        "VALUES ($1, $2, $3, $4)",
        {mod, int64_t{m.version}, m.name, FormatRfc3339(SystemClock::Get().WallNow())});
  });
}

}  // namespace

Status Migrate(Database& db, std::string_view module, std::span<const Migration> migrations) {
  EMP_RETURN_IF_ERROR(CheckList(module, migrations));
  const std::string mod(module);
  std::vector<int64_t> applied;
  EMP_RETURN_IF_ERROR(db.Transact([&](Tx& tx) -> Status {
    applied.clear();
    EMP_RETURN_IF_ERROR(Lock(tx));
    EMP_RETURN_IF_ERROR(tx.ExecScript(kCreateTable));
    EMP_ASSIGN_OR_RETURN(
        ResultSet rs,
        tx.Query("SELECT version, name FROM schema_migrations WHERE module = $1 ORDER BY version", {mod}));
    for (const Row& row : rs.rows) {
      EMP_RETURN_IF_ERROR(CheckRecorded(module, row.Int(0), row.Text(1), migrations));
      applied.push_back(row.Int(0));
    }
    return Status::Ok();
  }));
  for (const Migration& m : migrations) {
    if (std::find(applied.begin(), applied.end(), m.version) != applied.end()) continue;
    EMP_RETURN_IF_ERROR(ApplyOne(db, module, m));
  }
  return Status::Ok();
}

}  // namespace emporium::sql
