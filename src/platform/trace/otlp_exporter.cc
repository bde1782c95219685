#include "platform/trace/otlp_exporter.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "platform/http/client.h"

namespace emporium::trace {
namespace {

class OtlpHttpExporter final : public Exporter {
 public:
  explicit OtlpHttpExporter(OtlpOptions options) : options_(std::move(options)) {
    if (options_.max_batch == 0) options_.max_batch = 1;
    worker_ = std::thread([this] { Run(); });
  }
  ~OtlpHttpExporter() override { Shutdown(); }

  void Export(Span span) override {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() >= options_.max_batch) cv_.notify_one();
  }

  void Shutdown() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    std::lock_guard join_lock(join_mu_);
    if (worker_.joinable()) worker_.join();
  }

  ExporterStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait_for(lock, options_.flush_interval,
                   [&] { return stopping_ || queue_.size() >= options_.max_batch; });
      // Ship everything that is queued: full batches first, then the remainder (the interval
      // elapsed or we are stopping).
      while (!queue_.empty()) {
        size_t n = std::min(queue_.size(), options_.max_batch);
        std::vector<Span> batch(std::make_move_iterator(queue_.begin()),
                                std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
        lock.unlock();
        bool delivered = Post(batch);
        lock.lock();
        (delivered ? stats_.exported : stats_.failed) += batch.size();
      }
      if (stopping_) return;
    }
  }

  bool Post(const std::vector<Span>& batch) {
    http::Request req;
    req.method = http::Method::kPost;
    req.target = "/v1/traces";
    req.headers.Set("Content-Type", "application/json");
    req.body = EncodeOtlpJson(options_.service_name, batch);
    Result<http::Response> res =
        client_.Send(options_.endpoint, req, std::chrono::steady_clock::now() + options_.export_timeout);
    return res.ok() && res->status >= 200 && res->status < 300;
  }

  OtlpOptions options_;
  http::HttpClient client_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Span> queue_;
  bool stopping_ = false;
  ExporterStats stats_;
  std::mutex join_mu_;
  std::thread worker_;  // last: starts after every member it uses is built
};

}  // namespace

std::unique_ptr<Exporter> NewOtlpHttpExporter(OtlpOptions options) {
  return std::make_unique<OtlpHttpExporter>(std::move(options));
}

std::unique_ptr<Exporter> NewExporter(OtlpOptions options) {
  if (options.endpoint.empty()) return NewNoopExporter();
  return NewOtlpHttpExporter(std::move(options));
}

}  // namespace emporium::trace
