// Kafka Consumer: a KafkaConsumer in `group`, manual commits, earliest reset.
#include <cstdio>

#include "platform/bus/kafka_common.h"
#include "platform/log/log.h"

namespace emporium::bus {
namespace {

constexpr int kAdminTimeoutMs = 10000;

// Owns the TopicPartition pointers librdkafka hands out.
struct Partitions {
  std::vector<RdKafka::TopicPartition*> list;
  ~Partitions() { RdKafka::TopicPartition::destroy(list); }
};

class KafkaConsumerImpl final : public Consumer {
 public:
  ~KafkaConsumerImpl() override {
    // close() leaves the group at once, so the next member gets the partitions without waiting
    // for a session timeout.
    if (consumer_) consumer_->close();
  }

  Status Init(const KafkaConfig& config, const std::string& group, const std::vector<std::string>& topics) {
    if (group.empty()) return InvalidArgument("consumer group is empty");
    if (topics.empty()) return InvalidArgument("Subscribe needs at least one topic");
    const KafkaProps defaults = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    EMP_ASSIGN_OR_RETURN(auto conf, MakeKafkaConf(config.brokers, defaults, config.consumer));
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) return InvalidArgument("kafka consumer: " + err);
    return KafkaStatus(consumer_->subscribe(topics), "kafka subscribe");
  }

  Result<std::vector<Record>> Poll(Millis timeout, size_t max) override {
    std::vector<Record> out;
    const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < max) {
      // Wait for the first record; afterwards take only what is already fetched.
      int wait_ms = 0;
      if (out.empty()) {
        auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
        wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(wait_ms));
      const RdKafka::ErrorCode err = msg->err();
      if (err == RdKafka::ERR__TIMED_OUT) {
        if (!out.empty() || std::chrono::steady_clock::now() >= deadline) break;
        continue;
      }
      if (err == RdKafka::ERR__PARTITION_EOF) continue;
      if (err != RdKafka::ERR_NO_ERROR) {
        if (!out.empty()) break;
        return KafkaStatus(err, "kafka consume: " + msg->errstr());
      }
      Record r;
      r.topic = msg->topic_name();
      r.partition = msg->partition();
      r.offset = msg->offset();
      if (msg->key() != nullptr) r.key = *msg->key();
      auto event = FromJson(std::string_view(static_cast<const char*>(msg->payload()), msg->len()));
      if (!event.ok()) {
        // Not ours (a foreign producer); stopping here would wedge the partition forever.
        log::Warn("bus: skipping a record that is not a CloudEvent", {{"topic", r.topic},
                                                                      {"partition", r.partition},
                                                                      {"offset", r.offset},
                                                                      {"error", event.status().ToString()}});
        continue;
      }
      r.event = std::move(event).value();
      out.push_back(std::move(r));
    }
    return out;
  }

  Status Commit(const Record& record) override {
    Partitions offsets;
    offsets.list.push_back(
        RdKafka::TopicPartition::create(record.topic, record.partition, record.offset + 1));
    EMP_RETURN_IF_ERROR(KafkaStatus(consumer_->commitSync(offsets.list), "kafka commit"));
    return KafkaStatus(offsets.list[0]->err(), "kafka commit " + record.topic);
  }

  Result<int64_t> Lag() override {
    Partitions assigned;
    EMP_RETURN_IF_ERROR(KafkaStatus(consumer_->assignment(assigned.list), "kafka assignment"));
    if (assigned.list.empty()) return int64_t{0};
    EMP_RETURN_IF_ERROR(KafkaStatus(consumer_->committed(assigned.list, kAdminTimeoutMs), "kafka committed"));
    int64_t lag = 0;
    for (RdKafka::TopicPartition* tp : assigned.list) {
      int64_t low = 0;
      int64_t high = 0;
      EMP_RETURN_IF_ERROR(KafkaStatus(
          consumer_->query_watermark_offsets(tp->topic(), tp->partition(), &low, &high, kAdminTimeoutMs),
          "kafka watermarks " + tp->topic()));
      const int64_t committed = tp->offset() >= 0 ? tp->offset() : low;
      lag += std::max<int64_t>(0, high - committed);
    }
    return lag;
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

}  // namespace

Result<std::unique_ptr<Consumer>> NewKafkaConsumer(const KafkaConfig& config, const std::string& group,
                                                   const std::vector<std::string>& topics) {
  auto consumer = std::make_unique<KafkaConsumerImpl>();
  EMP_RETURN_IF_ERROR(consumer->Init(config, group, topics));
  return std::unique_ptr<Consumer>(std::move(consumer));
}

}  // namespace emporium::bus
