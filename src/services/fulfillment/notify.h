// Customer notifications: order confirmed, shipped, delivered.
//
// A bus::Worker (group "fulfillment-notifications") consumes order.confirmed (topic "order":
// {"order_id","user_id",...}; any order.* event also records the order's user for later notices)
// and shipment.shipped / shipment.delivered (topic "fulfillment") and
// queues one notification per kind and order in the notifications table, in the inbox
// transaction (a redelivered event is skipped; a second event of the same kind for the order
// adds nothing). A dispatcher thread drains that table to a NotificationSink and marks rows sent
// after the sink accepted them: delivery is at-least-once (a crash between the two repeats the
// line, with the same notification id so a relay can de-duplicate).
//
// Thread-safety: Notifier's Start/Stop from one thread; sinks are called from the dispatcher
// thread only.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "services/fulfillment/store.h"

namespace emporium::bus {
class Bus;
class Worker;
struct Record;
}  // namespace emporium::bus

namespace emporium::fulfillment {

inline constexpr std::string_view kNotificationGroup = "fulfillment-notifications";

// Where notifications go (a mail relay adapter implements it later).
class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  // Delivers the batch in order; an error leaves all of it pending for the next round.
  virtual Status Deliver(const std::vector<Notification>& batch) = 0;
};

// Appends each notification's payload as one line to a file, fsynced per batch.
class FileSink final : public NotificationSink {
 public:
  explicit FileSink(std::filesystem::path path) : path_(std::move(path)) {}
  Status Deliver(const std::vector<Notification>& batch) override;

 private:
  std::filesystem::path path_;
};

class Notifier {
 public:
  Notifier(Store& store, std::unique_ptr<NotificationSink> sink, Clock& clock);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  Status Start(bus::Bus& bus);
  void Stop();
  // Sends pending notifications to the sink once; returns how many were sent.
  Result<int> DispatchOnce();
  // The inbox handler (public for tests).
  Status Handle(sql::Tx& tx, const bus::Record& record);

 private:
  void Loop();

  Store& store_;
  std::unique_ptr<NotificationSink> sink_;
  Clock& clock_;
  std::unique_ptr<bus::Worker> worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace emporium::fulfillment
