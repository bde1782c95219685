#include "services/cart/broadcaster.h"

namespace emporium::cart {

uint64_t Broadcaster::Subscribe(const std::string& subject, Sink sink) {
  std::lock_guard lock(mu_);
  uint64_t id = next_id_++;
  by_subject_[subject].emplace(id, std::move(sink));
  subject_of_.emplace(id, subject);
  return id;
}

void Broadcaster::Unsubscribe(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = subject_of_.find(id);
  if (it == subject_of_.end()) return;
  auto sinks = by_subject_.find(it->second);
  if (sinks != by_subject_.end()) {
    sinks->second.erase(id);
    if (sinks->second.empty()) by_subject_.erase(sinks);
  }
  subject_of_.erase(it);
}

void Broadcaster::Publish(const Change& change) {
  std::lock_guard lock(mu_);
  auto it = by_subject_.find(change.subject);
  if (it == by_subject_.end()) return;
  for (auto& [id, sink] : it->second) sink(change);
}

size_t Broadcaster::Subscribers(const std::string& subject) const {
  std::lock_guard lock(mu_);
  auto it = by_subject_.find(subject);
  return it == by_subject_.end() ? 0 : it->second.size();
}

}  // namespace emporium::cart
