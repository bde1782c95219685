// Shared pieces of the Kafka backend (librdkafka C++ API): URL parsing, configuration, errors.
// Internal to the bus component. Stateless functions: thread-safe.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "platform/bus/bus.h"

namespace emporium::bus {

using KafkaProps = std::vector<std::pair<std::string, std::string>>;

struct KafkaConfig {
  std::string brokers;  // bootstrap.servers
  KafkaProps producer;  // URL query properties for producers
  KafkaProps consumer;  // URL query properties for consumers
};

// "kafka://h1:p1,h2:p2?prop=value&consumer.prop=value&producer.prop=value": unprefixed
// properties apply to both clients, prefixed ones to that client only.
Result<KafkaConfig> ParseKafkaUrl(const std::string& url);

// A global conf with bootstrap.servers, then defaults, then the URL's properties (which win).
Result<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const std::string& brokers, const KafkaProps& defaults,
                                                     const KafkaProps& url_props);

// Broker-side failures are retryable (kUnavailable); timeouts are kDeadlineExceeded.
Status KafkaStatus(RdKafka::ErrorCode err, const std::string& what);

Result<std::unique_ptr<Producer>> NewKafkaProducer(const KafkaConfig& config);
Result<std::unique_ptr<Consumer>> NewKafkaConsumer(const KafkaConfig& config, const std::string& group,
                                                   const std::vector<std::string>& topics);

}  // namespace emporium::bus
