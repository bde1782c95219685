#include "services/cart/merge.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/log/log.h"
#include "services/cart/api.h"

namespace emporium::cart {
namespace {

constexpr Millis kWatchInterval{20};
constexpr Millis kPendingTtl{10'000};

using boost::json::object;

std::string Field(const object& o, const char* key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Status Merge(CartService& service, sql::Tx& tx, const bus::Record& record, const object& data,
             std::vector<Change>* changes) {
  std::string guest_id = Field(data, "guest_id");
  std::string user_id = Field(data, "user_id");
  if (guest_id.empty() || user_id.empty()) {
    log::Warn("cart: identity.guest_merged without ids ignored", {{"event_id", record.event.id}});
    return Status::Ok();
  }
  return service.Merge(tx, guest_id, user_id, changes);
}

Status RemovePurchased(CartService& service, sql::Tx& tx, const bus::Record& record, const object& data,
                       std::vector<Change>* changes) {
  const std::string user_id = Field(data, "user_id");
  const auto ordered_at = ParseRfc3339UnixMillis(Field(data, "created_at"));
  const auto* items = data.if_contains("items");
  if (user_id.empty() || !ordered_at || !items || !items->is_array()) {
    log::Warn("cart: order.confirmed without user, creation time or items ignored",
              {{"event_id", record.event.id}});
    return Status::Ok();
  }
  std::vector<Line> purchased;
  for (const auto& item : items->as_array()) {
    if (!item.is_object()) continue;
    const auto* quantity = item.as_object().if_contains("quantity");
    if (!quantity || !quantity->is_int64()) continue;
    purchased.push_back({Field(item.as_object(), "product_id"),
                         static_cast<int>(std::clamp<int64_t>(quantity->as_int64(), 0, kMaxQuantity)), 0});
  }
  return service.RemovePurchased(tx, "user:" + user_id, purchased, *ordered_at, changes);
}

}  // namespace

EventConsumer::EventConsumer(CartService& service) : service_(service) {}

EventConsumer::~EventConsumer() {
  Stop();
}

Status EventConsumer::Start(bus::Bus& bus) {
  // identity and order may not have created their topics yet (order starts after cart, and either
  // may run in another process).
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kIdentityTopic), 8));
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kOrderTopic), 8));
  EMP_ASSIGN_OR_RETURN(auto consumer, bus.Subscribe(std::string(kConsumerGroup),
                                                    {std::string(kIdentityTopic), std::string(kOrderTopic)}));
  worker_ =
      std::make_unique<bus::Worker>(service_.store().db(), std::move(consumer), std::string(kConsumerGroup),
                                    [this](sql::Tx& tx, const bus::Record& r) { return Handle(tx, r); });
  stop_ = false;
  watcher_ = std::thread([this] { Watch(); });
  worker_->Start();
  return Status::Ok();
}

void EventConsumer::Stop() {
  if (worker_) worker_->Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

int64_t EventConsumer::processed() const {
  return worker_ ? worker_->processed() : 0;
}

Status EventConsumer::Handle(sql::Tx& tx, const bus::Record& record) {
  const std::string& type = record.event.type;
  if (type != "identity.guest_merged" && type != "order.confirmed") return Status::Ok();
  auto doc = json::Parse(record.event.data);
  if (!doc.ok() || !doc->is_object()) {
    // A malformed event can never succeed; retrying it forever would stall the partition.
    log::Warn("cart: malformed event ignored", {{"type", type}, {"event_id", record.event.id}});
    return Status::Ok();
  }
  std::vector<Change> changes;
  if (type == "identity.guest_merged") {
    EMP_RETURN_IF_ERROR(Merge(service_, tx, record, doc->as_object(), &changes));
  } else {
    EMP_RETURN_IF_ERROR(RemovePurchased(service_, tx, record, doc->as_object(), &changes));
  }
  {
    std::lock_guard lock(mu_);
    for (const Change& c : changes)
      pending_.push_back({c.subject, c.seq, std::chrono::steady_clock::now() + kPendingTtl});
  }
  cv_.notify_all();
  return Status::Ok();
}

void EventConsumer::Watch() {
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
