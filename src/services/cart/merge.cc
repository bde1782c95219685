#include "services/cart/merge.h"

#include <boost/json/object.hpp>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/log/log.h"

namespace emporium::cart {
namespace {

constexpr Millis kWatchInterval{20};
constexpr Millis kPendingTtl{10'000};

std::string Field(const boost::json::object& o, const char* key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

MergeConsumer::MergeConsumer(CartService& service) : service_(service) {}

MergeConsumer::~MergeConsumer() {
  Stop();
}

Status MergeConsumer::Start(bus::Bus& bus) {
  // identity may not have created its topic yet (it may run in another process).
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kIdentityTopic), 8));
  EMP_ASSIGN_OR_RETURN(auto consumer, bus.Subscribe(std::string(kMergeGroup), {std::string(kIdentityTopic)}));
  worker_ =
      std::make_unique<bus::Worker>(service_.store().db(), std::move(consumer), std::string(kMergeGroup),
                                    [this](sql::Tx& tx, const bus::Record& r) { return Handle(tx, r); });
  stop_ = false;
  watcher_ = std::thread([this] { Watch(); });
  worker_->Start();
  return Status::Ok();
}

void MergeConsumer::Stop() {
  if (worker_) worker_->Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

int64_t MergeConsumer::processed() const {
  return worker_ ? worker_->processed() : 0;
}

Status MergeConsumer::Handle(sql::Tx& tx, const bus::Record& record) {
  if (record.event.type != "identity.guest_merged") return Status::Ok();
  auto doc = json::Parse(record.event.data);
  if (!doc.ok() || !doc->is_object()) {
    // A malformed event can never succeed; retrying it forever would stall the partition.
    log::Warn("cart: malformed identity.guest_merged ignored", {{"event_id", record.event.id}});
    return Status::Ok();
  }
  std::string guest_id = Field(doc->as_object(), "guest_id");
  std::string user_id = Field(doc->as_object(), "user_id");
  if (guest_id.empty() || user_id.empty()) {
    log::Warn("cart: identity.guest_merged without ids ignored", {{"event_id", record.event.id}});
    return Status::Ok();
  }
  std::vector<Change> changes;
  EMP_RETURN_IF_ERROR(service_.Merge(tx, guest_id, user_id, &changes));
  {
    std::lock_guard lock(mu_);
    for (const Change& c : changes)
      pending_.push_back({c.subject, c.seq, std::chrono::steady_clock::now() + kPendingTtl});
  }
  cv_.notify_all();
  return Status::Ok();
}

void MergeConsumer::Watch() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kWatchInterval);
    if (stop_ || pending_.empty()) continue;
    std::vector<Pending> batch;
    batch.swap(pending_);
    lock.unlock();
    std::vector<Pending> keep;
    for (Pending& p : batch) {
      auto found = service_.store().FindChange(p.subject, p.seq);
      if (found.ok() && *found) {
        service_.broadcaster().Publish(**found);
      } else if (std::chrono::steady_clock::now() < p.expires) {
        keep.push_back(std::move(p));
      }
    }
    lock.lock();
    pending_.insert(pending_.end(), keep.begin(), keep.end());
  }
}

}  // namespace emporium::cart
