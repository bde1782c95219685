// Structured JSON logs, one object per line on stderr:
//   {"ts":"2026-11-26T10:39:49.123Z","level":"info","msg":"...","request_id":"...",...}
// Every string is JSON-escaped. Lines are buffered and written by a background flusher (every
// 100 ms, at 64 KiB, at once for warnings and errors, and at Flush()). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace emporium::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  Field(std::string_view k, size_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  std::variant<std::string_view, int64_t, double, bool> value;
};

// "debug" | "info" | "warn" | "error"; false for anything else.
bool ParseLevel(std::string_view name, Level* out);
void SetLevel(Level level);
bool Enabled(Level level);
// Replaces the output (tests capture lines). nullptr restores stderr.
void SetSink(std::function<void(std::string_view line)> sink);
void Flush();

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields);
inline void Debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, msg, f);
}
inline void Info(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kError, msg, f);
}

// Appends s to out as a JSON string literal (quotes included).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace emporium::log
