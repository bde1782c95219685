// A bounded pool of database connections shared by the backends (internal to emporium_sql).
//
// Thread-safe. A Lease hands one connection to one thread; it returns to the pool when the Lease
// dies, unless Discard() was called (a broken connection is closed instead of reused).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "platform/core/status.h"

namespace emporium::sql {

template <typename Conn>
class Pool {
 public:
  using Factory = std::function<Result<std::unique_ptr<Conn>>()>;

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Return(std::move(conn_));
    }
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_.get(); }
    // Closes the connection instead of returning it; the pool may open a new one later.
    void Discard() {
      if (pool_ == nullptr) return;
      conn_.reset();
      pool_->Return(nullptr);
      pool_ = nullptr;
    }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Pool(size_t max_size, Factory factory) : max_size_(max_size), factory_(std::move(factory)) {}

  // Adds an already opened connection (the one Open() used to check the database is reachable).
  void Seed(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    ++open_;
    idle_.push_back(std::move(conn));
  }

  // Waits for an idle connection or opens a new one while fewer than max_size are open.
  // Fails with the factory's error, or kUnavailable when none frees up within `wait`.
  Result<Lease> Acquire(std::chrono::milliseconds wait = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    bool got = cv_.wait_for(lock, wait, [&] { return !idle_.empty() || open_ < max_size_; });
    if (!got) return Unavailable("all " + std::to_string(max_size_) + " connections are busy");
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    auto conn = factory_();
    if (!conn.ok()) {
      Return(nullptr);
      return conn.status();
    }
    return Lease(this, std::move(conn).value());
  }

  // Closes idle connections, e.g. after one turned out broken (the others likely are too).
  void DropIdle() {
    std::vector<std::unique_ptr<Conn>> dropped;
    {
      std::lock_guard lock(mu_);
      open_ -= idle_.size();
      dropped.swap(idle_);
    }
    cv_.notify_all();
  }

 private:
  void Return(std::unique_ptr<Conn> conn) {
    {
      std::lock_guard lock(mu_);
      if (conn) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    cv_.notify_one();
  }

  const size_t max_size_;
  Factory factory_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t open_ = 0;
  std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace emporium::sql
