// The retention sweep's thread: runs BehaviorService::Sweep once at start and then every
// `interval` until Stop(). Failures are logged and retried at the next tick.
// Thread-safety: Start/Stop from one thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "platform/core/clock.h"
#include "services/behavior/service.h"

namespace emporium::behavior {

class Sweeper {
 public:
  Sweeper(BehaviorService& service, Millis interval) : service_(service), interval_(interval) {}
  ~Sweeper();
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  void Start();
  void Stop();

 private:
  void Run();

  BehaviorService& service_;
  const Millis interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace emporium::behavior
