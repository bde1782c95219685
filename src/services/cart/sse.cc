#include "services/cart/sse.h"

#include <algorithm>

namespace emporium::cart {

SseStream::SseStream(int64_t last_seq, Millis heartbeat, size_t max_pending)
    : heartbeat_(heartbeat), max_pending_(max_pending), last_seq_(last_seq) {
  // Tells EventSource how long to wait before reconnecting.
  frames_.push_back("retry: 2000\n\n");
}

std::string SseStream::Frame(std::optional<int64_t> id, std::string_view event, std::string_view data) {
  std::string out;
  if (id) out += "id: " + std::to_string(*id) + "\n";
  out += "event: ";
  out += event;
  out += "\n";
  // A data line cannot hold a newline; compact JSON has none, but split defensively.
  size_t start = 0;
  for (;;) {
    size_t nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += "\n";
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += "\n";
  return out;
}

void SseStream::QueueLocked(const Change& change) {
  if (change.seq <= last_seq_ || overflowed_) return;
  last_seq_ = change.seq;
  if (frames_.size() >= max_pending_) {
    overflowed_ = true;
    return;
  }
  frames_.push_back(Frame(change.seq, kChangeEvent, change.json));
}

void SseStream::Push(const Change& change) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (replaying_) {
      held_.push_back(change);
      return;
    }
    QueueLocked(change);
  }
  Wake();
}

void SseStream::PushFrame(std::string_view event, std::string_view data) {
  {
    std::lock_guard lock(mu_);
    frames_.push_back(Frame(std::nullopt, event, data));
  }
  Wake();
}

void SseStream::Replay(const Change& change) {
  {
    std::lock_guard lock(mu_);
    QueueLocked(change);
  }
  Wake();
}

void SseStream::FinishReplay() {
  {
    std::lock_guard lock(mu_);
    replaying_ = false;
    std::sort(held_.begin(), held_.end(), [](const Change& a, const Change& b) { return a.seq < b.seq; });
    for (const Change& c : held_) QueueLocked(c);
    held_.clear();
  }
  Wake();
}

void SseStream::OnClose(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  on_close_ = std::move(fn);
}

void SseStream::StartAfter(int64_t seq) {
  std::lock_guard lock(mu_);
  last_seq_ = seq;
}

int64_t SseStream::last_seq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

void SseStream::Wake() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    wake = wake_;
  }
  if (wake) wake();
}

void SseStream::Subscribe(std::function<void()> wake) {
  bool ready;
  {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
    ready = !frames_.empty();
  }
  if (ready) Wake();
}

bool SseStream::Read(std::string& out) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  if (frames_.empty() && !overflowed_) {
    // Nothing to send at an idle tick: a comment keeps proxies and load balancers from closing.
    out += ": ping\n\n";
    return true;
  }
  for (const std::string& f : frames_) out += f;
  frames_.clear();
  // The client missed changes it would never get on this connection: end it so that it
  // reconnects with Last-Event-ID and replays them from the change log.
  return !overflowed_;
}

void SseStream::Close() {
  std::function<void()> on_close;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    wake_ = nullptr;
    frames_.clear();
    on_close = std::move(on_close_);
  }
  if (on_close) on_close();
}

}  // namespace emporium::cart
