#include "services/behavior/merge.h"

#include <boost/json/object.hpp>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/log/log.h"

namespace emporium::behavior {
namespace {

std::string Field(const boost::json::object& o, const char* key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

MergeConsumer::MergeConsumer(BehaviorService& service) : service_(service) {}

MergeConsumer::~MergeConsumer() {
  Stop();
}

Status MergeConsumer::Start(bus::Bus& bus) {
  // identity may run in another process and not have created its topic yet.
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kIdentityTopic), 8));
  EMP_ASSIGN_OR_RETURN(auto consumer,
                       bus.Subscribe(std::string(kConsumerGroup), {std::string(kIdentityTopic)}));
  worker_ =
      std::make_unique<bus::Worker>(service_.store().db(), std::move(consumer), std::string(kConsumerGroup),
                                    [this](sql::Tx& tx, const bus::Record& r) { return Handle(tx, r); });
  worker_->Start();
  return Status::Ok();
}

void MergeConsumer::Stop() {
  if (worker_) worker_->Stop();
}

Status MergeConsumer::Handle(sql::Tx& tx, const bus::Record& record) {
  if (record.event.type != "identity.guest_merged") return Status::Ok();
  auto doc = json::Parse(record.event.data);
  const std::string guest = doc.ok() && doc->is_object() ? Field(doc->as_object(), "guest_id") : "";
  const std::string user = doc.ok() && doc->is_object() ? Field(doc->as_object(), "user_id") : "";
  if (guest.empty() || user.empty()) {
    // It can never succeed; retrying it forever would stall the partition.
    log::Warn("behavior: identity.guest_merged without ids ignored", {{"event_id", record.event.id}});
    return Status::Ok();
  }
  return service_.Merge(tx, guest, user);
}

}  // namespace emporium::behavior
