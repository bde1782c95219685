// One server-sent-events connection to a cart (GET /v1/cart/events): a queue of frames that the
// broadcaster pushes committed changes into and the HTTP server drains.
//
// Frames: `id: <seq>\nevent: cart.updated\ndata: <change json>\n\n`. Changes are de-duplicated
// by seq (a change can arrive both from this process and from the bus fan-out) and delivered in
// increasing seq. While the connection replays missed changes (Last-Event-ID), live changes are
// held and released after the replay. When nothing is pending at an idle tick the stream sends
// the comment `: ping` so proxies keep the connection. A client that falls `max_pending` frames
// behind is disconnected; it reconnects with Last-Event-ID and replays from the change log.
//
// Thread-safety: Push/Replay/Finish may be called from any thread; the BodyStream methods are
// called by the server from the connection's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "platform/http/http.h"
#include "services/cart/model.h"

namespace emporium::cart {

inline constexpr std::string_view kChangeEvent = "cart.updated";
inline constexpr std::string_view kResyncEvent = "cart.resync";

class SseStream final : public http::BodyStream {
 public:
  // last_seq: changes with seq <= last_seq are not sent. The stream starts in replay mode.
  SseStream(int64_t last_seq, Millis heartbeat, size_t max_pending = 1000);

  // Queues a live change (held during the replay).
  void Push(const Change& change);
  // Queues a frame without an id (e.g. cart.resync) or a replayed change.
  void PushFrame(std::string_view event, std::string_view data);
  void Replay(const Change& change);
  // Ends replay mode: releases held live changes newer than the last replayed one.
  void FinishReplay();
  // Called once when the connection closes (unsubscribe from the broadcaster).
  void OnClose(std::function<void()> fn);
  // Sends only changes after seq from now on (before FinishReplay: no Last-Event-ID, or a resync).
  void StartAfter(int64_t seq);
  int64_t last_seq() const;

  void Subscribe(std::function<void()> wake) override;
  bool Read(std::string& out) override;
  Millis idle_interval() const override { return heartbeat_; }
  void Close() override;

  static std::string Frame(std::optional<int64_t> id, std::string_view event, std::string_view data);

 private:
  // Requires mu_. Appends the change when it is newer than the last queued one.
  void QueueLocked(const Change& change);
  void Wake();

  const Millis heartbeat_;
  const size_t max_pending_;
  mutable std::mutex mu_;
  int64_t last_seq_;
  bool replaying_ = true;
  bool overflowed_ = false;
  bool closed_ = false;
  std::vector<Change> held_;
  std::deque<std::string> frames_;
  std::function<void()> wake_;
  std::function<void()> on_close_;
};

}  // namespace emporium::cart
