// Test helper: the cart module and a fake catalog in a Runtime over a fresh temp data dir,
// driven through Runtime::Dispatch with the caller's principal set directly (as an in-process
// call would), plus a reader for SSE streams.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "platform/core/json.h"
#include "platform/module/testing.h"
#include "services/cart/api.h"
#include "services/cart/fake_catalog.h"

namespace emporium::cart::testing {

using ::emporium::testing::DataDir;
using ::emporium::testing::JoinFlags;
using ::emporium::testing::ParseObject;
using ::emporium::testing::TestRuntime;

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {})
      : rt_(dir_.path(), {catalog_.Def(), Module()}, JoinFlags({"--log-level=warn"}, flags)) {}

  Status Start() { return rt_.Start(); }

  http::Response Call(http::Method method, const std::string& target, const std::string& subject,
                      const std::string& body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req = http::NewRequest(method, target, body);
    for (auto& [k, v] : headers) req.headers.Set(k, v);
    if (!subject.empty()) {
      auth::Principal p;
      p.subject = subject;
      p.guest = subject.rfind("guest:", 0) == 0;
      p.roles = {"customer"};
      req.principal = p;
    }
    return rt_.rt().Dispatch(req);
  }
  http::Response Get(const std::string& target, const std::string& subject,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Call(http::Method::kGet, target, subject, "", std::move(headers));
  }
  http::Response Add(const std::string& subject, const std::string& product_id, int quantity,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    boost::json::object o{{"product_id", product_id}, {"quantity", quantity}};
    return Call(http::Method::kPost, "/v1/cart/items", subject, json::Dump(o), std::move(headers));
  }
  // Quantity of product in subject's cart (0 when absent).
  int64_t Quantity(const std::string& subject, const std::string& product_id) {
    auto cart = ParseObject(Get("/v1/cart", subject).body);
    auto items = cart.if_contains("items");
    if (!items || !items->is_array()) return -1;
    for (const auto& i : items->as_array()) {
      if (i.as_object().at("product_id").as_string() == product_id)
        return i.as_object().at("quantity").as_int64();
    }
    return 0;
  }

  Runtime& rt() { return rt_.rt(); }
  FakeCatalog& catalog() { return catalog_; }

 private:
  DataDir dir_{"cart", {}, DataDir::Cleanup::kRemove};
  FakeCatalog catalog_;
  TestRuntime rt_;
};

// Drains a BodyStream the way the server does: Subscribe once, Read whenever woken.
class SseReader {
 public:
  explicit SseReader(std::shared_ptr<http::BodyStream> stream)
      : stream_(std::move(stream)), state_(std::make_shared<State>()) {
    std::shared_ptr<State> state = state_;
    stream_->Subscribe([state] {
      std::lock_guard lock(state->mu);
      state->woken = true;
      state->cv.notify_all();
    });
  }
  ~SseReader() { Close(); }
  void Close() {
    if (stream_) stream_->Close();
    stream_.reset();
  }

  // Reads until `needle` appears in what was received, or `timeout` passes.
  bool WaitFor(const std::string& needle, Millis timeout = Millis(1000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      Drain();
      if (text_.find(needle) != std::string::npos) return true;
      std::unique_lock lock(state_->mu);
      if (!state_->cv.wait_until(lock, deadline, [&] { return state_->woken; })) return false;
      state_->woken = false;
    }
  }
  // What was received so far, heartbeats removed.
  const std::string& Text() {
    Drain();
    return text_;
  }
  bool ended() const { return ended_; }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  void Drain() {
    if (!stream_ || ended_) return;
    std::string out;
    ended_ = !stream_->Read(out);
    for (size_t p; (p = out.find(": ping\n\n")) != std::string::npos;) out.erase(p, 8);
    text_ += out;
  }

  std::shared_ptr<http::BodyStream> stream_;
  std::shared_ptr<State> state_;
  std::string text_;
  bool ended_ = false;
};

}  // namespace emporium::cart::testing
