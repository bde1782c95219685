// Event bus: topics split into partitions by key, consumer groups with committed offsets.
//
// Delivery is at-least-once and ordered per key (one key always maps to one partition). A
// consumer that restarts resumes after its group's last committed offset; records polled but
// not committed are delivered again. Consumers de-duplicate with the inbox (outbox.h).
//
// Backends: "log:///abs/dir" — an embedded durable log (segment files per partition, fsync on
// append; committed offsets in a file per group); "kafka://host:port[,host:port]" — librdkafka.
// Thread-safety: Bus is thread-safe; a Producer is thread-safe; a Consumer is used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/bus/event.h"
#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::bus {

struct Record {
  std::string topic;
  int partition = 0;
  int64_t offset = 0;
  std::string key;
  Event event;
};

struct Message {
  std::string topic;
  std::string key;
  Event event;
};

// How a batch went: the first `published` messages are durable; when fewer than all, `status`
// says why the next one failed (later ones may or may not have landed: at-least-once).
struct BatchResult {
  size_t published = 0;
  Status status;
};

class Producer {
 public:
  virtual ~Producer() = default;
  // Appends the event to topic, in the partition chosen by key. Returns OK only once the record
  // is durable (embedded: fsynced; Kafka: acknowledged by all in-sync replicas).
  virtual Status Publish(const std::string& topic, const std::string& key, const Event& event) = 0;
  // Publishes messages in order, amortising the durability wait over the batch (embedded: one
  // fsync per partition; Kafka: all in flight, then every acknowledgement). The default loops
  // over Publish.
  virtual BatchResult PublishBatch(std::span<const Message> messages);
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Up to max records, waiting at most timeout for the first one. Records of one partition come
  // in offset order.
  virtual Result<std::vector<Record>> Poll(Millis timeout, size_t max = 256) = 0;
  // Commits the group's position past this record (and every earlier one in its partition).
  virtual Status Commit(const Record& record) = 0;
  // Sum over assigned partitions of (end offset - committed offset); for the lag metric.
  virtual Result<int64_t> Lag() = 0;
};

class Bus {
 public:
  virtual ~Bus() = default;
  // Creates the topic when missing (no-op when present with any partition count).
  virtual Status EnsureTopic(const std::string& topic, int partitions) = 0;
  virtual Result<std::unique_ptr<Producer>> NewProducer() = 0;
  // Joins consumer `group` on topics. In the embedded log one group member gets all partitions.
  virtual Result<std::unique_ptr<Consumer>> Subscribe(const std::string& group,
                                                      const std::vector<std::string>& topics) = 0;
};

// Stable partition for a key (murmur2 as Kafka's default partitioner, so both backends agree):
// (Murmur2(key) & 0x7fffffff) % partitions.
int PartitionFor(const std::string& key, int partitions);
// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit value.
int32_t Murmur2(std::string_view bytes);

Result<std::unique_ptr<Bus>> Open(const std::string& url);

}  // namespace emporium::bus
