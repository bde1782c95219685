#include "platform/log/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "platform/core/clock.h"

namespace emporium::log {
namespace {

constexpr size_t kFlushBytes = 64 * 1024;

class Sink {
 public:
  Sink() : flusher_([this] { Run(); }) {}
  ~Sink() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    flusher_.join();
    FlushNow();
  }

  void Append(std::string&& line, bool urgent) {
    std::unique_lock lock(mu_);
    if (custom_) {
      line.pop_back();  // custom sinks get the line without '\n'
      custom_(line);
      return;
    }
    buffer_ += line;
    if (urgent || buffer_.size() >= kFlushBytes) {
      std::string out;
      out.swap(buffer_);
      lock.unlock();
      WriteAll(out);
    }
  }

  void SetCustom(std::function<void(std::string_view)> sink) {
    std::lock_guard lock(mu_);
    custom_ = std::move(sink);
  }

  void FlushNow() {
    std::string out;
    {
      std::lock_guard lock(mu_);
      out.swap(buffer_);
    }
    WriteAll(out);
  }

 private:
  static void WriteAll(const std::string& s) {
    std::lock_guard lock(write_mu_);
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::write(STDERR_FILENO, s.data() + off, s.size() - off);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  void Run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      std::string out;
      out.swap(buffer_);
      lock.unlock();
      WriteAll(out);
      lock.lock();
    }
  }

  std::mutex mu_;
  static inline std::mutex write_mu_;
  std::condition_variable cv_;
  std::string buffer_;
  std::function<void(std::string_view)> custom_;
  bool stop_ = false;
  std::thread flusher_;
};

Sink& GetSink() {
  static Sink sink;
  return sink;
}

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

bool ParseLevel(std::string_view name, Level* out) {
  if (name == "debug")
    *out = Level::kDebug;
  else if (name == "info")
    *out = Level::kInfo;
  else if (name == "warn")
    *out = Level::kWarn;
  else if (name == "error")
    *out = Level::kError;
  else
    return false;
  return true;
}

void SetLevel(Level level) {
  g_level = static_cast<int>(level);
}
bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}
void SetSink(std::function<void(std::string_view)> sink) {
  GetSink().SetCustom(std::move(sink));
}
void Flush() {
  GetSink().FlushNow();
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line;
  line.reserve(128 + msg.size());
  line += "{\"ts\":\"";
  line += FormatRfc3339(SystemClock::Get().WallNow());
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"msg\":";
  AppendJsonString(line, msg);
  for (const Field& f : fields) {
    line += ',';
    AppendJsonString(line, f.key);
    line += ':';
    if (auto* s = std::get_if<std::string_view>(&f.value)) {
      AppendJsonString(line, *s);
    } else if (auto* i = std::get_if<int64_t>(&f.value)) {
      line += std::to_string(*i);
    } else if (auto* d = std::get_if<double>(&f.value)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", *d);
      line += buf;
    } else {
      line += std::get<bool>(f.value) ? "true" : "false";
    }
  }
  line += "}\n";
  GetSink().Append(std::move(line), level >= Level::kWarn);
}

}  // namespace emporium::log
