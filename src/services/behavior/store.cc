#include "services/behavior/store.h"

#include "platform/bus/outbox.h"
#include "platform/core/json.h"

namespace emporium::behavior {
namespace {

constexpr int kColumns = 10;
constexpr int64_t kDeleteChunk = 2000;

// "INSERT ... VALUES ($1..$10), ... ON CONFLICT DO NOTHING RETURNING client_event_id" for n rows.
const std::string& InsertSql(size_t n) {
  static const auto kCache = [] {
    std::vector<std::string> sqls(65);
    for (size_t rows = 1; rows <= 64; rows *= 2) {
      std::string s =
          "INSERT INTO behavior_events (id, origin, client_event_id, subject, type, event_time, received_at, "
          "session_id, device_id, fields_json) VALUES ";
      int p = 0;
      for (size_t r = 0; r < rows; ++r) {
        s += r ? ",(" : "(";
        for (int c = 0; c < kColumns; ++c) s += (c ? ",$" : "$") + std::to_string(++p);
        s += ")";
      }
      s += " ON CONFLICT (origin, client_event_id) DO NOTHING RETURNING client_event_id";
      sqls[rows] = std::move(s);
    }
    return sqls;
  }();
  return kCache[n];
}

StoredEvent FromRow(const sql::Row& r) {
  StoredEvent s;
  s.id = r.Text(0);
  s.event.client_event_id = r.Text(1);
  s.event.type = r.Text(2);
  s.event.time_ms = r.Int(3);
  s.received_ms = r.Int(4);
  s.event.session_id = r.Text(5);
  s.event.device_id = r.Text(6);
  auto fields = json::Parse(r.Text(7));
  if (fields.ok() && fields->is_object()) s.event.fields = std::move(fields->as_object());
  return s;
}

}  // namespace

Status Store::Migrate() {
  EMP_RETURN_IF_ERROR(sql::Migrate(db_, "behavior", Migrations()));
  return bus::MigrateOutbox(db_);
}

Result<std::string> Store::Attributed(sql::Tx& tx, const std::string& subject) {
  if (!subject.starts_with("guest:")) return subject;
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      tx.Query("SELECT user_subject FROM behavior_aliases WHERE guest_subject = $1", {subject}));
  return rs.rows.empty() ? subject : rs.rows[0].Text(0);
}

Result<std::unordered_set<std::string>> Store::Insert(sql::Tx& tx, std::span<const NewRow> rows) {
  std::unordered_set<std::string> inserted;
  std::vector<sql::Value> params;
  size_t done = 0;
  while (done < rows.size()) {
    size_t n = 64;
    while (n > rows.size() - done) n /= 2;
    params.clear();
    params.reserve(n * kColumns);
    for (size_t i = done; i < done + n; ++i) {
      const StoredEvent& s = *rows[i].stored;
      params.emplace_back(s.id);
      params.emplace_back(*rows[i].origin);
      params.emplace_back(s.event.client_event_id);
      params.emplace_back(*rows[i].subject);
      params.emplace_back(s.event.type);
      params.emplace_back(s.event.time_ms);
      params.emplace_back(s.received_ms);
      params.emplace_back(s.event.session_id);
      params.emplace_back(s.event.device_id);
      params.emplace_back(json::Dump(s.event.fields));
    }
    EMP_ASSIGN_OR_RETURN(sql::ResultSet rs, tx.Query(InsertSql(n), params));
    for (const sql::Row& r : rs.rows) inserted.insert(r.Text(0));
    done += n;
  }
  return inserted;
}

Result<int64_t> Store::Reattribute(sql::Tx& tx, const std::string& guest, const std::string& user,
                                   int64_t now_ms) {
  EMP_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO behavior_aliases (guest_subject, user_subject, created_at) VALUES ($1, $2, $3) "
              "ON CONFLICT (guest_subject) DO UPDATE SET user_subject = excluded.user_subject, "
              "created_at = excluded.created_at",
              {guest, user, now_ms}));
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                       tx.Query("UPDATE behavior_events SET subject = $2 WHERE subject = $1", {guest, user}));
  return rs.affected;
}

Result<std::vector<StoredEvent>> Store::History(const HistoryQuery& q) {
  std::string sql =
      "SELECT id, client_event_id, type, event_time, received_at, session_id, device_id, fields_json "
      "FROM behavior_events WHERE subject = $1";
  std::vector<sql::Value> params{q.subject};
  if (!q.origin.empty()) {
    params.emplace_back(q.origin);
    sql += " AND origin = $" + std::to_string(params.size());
  }
  if (!q.type.empty()) {
    params.emplace_back(q.type);
    sql += " AND type = $" + std::to_string(params.size());
  }
  if (q.after) {
    params.emplace_back(q.after->time_ms);
    params.emplace_back(q.after->id);
    const std::string t = "$" + std::to_string(params.size() - 1), id = "$" + std::to_string(params.size());
    sql += " AND (event_time < " + t + " OR (event_time = " + t + " AND id < " + id + "))";
  }
  params.emplace_back(int64_t{q.page_size} + 1);
  sql += " ORDER BY event_time DESC, id DESC LIMIT $" + std::to_string(params.size());
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rs, db_.Query(sql, params));
  std::vector<StoredEvent> out;
  out.reserve(rs.rows.size());
  for (const sql::Row& r : rs.rows) out.push_back(FromRow(r));
  return out;
}

Result<int64_t> Store::DeleteOlderThan(int64_t cutoff_ms) {
  int64_t total = 0;
  for (;;) {
    EMP_ASSIGN_OR_RETURN(sql::ResultSet rs,
                         db_.Query("DELETE FROM behavior_events WHERE id IN (SELECT id FROM behavior_events "
                                   "WHERE event_time < $1 LIMIT $2)",
                                   {cutoff_ms, kDeleteChunk}));
    total += rs.affected;
    if (rs.affected < kDeleteChunk) break;
  }
  EMP_RETURN_IF_ERROR(db_.Query("DELETE FROM behavior_aliases WHERE created_at < $1", {cutoff_ms}).status());
  return total;
}

}  // namespace emporium::behavior
