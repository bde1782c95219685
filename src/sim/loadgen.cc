#include "sim/loadgen.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace emporium::sim {

struct LoadGen::State {
  struct Item {
    SteadyTime at;
    uint64_t seq;
    std::string endpoint;  // empty: a task
    std::function<CallOutcome()> call;
    std::function<void(CallOutcome)> then;
    std::function<void()> task;
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  LoadGenOptions options;
  mutable std::mutex mu;
  std::condition_variable timer_cv, work_cv;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> timed;
  std::deque<Item> ready;
  uint64_t seq = 0;
  int64_t pending = 0;
  bool stopping = false;
  std::map<std::string, EndpointStats> stats;
  std::thread dispatcher;
  std::vector<std::thread> workers;

  void Dispatch() {
    std::unique_lock lock(mu);
    while (!stopping) {
      if (timed.empty()) {
        timer_cv.wait(lock);
        continue;
      }
      const SteadyTime next = timed.top().at;
      if (next > std::chrono::steady_clock::now()) {
        timer_cv.wait_until(lock, next);
        continue;
      }
      while (!timed.empty() && timed.top().at <= std::chrono::steady_clock::now()) {
        ready.push_back(std::move(const_cast<Item&>(timed.top())));
        timed.pop();
      }
      work_cv.notify_all();
    }
  }

  void Work() {
    std::unique_lock lock(mu);
    for (;;) {
      work_cv.wait(lock, [&] { return stopping || !ready.empty(); });
      if (stopping) return;
      Item item = std::move(ready.front());
      ready.pop_front();
      lock.unlock();
      if (item.endpoint.empty()) {
        item.task();
      } else {
        CallOutcome out = item.call();
        const auto done = std::chrono::steady_clock::now();
        const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(done - item.at).count();
        {
          std::lock_guard stats_lock(mu);
          EndpointStats& s = stats[item.endpoint];
          s.latency.Record(micros);
          std::string kind = ErrorKind(out);
          if (kind.empty()) {
            ++s.ok;
          } else if (++s.errors[kind] == 1) {
            s.examples[kind] = out.status ? out.body.substr(0, 300) : out.error.message();
          }
        }
        item.then(std::move(out));
      }
      lock.lock();
      --pending;
    }
  }

  void Push(Item item) {
    std::lock_guard lock(mu);
    if (stopping) return;
    ++pending;
    item.seq = seq++;
    if (item.at <= std::chrono::steady_clock::now()) {
      ready.push_back(std::move(item));
      work_cv.notify_one();
    } else {
      timed.push(std::move(item));
      timer_cv.notify_one();
    }
  }
};

int64_t EndpointStats::error_count() const {
  int64_t n = 0;
  for (const auto& [_, c] : errors) n += c;
  return n;
}

std::string ErrorKind(const CallOutcome& outcome) {
  if (outcome.status == 0) return outcome.error.code() == Code::kDeadlineExceeded ? "timeout" : "transport";
  if (outcome.status >= 500) return "server_" + std::to_string(outcome.status);
  if (outcome.status >= 400) return "client_" + std::to_string(outcome.status);
  return "";
}

LoadGen::LoadGen(LoadGenOptions options) : state_(std::make_unique<State>()) {
  state_->options = options;
  state_->dispatcher = std::thread([s = state_.get()] { s->Dispatch(); });
  for (int i = 0; i < std::max(1, options.workers); ++i)
    state_->workers.emplace_back([s = state_.get()] { s->Work(); });
}

LoadGen::~LoadGen() {
  Stop();
}

void LoadGen::Submit(SteadyTime planned, std::string endpoint, std::function<CallOutcome()> call,
                     std::function<void(CallOutcome)> then) {
  State::Item item{planned, 0, std::move(endpoint), std::move(call), std::move(then), {}};
  state_->Push(std::move(item));
}

void LoadGen::Schedule(SteadyTime at, std::function<void()> fn) {
  State::Item item{at, 0, "", {}, {}, std::move(fn)};
  state_->Push(std::move(item));
}

int64_t LoadGen::pending() const {
  std::lock_guard lock(state_->mu);
  return state_->pending;
}

void LoadGen::Stop() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping && !state_->dispatcher.joinable()) return;
    state_->stopping = true;
  }
  state_->timer_cv.notify_all();
  state_->work_cv.notify_all();
  if (state_->dispatcher.joinable()) state_->dispatcher.join();
  for (std::thread& t : state_->workers)
    if (t.joinable()) t.join();
  std::lock_guard lock(state_->mu);
  state_->ready.clear();
  while (!state_->timed.empty()) state_->timed.pop();
}

std::map<std::string, EndpointStats> LoadGen::Stats() const {
  std::lock_guard lock(state_->mu);
  return state_->stats;
}

EndpointStats LoadGen::Total() const {
  std::lock_guard lock(state_->mu);
  EndpointStats total;
  for (const auto& [_, s] : state_->stats) {
    total.latency.Merge(s.latency);
    total.ok += s.ok;
    for (const auto& [k, v] : s.errors) total.errors[k] += v;
    for (const auto& [k, v] : s.examples) total.examples.emplace(k, v);
  }
  return total;
}

}  // namespace emporium::sim
