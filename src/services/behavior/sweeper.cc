#include "services/behavior/sweeper.h"

#include "platform/log/log.h"

namespace emporium::behavior {

Sweeper::~Sweeper() {
  Stop();
}

void Sweeper::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Sweeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sweeper::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto deleted = service_.Sweep();
    if (!deleted.ok()) {
      log::Warn("behavior: retention sweep failed; will retry", {{"error", deleted.status().ToString()}});
    } else if (*deleted > 0) {
      log::Info("behavior: retention sweep", {{"deleted", *deleted}});
    }
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace emporium::behavior
