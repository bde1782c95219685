// The cart's event consumer: a bus::Worker (group "cart") on topics "identity.user" and "order",
// each event handled in one inbox transaction (a replayed event is skipped, so quantities never
// double or drop twice):
//   identity.guest_merged {guest_id, user_id} → the guest's cart merges into the user's;
//   order.confirmed {user_id, created_at, items} → what the order bought leaves the user's cart.
//
// The worker's transaction commits inside bus::Worker, out of the handler's sight, so the
// changes reach SSE connections through a small watcher: the handler notes (subject, seq), and
// the watcher broadcasts each one once it finds it committed in cart_changes (a rolled-back
// attempt's entry expires unseen).
// Thread-safety: Start/Stop from one thread; the rest runs on the worker and watcher threads.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/status.h"
#include "services/cart/service.h"

namespace emporium::bus {
class Bus;
class Worker;
struct Record;
}  // namespace emporium::bus

namespace emporium::cart {

inline constexpr std::string_view kConsumerGroup = "cart";
inline constexpr std::string_view kIdentityTopic = "identity.user";
inline constexpr std::string_view kOrderTopic = "order";

class EventConsumer {
 public:
  explicit EventConsumer(CartService& service);
  ~EventConsumer();
  EventConsumer(const EventConsumer&) = delete;
  EventConsumer& operator=(const EventConsumer&) = delete;

  Status Start(bus::Bus& bus);
  void Stop();
  // Events handled (applied, or skipped as duplicates/other types).
  int64_t processed() const;

 private:
  struct Pending {
    std::string subject;
    int64_t seq;
    SteadyTime expires;
  };
  Status Handle(sql::Tx& tx, const bus::Record& record);
  void Watch();

  CartService& service_;
  std::unique_ptr<bus::Worker> worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;
  bool stop_ = false;
  std::thread watcher_;
};

}  // namespace emporium::cart
