// Kafka Producer: idempotent, acks=all, and Publish/PublishBatch wait for the delivery reports so
// that OK means the in-sync replicas have the records.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "platform/bus/kafka_common.h"

namespace emporium::bus {
namespace {

constexpr int kMessageTimeoutMs = 30000;

// Delivery reports arrive on the poller thread; each Publish waits for its own by id. An id
// rather than a pointer travels as the message opaque, so a report that arrives after its
// Publish gave up finds nothing instead of a dangling pointer.
class DeliveryTracker final : public RdKafka::DeliveryReportCb {
 public:
  uint64_t Begin() {
    std::lock_guard lock(mu_);
    const uint64_t id = ++last_id_;
    pending_.emplace(id, std::nullopt);
    return id;
  }

  void Forget(uint64_t id) {
    std::lock_guard lock(mu_);
    pending_.erase(id);
  }

  // The delivery result, or nullopt when none came before deadline.
  std::optional<RdKafka::ErrorCode> Wait(uint64_t id, SteadyTime deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return pending_.at(id).has_value(); });
    auto result = pending_.at(id);
    pending_.erase(id);
    return result;
  }

  void dr_cb(RdKafka::Message& message) override {
    const auto id = reinterpret_cast<uintptr_t>(message.msg_opaque());
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      it->second = message.err();
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t last_id_ = 0;
  std::map<uint64_t, std::optional<RdKafka::ErrorCode>> pending_;
};

class KafkaProducer final : public Producer {
 public:
  KafkaProducer() = default;
  ~KafkaProducer() override {
    if (producer_) producer_->flush(5000);
    running_ = false;
    if (poller_.joinable()) poller_.join();
  }

  Status Init(const KafkaConfig& config) {
    const KafkaProps defaults = {
        {"acks", "all"},
        {"enable.idempotence", "true"},
        // Java's default partitioner, so PartitionFor() and the embedded log agree.
        {"partitioner", "murmur2_random"},
        {"linger.ms", "1"},
        {"message.timeout.ms", std::to_string(kMessageTimeoutMs)},
    };
    EMP_ASSIGN_OR_RETURN(auto conf, MakeKafkaConf(config.brokers, defaults, config.producer));
    std::string err;
    if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&tracker_), err) !=
        RdKafka::Conf::CONF_OK) {
      return Internal("kafka dr_cb: " + err);
    }
    producer_.reset(RdKafka::Producer::create(conf.get(), err));
    if (!producer_) return InvalidArgument("kafka producer: " + err);
    poller_ = std::thread([this] {
      while (running_) producer_->poll(100);
    });
    return Status::Ok();
  }

  Status Publish(const std::string& topic, const std::string& key, const Event& event) override {
    Message m{topic, key, event};
    BatchResult r = PublishBatch({&m, 1});
    return r.status;
  }

  // Every message goes in flight first; then the acknowledgements are collected in order. The
  // idempotent producer keeps per-partition order across the in-flight batch.
  BatchResult PublishBatch(std::span<const Message> messages) override {
    BatchResult result;
    const SteadyTime deadline = std::chrono::steady_clock::now() + Millis(kMessageTimeoutMs + 5000);
    std::vector<uint64_t> ids;
    for (const Message& m : messages) {
      Status s = Produce(m, deadline, ids);
      if (!s.ok()) {
        result.status = s;
        break;
      }
    }
    bool prefix_ok = true;
    for (size_t i = 0; i < ids.size(); ++i) {
      std::optional<RdKafka::ErrorCode> delivered = tracker_.Wait(ids[i], deadline);
      if (!prefix_ok) continue;
      Status s = !delivered
                     ? DeadlineExceeded("kafka produce to " + messages[i].topic + ": no delivery report")
                     : KafkaStatus(*delivered, "kafka delivery to " + messages[i].topic);
      if (s.ok()) {
        ++result.published;
      } else {
        prefix_ok = false;
        result.status = s;
      }
    }
    return result;
  }

 private:
  Status Produce(const Message& m, SteadyTime deadline, std::vector<uint64_t>& ids) {
    EMP_RETURN_IF_ERROR(Validate(m.event));
    std::string payload = ToJson(m.event);
    const uint64_t id = tracker_.Begin();
    for (;;) {
      RdKafka::ErrorCode err = producer_->produce(
          m.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, payload.data(),
          payload.size(), m.key.data(), m.key.size(), 0, reinterpret_cast<void*>(id));
      if (err == RdKafka::ERR_NO_ERROR) break;
      if (err != RdKafka::ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
        tracker_.Forget(id);
        return KafkaStatus(err, "kafka produce to " + m.topic);
      }
      std::this_thread::sleep_for(Millis(10));  // the poller drains the queue
    }
    ids.push_back(id);
    return Status::Ok();
  }

  DeliveryTracker tracker_;  // outlives producer_, which calls it
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> running_{true};
  std::thread poller_;
};

}  // namespace

Result<std::unique_ptr<Producer>> NewKafkaProducer(const KafkaConfig& config) {
  auto producer = std::make_unique<KafkaProducer>();
  EMP_RETURN_IF_ERROR(producer->Init(config));
  return std::unique_ptr<Producer>(std::move(producer));
}

}  // namespace emporium::bus
