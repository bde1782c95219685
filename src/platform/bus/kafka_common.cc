#include "platform/bus/kafka_common.h"

namespace emporium::bus {
namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Result<KafkaConfig> ParseKafkaUrl(const std::string& url) {
  constexpr std::string_view kScheme = "kafka://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("kafka url must start with kafka://");
  std::string rest = url.substr(kScheme.size());
  KafkaConfig config;
  const size_t q = rest.find('?');
  config.brokers = rest.substr(0, q);
  while (!config.brokers.empty() && config.brokers.back() == '/') config.brokers.pop_back();
  if (config.brokers.empty()) return InvalidArgument("kafka url '" + url + "' names no broker");
  if (q == std::string::npos) return config;
  std::string_view query = std::string_view(rest).substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("kafka url property '" + std::string(item) + "' has no value");
    }
    std::string name = PercentDecode(item.substr(0, eq));
    std::string value = PercentDecode(item.substr(eq + 1));
    if (name.rfind("consumer.", 0) == 0) {
      config.consumer.emplace_back(name.substr(9), value);
    } else if (name.rfind("producer.", 0) == 0) {
      config.producer.emplace_back(name.substr(9), value);
    } else {
      config.consumer.emplace_back(name, value);
      config.producer.emplace_back(name, value);
    }
  }
  return config;
}

Result<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const std::string& brokers, const KafkaProps& defaults,
                                                     const KafkaProps& url_props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& name, const std::string& value) -> Status {
    if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) {
      return InvalidArgument("kafka property " + name + "=" + value + ": " + err);
    }
    return Status::Ok();
  };
  EMP_RETURN_IF_ERROR(set("bootstrap.servers", brokers));
  for (const auto& [name, value] : defaults) EMP_RETURN_IF_ERROR(set(name, value));
  for (const auto& [name, value] : url_props) EMP_RETURN_IF_ERROR(set(name, value));
  return conf;
}

Status KafkaStatus(RdKafka::ErrorCode err, const std::string& what) {
  const std::string message = what + ": " + RdKafka::err2str(err);
  switch (err) {
    case RdKafka::ERR_NO_ERROR: return Status::Ok();
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR_REQUEST_TIMED_OUT: return DeadlineExceeded(message);
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_PARTITIONS: return InvalidArgument(message);
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART: return NotFound(message);
    default: return Unavailable(message);
  }
}

}  // namespace emporium::bus
