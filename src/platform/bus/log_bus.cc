// The embedded log backend: Bus/Producer/Consumer over LogStore (log_store.h).
#include <algorithm>
#include <cstring>
#include <map>

#include "platform/bus/backends.h"
#include "platform/bus/log_store.h"

namespace emporium::bus {
namespace {

// Record payload: u32 key length (little-endian), key, CloudEvents JSON.
std::string EncodeRecord(const std::string& key, const Event& event) {
  std::string out;
  const auto len = static_cast<uint32_t>(key.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += key;
  out += ToJson(event);
  return out;
}

Status DecodeRecord(std::string_view payload, Record& record) {
  if (payload.size() < 4) return Internal("log record shorter than its key length");
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<unsigned char>(payload[i])) << (8 * i);
  if (payload.size() - 4 < len) return Internal("log record key overruns the record");
  record.key = std::string(payload.substr(4, len));
  EMP_ASSIGN_OR_RETURN(record.event, FromJson(payload.substr(4 + len)));
  return Status::Ok();
}

class LogProducer final : public Producer {
 public:
  explicit LogProducer(std::shared_ptr<LogStore> store) : store_(std::move(store)) {}

  Status Publish(const std::string& topic, const std::string& key, const Event& event) override {
    EMP_RETURN_IF_ERROR(Validate(event));
    EMP_ASSIGN_OR_RETURN(LogTopic * t, store_->Topic(topic));
    const int p = PartitionFor(key, static_cast<int>(t->partitions.size()));
    return t->partitions[static_cast<size_t>(p)]->Append(EncodeRecord(key, event)).status();
  }

  // Messages are grouped by partition (keeping their order within it) and each group goes down
  // in one write and one fsync. On a failure, `published` is the longest prefix of the batch
  // known to be durable; later messages may also have landed and will be published again.
  BatchResult PublishBatch(std::span<const Message> messages) override {
    BatchResult result;
    std::map<std::pair<std::string, int>, std::vector<size_t>> groups;
    std::map<std::string, LogTopic*> topics;
    size_t first_bad = messages.size();
    for (size_t i = 0; i < messages.size() && first_bad == messages.size(); ++i) {
      const Message& m = messages[i];
      Status valid = Validate(m.event);
      auto topic = valid.ok() ? store_->Topic(m.topic) : Result<LogTopic*>(valid);
      if (!topic.ok()) {
        first_bad = i;
        result.status = topic.status();
        break;
      }
      topics[m.topic] = *topic;
      const int p = PartitionFor(m.key, static_cast<int>((*topic)->partitions.size()));
      groups[{m.topic, p}].push_back(i);
    }
    for (const auto& [tp, indexes] : groups) {
      std::vector<std::string> encoded;
      for (size_t i : indexes) {
        if (i < first_bad) encoded.push_back(EncodeRecord(messages[i].key, messages[i].event));
      }
      if (encoded.empty()) continue;
      std::vector<std::string_view> views(encoded.begin(), encoded.end());
      Status s = topics[tp.first]->partitions[static_cast<size_t>(tp.second)]->AppendMany(views).status();
      if (!s.ok() && indexes.front() < first_bad) {
        first_bad = indexes.front();
        result.status = s;
      }
    }
    result.published = first_bad;
    return result;
  }

 private:
  std::shared_ptr<LogStore> store_;
};

class LogConsumer final : public Consumer {
 public:
  struct Assigned {
    std::string topic;
    int partition;
    Segment* segment;
    int64_t next;  // this consumer's read position
  };

  LogConsumer(std::shared_ptr<LogStore> store, GroupOffsets* group, std::vector<Assigned> parts)
      : store_(std::move(store)), group_(group), parts_(std::move(parts)) {}

  ~LogConsumer() override { (void)group_->Flush(); }

  Result<std::vector<Record>> Poll(Millis timeout, size_t max) override {
    const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      EMP_ASSIGN_OR_RETURN(std::optional<SteadyTime> flush_due, group_->FlushIfDue());
      const uint64_t seen = store_->generation();
      std::vector<Record> out;
      EMP_RETURN_IF_ERROR(Collect(max, out));
      if (!out.empty() || std::chrono::steady_clock::now() >= deadline) return out;
      store_->WaitForData(seen, flush_due ? std::min(deadline, *flush_due) : deadline);
    }
  }

  Status Commit(const Record& record) override {
    return group_->Commit(record.topic, record.partition, record.offset + 1);
  }

  Result<int64_t> Lag() override {
    int64_t lag = 0;
    for (const Assigned& a : parts_) {
      lag += std::max<int64_t>(0, a.segment->end() - group_->Committed(a.topic, a.partition));
    }
    return lag;
  }

 private:
  // Reads from every partition, starting at a rotating one so no partition starves.
  Status Collect(size_t max, std::vector<Record>& out) {
    const size_t n = parts_.size();
    for (size_t i = 0; i < n && out.size() < max; ++i) {
      Assigned& a = parts_[(start_ + i) % n];
      EMP_ASSIGN_OR_RETURN(auto payloads, a.segment->Read(a.next, max - out.size()));
      for (const std::string& payload : payloads) {
        Record r;
        r.topic = a.topic;
        r.partition = a.partition;
        r.offset = a.next;
        EMP_RETURN_IF_ERROR(DecodeRecord(payload, r));
        out.push_back(std::move(r));
        ++a.next;
      }
    }
    if (n > 0) start_ = (start_ + 1) % n;
    return Status::Ok();
  }

  std::shared_ptr<LogStore> store_;
  GroupOffsets* group_;
  std::vector<Assigned> parts_;
  size_t start_ = 0;
};

class LogBus final : public Bus {
 public:
  explicit LogBus(std::shared_ptr<LogStore> store) : store_(std::move(store)) {}

  Status EnsureTopic(const std::string& topic, int partitions) override {
    return store_->EnsureTopic(topic, partitions);
  }

  Result<std::unique_ptr<Producer>> NewProducer() override {
    return std::unique_ptr<Producer>(std::make_unique<LogProducer>(store_));
  }

  Result<std::unique_ptr<Consumer>> Subscribe(const std::string& group,
                                              const std::vector<std::string>& topics) override {
    if (topics.empty()) return InvalidArgument("Subscribe needs at least one topic");
    EMP_ASSIGN_OR_RETURN(GroupOffsets * offsets, store_->Group(group));
    std::vector<LogConsumer::Assigned> parts;
    for (const std::string& topic : topics) {
      EMP_ASSIGN_OR_RETURN(LogTopic * t, store_->Topic(topic));
      for (size_t p = 0; p < t->partitions.size(); ++p) {
        const int partition = static_cast<int>(p);
        parts.push_back({topic, partition, t->partitions[p].get(), offsets->Committed(topic, partition)});
      }
    }
    return std::unique_ptr<Consumer>(std::make_unique<LogConsumer>(store_, offsets, std::move(parts)));
  }

 private:
  std::shared_ptr<LogStore> store_;
};

}  // namespace

Result<std::unique_ptr<Bus>> OpenLogBus(const std::string& dir) {
  EMP_ASSIGN_OR_RETURN(auto store, LogStore::Open(dir));
  return std::unique_ptr<Bus>(std::make_unique<LogBus>(std::move(store)));
}

}  // namespace emporium::bus
