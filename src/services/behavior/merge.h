// The behaviour module's consumer of identity.guest_merged {"guest_id","user_id"} (topic
// "identity.user", group "behavior"): a bus::Worker that handles each event in one inbox
// transaction, so a redelivered merge moves and announces nothing twice. Other identity events
// are skipped.
// Thread-safety: Start/Stop from one thread; handling runs on the worker's thread.
#pragma once

#include <memory>
#include <string_view>

#include "platform/core/status.h"
#include "services/behavior/service.h"

namespace emporium::bus {
class Bus;
class Worker;
struct Record;
}  // namespace emporium::bus

namespace emporium::behavior {

inline constexpr std::string_view kConsumerGroup = "behavior";
inline constexpr std::string_view kIdentityTopic = "identity.user";

class MergeConsumer {
 public:
  explicit MergeConsumer(BehaviorService& service);
  ~MergeConsumer();
  MergeConsumer(const MergeConsumer&) = delete;
  MergeConsumer& operator=(const MergeConsumer&) = delete;

  Status Start(bus::Bus& bus);
  void Stop();

 private:
  Status Handle(sql::Tx& tx, const bus::Record& record);

  BehaviorService& service_;
  std::unique_ptr<bus::Worker> worker_;
};

}  // namespace emporium::behavior
