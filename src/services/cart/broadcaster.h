// In-process fan-out of committed cart changes to the open SSE connections of their subject.
//
// Writers Publish() after their transaction committed; SSE streams Subscribe() per connection.
// Thread-safety: all methods are thread-safe. Sinks run under the broadcaster's lock (they only
// queue and wake), so once Unsubscribe returns the sink is never called again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "services/cart/model.h"

namespace emporium::cart {

class Broadcaster {
 public:
  using Sink = std::function<void(const Change&)>;

  // Returns a subscription id for Unsubscribe.
  uint64_t Subscribe(const std::string& subject, Sink sink);
  void Unsubscribe(uint64_t id);
  void Publish(const Change& change);
  size_t Subscribers(const std::string& subject) const;

 private:
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<std::string, std::map<uint64_t, Sink>> by_subject_;
  std::unordered_map<uint64_t, std::string> subject_of_;
};

}  // namespace emporium::cart
