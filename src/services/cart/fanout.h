// Cross-replica SSE fan-out: in distributed mode several cart processes serve SSE connections,
// and a change committed by one must reach the connections held by the others. Each process
// reads the cart's own topic with a consumer group of its own ("cart-sse-<random>"), so every
// process sees every cart.item_* event, and hands the change each event carries to its local
// broadcaster (connections de-duplicate by seq, so a process's own changes arriving a second
// time are dropped).
//
// No inbox: delivery to a live connection is best effort, and a client that missed something
// replays it with Last-Event-ID from cart_changes.
// Thread-safety: Start/Stop from one thread; the loop runs on its own thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "platform/core/status.h"
#include "services/cart/broadcaster.h"

namespace emporium::bus {
class Bus;
class Consumer;
}  // namespace emporium::bus

namespace emporium::cart {

class Fanout {
 public:
  explicit Fanout(Broadcaster& broadcaster);
  ~Fanout();
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  Status Start(bus::Bus& bus);
  void Stop();
  const std::string& group() const { return group_; }
  int64_t delivered() const { return delivered_.load(); }

 private:
  void Run();

  Broadcaster& broadcaster_;
  std::string group_;
  std::unique_ptr<bus::Consumer> consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> delivered_{0};
  std::thread thread_;
};

}  // namespace emporium::cart
