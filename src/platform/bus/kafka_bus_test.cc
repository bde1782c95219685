// Kafka backend: the shared behaviour suite against a real broker (EMP_TEST_KAFKA_URL, started by
// tests/harness/kafka.sh).
#include <cstdlib>

#include "platform/bus/bus_behaviour_test.h"

namespace emporium::bus::testing {
namespace {

class KafkaEnv final : public BusEnv {
 public:
  explicit KafkaEnv(std::string url) : url_(std::move(url)) {}
  Result<std::unique_ptr<Bus>> OpenBus() override {
    // Short consumer sessions keep group hand-overs fast in tests.
    const char* sep = url_.find('?') == std::string::npos ? "?" : "&";
    return Open(url_ + sep + "consumer.session.timeout.ms=6000&consumer.heartbeat.interval.ms=500");
  }
  Millis patience() const override { return Millis(30000); }

 private:
  std::string url_;
};

}  // namespace

std::unique_ptr<BusEnv> MakeBusEnv() {
  const char* url = std::getenv("EMP_TEST_KAFKA_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "EMP_TEST_KAFKA_URL is not set: start a broker with "
                     "`eval $(tests/harness/kafka.sh start DIR)` or run `make test`";
    return nullptr;
  }
  return std::make_unique<KafkaEnv>(url);
}

}  // namespace emporium::bus::testing
