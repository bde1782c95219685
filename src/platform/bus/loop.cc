#include "platform/bus/loop.h"

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "platform/log/log.h"

namespace emporium::bus {

Status CommitLast(Consumer& consumer, const std::vector<Record>& records) {
  std::map<std::pair<std::string, int>, const Record*> last;
  for (const Record& r : records) last[{r.topic, r.partition}] = &r;
  for (const auto& [key, r] : last) EMP_RETURN_IF_ERROR(consumer.Commit(*r));
  return Status::Ok();
}

void RunWithBackoff(const std::atomic<bool>& stop, std::string_view what,
                    const std::function<Result<bool>()>& round) {
  Millis backoff(50);
  while (!stop.load()) {
    auto r = round();
    if (r.ok()) {
      backoff = Millis(50);
      continue;
    }
    log::Error(std::string(what) + " failed; retrying", {{"error", r.status().ToString()}});
    for (Millis slept(0); slept < backoff && !stop.load(); slept += Millis(10)) {
      std::this_thread::sleep_for(Millis(10));
    }
    backoff = std::min(backoff * 2, Millis(5000));
  }
}

}  // namespace emporium::bus
