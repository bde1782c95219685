// Kafka Bus: topic administration (rd_kafka_CreateTopics) and client construction.
#include <librdkafka/rdkafka.h>

#include <mutex>
#include <thread>

#include "platform/bus/backends.h"
#include "platform/bus/kafka_common.h"

namespace emporium::bus {
namespace {

constexpr int kAdminTimeoutMs = 15000;

template <typename T, void (*Destroy)(T*)>
struct CDeleter {
  void operator()(T* p) const { Destroy(p); }
};
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, CDeleter<rd_kafka_queue_t, rd_kafka_queue_destroy>>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, CDeleter<rd_kafka_event_t, rd_kafka_event_destroy>>;
using NewTopicPtr =
    std::unique_ptr<rd_kafka_NewTopic_t, CDeleter<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t,
                                   CDeleter<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>>;

class KafkaBus final : public Bus {
 public:
  explicit KafkaBus(KafkaConfig config) : config_(std::move(config)) {}

  Status EnsureTopic(const std::string& topic, int partitions) override {
    if (topic.empty()) return InvalidArgument("topic name is empty");
    if (partitions < 1) return InvalidArgument("partitions must be at least 1");
    std::lock_guard lock(mu_);
    EMP_ASSIGN_OR_RETURN(rd_kafka_t * rk, AdminHandle());
    char errstr[512] = {0};
    NewTopicPtr new_topic(rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, errstr, sizeof errstr));
    if (!new_topic) return InvalidArgument("kafka topic " + topic + ": " + errstr);
    OptionsPtr options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), kAdminTimeoutMs, errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_request_timeout(options.get(), kAdminTimeoutMs, errstr, sizeof errstr);
    QueuePtr queue(rd_kafka_queue_new(rk));
    rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
    rd_kafka_CreateTopics(rk, topics, 1, options.get(), queue.get());
    EventPtr event(rd_kafka_queue_poll(queue.get(), kAdminTimeoutMs + 5000));
    if (!event) return DeadlineExceeded("kafka CreateTopics " + topic + ": no answer");
    if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Unavailable("kafka CreateTopics " + topic + ": " + rd_kafka_event_error_string(event.get()));
    }
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return KafkaStatus(static_cast<RdKafka::ErrorCode>(err),
                         "kafka CreateTopics " + topic + (msg ? std::string(" (") + msg + ")" : ""));
    }
    return WaitForLeaders(rk, topic);
  }

  Result<std::unique_ptr<Producer>> NewProducer() override { return NewKafkaProducer(config_); }

  Result<std::unique_ptr<Consumer>> Subscribe(const std::string& group,
                                              const std::vector<std::string>& topics) override {
    return NewKafkaConsumer(config_, group, topics);
  }

 private:
  Result<rd_kafka_t*> AdminHandle() {
    if (admin_) return admin_->c_ptr();
    EMP_ASSIGN_OR_RETURN(auto conf, MakeKafkaConf(config_.brokers, {}, config_.producer));
    std::string err;
    admin_.reset(RdKafka::Producer::create(conf.get(), err));
    if (!admin_) return InvalidArgument("kafka admin client: " + err);
    return admin_->c_ptr();
  }

  // A created topic takes a moment to get partition leaders; wait so the first Publish and
  // Subscribe do not race it.
  static Status WaitForLeaders(rd_kafka_t* rk, const std::string& topic) {
    const SteadyTime deadline = std::chrono::steady_clock::now() + Millis(kAdminTimeoutMs);
    std::string last = "no metadata";
    while (std::chrono::steady_clock::now() < deadline) {
      const rd_kafka_metadata_t* md = nullptr;
      rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, 5000);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        bool ready = false;
        for (int i = 0; i < md->topic_cnt; ++i) {
          const rd_kafka_metadata_topic_t& t = md->topics[i];
          if (topic != t.topic) continue;
          ready = t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0;
          for (int p = 0; ready && p < t.partition_cnt; ++p) ready = t.partitions[p].leader >= 0;
        }
        rd_kafka_metadata_destroy(md);
        if (ready) return Status::Ok();
        last = "partitions have no leader yet";
      } else {
        last = rd_kafka_err2str(err);
      }
      std::this_thread::sleep_for(Millis(100));
    }
    return DeadlineExceeded("kafka topic " + topic + " not ready: " + last);
  }

  const KafkaConfig config_;
  std::mutex mu_;
  std::unique_ptr<RdKafka::Producer> admin_;
};

}  // namespace

Result<std::unique_ptr<Bus>> OpenKafkaBus(const std::string& url) {
  EMP_ASSIGN_OR_RETURN(KafkaConfig config, ParseKafkaUrl(url));
  return std::unique_ptr<Bus>(std::make_unique<KafkaBus>(std::move(config)));
}

}  // namespace emporium::bus
