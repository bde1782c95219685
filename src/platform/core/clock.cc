#include "platform/core/clock.h"

#include <ctime>
#include <string>
#include <thread>

namespace emporium {

SteadyTime SystemClock::Now() const {
  return std::chrono::steady_clock::now();
}
SystemTime SystemClock::WallNow() const {
  return std::chrono::system_clock::now();
}
void SystemClock::Sleep(std::chrono::nanoseconds d) {
  std::this_thread::sleep_for(d);
}

SystemClock& SystemClock::Get() {
  static SystemClock clock;
  return clock;
}

int64_t UnixMillis(SystemTime t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}

std::string FormatRfc3339(SystemTime t) {
  int64_t ms = UnixMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace emporium
