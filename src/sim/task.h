// Coroutines for shopper sessions: a session is written once as straight-line code that
// `co_await`s shop operations, and runs either synchronously (offline: every Op is ready at
// once) or as a chain of HTTP calls scheduled by the load generator (online: an Op suspends the
// session and the engine resumes it, on a worker thread, with the answer).
//
// Session is a fire-and-forget coroutine: it starts suspended, Start() runs it, and its frame
// frees itself when the body returns, calling the completion callback. Op<T> is an awaitable
// that is either ready with a value or, when awaited, hands a continuation to `start`; the
// continuation must be called exactly once, from any thread. A session runs on one thread at a
// time.
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace emporium::sim {

class Session {
 public:
  struct promise_type {
    std::function<void()> on_done;
    Session get_return_object() { return Session(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto done = std::move(h.promise().on_done);
        h.destroy();
        if (done) done();
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };

  Session(Session&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (h_) h_.destroy();
  }

  // Runs the session until its first suspension (offline: to the end). `on_done` is called once
  // the body has returned and the frame is gone.
  void Start(std::function<void()> on_done = {}) {
    auto h = std::exchange(h_, {});
    h.promise().on_done = std::move(on_done);
    h.resume();
  }

 private:
  explicit Session(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

template <typename T>
class Op {
 public:
  using Continuation = std::function<void(T)>;
  using Starter = std::function<void(Continuation)>;

  static Op Ready(T value) {
    Op op;
    op.value_ = std::move(value);
    return op;
  }
  static Op Later(Starter start) {
    Op op;
    op.start_ = std::move(start);
    return op;
  }

  bool await_ready() const noexcept { return value_.has_value(); }
  // The continuation may run before await_suspend returns (at once, or on another thread). The
  // second of the two to arrive resumes: when the answer came first, the session does not
  // suspend at all; otherwise the continuation resumes it. Either way the session runs on one
  // thread at a time and is never resumed from inside its own await_suspend.
  bool await_suspend(std::coroutine_handle<> h) {
    auto shared = std::make_shared<Handoff>();
    shared->handle = h;
    handoff_ = shared;
    Starter start = std::move(start_);
    start([shared](T v) {
      shared->value = std::move(v);
      if (shared->arrived.exchange(true)) shared->handle.resume();
    });
    return !shared->arrived.exchange(true);
  }
  T await_resume() {
    if (value_) return std::move(*value_);
    return std::move(*handoff_->value);
  }

 private:
  struct Handoff {
    std::coroutine_handle<> handle;
    std::optional<T> value;
    std::atomic<bool> arrived{false};
  };
  Op() = default;
  std::optional<T> value_;
  Starter start_;
  std::shared_ptr<Handoff> handoff_;
};

// An operation made of other operations: `flow(out)` is a Session coroutine that fills *out;
// the Op completes with *out when that session ends. `flow` may itself be a coroutine lambda:
// it is kept alive, at a fixed address, until the session ends (a coroutine lambda's captures
// live in the lambda object, not in the coroutine frame).
template <typename T, typename Flow>
Op<T> FlowOp(Flow flow) {
  auto out = std::make_shared<T>();
  auto fn = std::make_shared<Flow>(std::move(flow));
  return Op<T>::Later([out, fn](typename Op<T>::Continuation done) {
    (*fn)(out.get()).Start([out, fn, done] { done(std::move(*out)); });
  });
}

}  // namespace emporium::sim
