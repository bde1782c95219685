#include "platform/bus/bus.h"

#include "platform/bus/backends.h"

namespace emporium::bus {

BatchResult Producer::PublishBatch(std::span<const Message> messages) {
  BatchResult result;
  for (const Message& m : messages) {
    result.status = Publish(m.topic, m.key, m.event);
    if (!result.status.ok()) return result;
    ++result.published;
  }
  return result;
}

Result<std::unique_ptr<Bus>> Open(const std::string& url) {
  constexpr std::string_view kLog = "log://";
  constexpr std::string_view kKafka = "kafka://";
  if (url.rfind(kLog, 0) == 0) return OpenLogBus(url.substr(kLog.size()));
  if (url.rfind(kKafka, 0) == 0) return OpenKafkaBus(url);
  return InvalidArgument("bus url '" + url + "' must start with log:///abs/dir or kafka://host:port");
}

}  // namespace emporium::bus
