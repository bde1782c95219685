// Row accessors, Database::Query and Open's dispatch by URL scheme.
#include "platform/sql/sql.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "platform/core/random.h"
#include "platform/sql/backends.h"

namespace emporium::sql {
namespace {

// Integers first: a double detour would lose precision above 2^53.
int64_t ParseInt(const std::string& s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && ptr == s.data() + s.size()) return v;
  if (s == "t" || s == "true") return 1;
  return static_cast<int64_t>(std::strtod(s.c_str(), nullptr));
}

double ParseReal(const std::string& s) {
  return std::strtod(s.c_str(), nullptr);
}

std::string FormatReal(double d) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, ec == std::errc() ? ptr : buf);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

int64_t Row::Int(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* p = std::get_if<int64_t>(&v)) return *p;
  if (auto* p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  if (auto* p = std::get_if<std::string>(&v)) return ParseInt(*p);
  if (auto* p = std::get_if<Bytes>(&v)) return ParseInt(p->data);
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* p = std::get_if<double>(&v)) return *p;
  if (auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto* p = std::get_if<std::string>(&v)) return ParseReal(*p);
  if (auto* p = std::get_if<Bytes>(&v)) return ParseReal(p->data);
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* p = std::get_if<std::string>(&v)) return *p;
  if (auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto* p = std::get_if<double>(&v)) return FormatReal(*p);
  if (auto* p = std::get_if<Bytes>(&v)) return p->data;
  return {};
}

std::string Row::Blob(size_t i) const {
  const Value& v = cells_.at(i);
  if (auto* p = std::get_if<Bytes>(&v)) return p->data;
  return Text(i);
}

Status Tx::Exec(std::string_view sql, std::span<const Value> params) {
  return Query(sql, params).status();
}

Result<ResultSet> Database::Query(std::string_view sql, std::span<const Value> params) {
  std::optional<ResultSet> out;
  Status s = Transact([&](Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(ResultSet rs, tx.Query(sql, params));
    out = std::move(rs);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

Result<std::unique_ptr<Database>> Open(const std::string& url) {
  try {
    if (url == "sqlite::memory:") return OpenSqlite(":memory:");
    if (StartsWith(url, "sqlite://")) {
      std::string path = url.substr(std::string_view("sqlite://").size());
      if (path.empty()) return InvalidArgument("sqlite URL without a path: " + url);
      return OpenSqlite(path);
    }
    if (StartsWith(url, "postgres://") || StartsWith(url, "postgresql://")) {
      return OpenPostgres(url);
    }
  } catch (const std::exception& e) {
    return Internal(std::string("opening database: ") + e.what());
  }
  auto scheme_end = url.find(':');
  return InvalidArgument("unsupported database URL scheme '" + url.substr(0, scheme_end) +
                         "' (want sqlite:// or postgres://)");
}

void BackoffBeforeRetry(int attempt) {
  double base_ms = std::min(200.0, 2.0 * std::pow(2.0, attempt - 1));
  double ms = base_ms * (0.5 + RandomUnit());
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(ms * 1000)));
}

}  // namespace emporium::sql
