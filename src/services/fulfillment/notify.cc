#include "services/fulfillment/notify.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/object.hpp>

#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/log/log.h"
#include "services/fulfillment/api.h"

namespace emporium::fulfillment {
namespace {

constexpr Millis kDispatchInterval{100};
constexpr int kBatch = 100;

using json::Str;

struct Template {
  const char* kind;
  const char* subject;
  const char* body;
};

const Template* TemplateFor(std::string_view type) {
  static const Template kConfirmed{"order_confirmed", "Your order is confirmed",
                                   "Thank you! Your order is confirmed and being prepared."};
  static const Template kShipped{"order_shipped", "Your order is on its way",
                                 "Your parcel has left our warehouse."};
  static const Template kDelivered{"order_delivered", "Your order was delivered",
                                   "Your parcel was delivered."};
  if (type == "order.confirmed") return &kConfirmed;
  if (type == "shipment.shipped") return &kShipped;
  if (type == "shipment.delivered") return &kDelivered;
  return nullptr;
}

}  // namespace

Status FileSink::Deliver(const std::vector<Notification>& batch) {
  std::string text;
  for (const Notification& n : batch) text += n.payload + "\n";
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Unavailable("cannot open " + path_.string());
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Unavailable("cannot write " + path_.string());
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced ? Status::Ok() : Unavailable("cannot sync " + path_.string());
}

Notifier::Notifier(Store& store, std::unique_ptr<NotificationSink> sink, Clock& clock)
    : store_(store), sink_(std::move(sink)), clock_(clock) {}

Notifier::~Notifier() {
  Stop();
}

Status Notifier::Start(bus::Bus& bus) {
  // The order module may not exist or not have started yet (or run elsewhere).
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kOrderTopic), 8));
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kTopic), 8));
  EMP_ASSIGN_OR_RETURN(auto consumer, bus.Subscribe(std::string(kNotificationGroup),
                                                    {std::string(kOrderTopic), std::string(kTopic)}));
  worker_ =
      std::make_unique<bus::Worker>(store_.db(), std::move(consumer), std::string(kNotificationGroup),
                                    [this](sql::Tx& tx, const bus::Record& r) { return Handle(tx, r); });
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  worker_->Start();
  return Status::Ok();
}

void Notifier::Stop() {
  if (worker_) worker_->Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Notifier::Handle(sql::Tx& tx, const bus::Record& record) {
  const Template* t = TemplateFor(record.event.type);
  const bool order_event = record.event.type.rfind("order.", 0) == 0;
  if (!t && !order_event) return Status::Ok();
  auto doc = json::Parse(record.event.data);
  if (!doc.ok() || !doc->is_object()) {
    // A malformed event can never succeed; retrying it forever would stall the partition.
    log::Warn("fulfillment: malformed event ignored by notifications", {{"event_id", record.event.id}});
    return Status::Ok();
  }
  const boost::json::object& d = doc->as_object();
  std::string order_id = Str(d, "order_id");
  if (order_id.empty()) {
    log::Warn("fulfillment: event without order_id ignored by notifications",
              {{"event_id", record.event.id}});
    return Status::Ok();
  }
  const int64_t now = UnixMillis(clock_.WallNow());
  std::string user_id = Str(d, "user_id");
  // Any order event names the customer (order.created comes first), so later notices find them.
  if (order_event && !user_id.empty()) EMP_RETURN_IF_ERROR(Store::SaveContact(tx, order_id, user_id, now));
  if (!t) return Status::Ok();
  if (user_id.empty()) {
    EMP_ASSIGN_OR_RETURN(user_id, Store::ContactOf(tx, order_id));
  }

  Notification n{std::string(t->kind) + ":" + order_id, order_id, t->kind, ""};
  boost::json::object line{
      {"id", n.id},
      {"kind", t->kind},
      {"channel", "email"},
      {"order_id", order_id},
      {"user_id", user_id.empty() ? boost::json::value(nullptr) : boost::json::value(user_id)},
      {"subject", t->subject},
      {"body", t->body},
      {"at", record.event.time.empty() ? FormatRfc3339(clock_.WallNow()) : record.event.time}};
  if (record.event.type != "order.confirmed") {
    line["carrier"] = Str(d, "carrier");
    line["tracking_number"] = Str(d, "tracking_number");
  } else if (auto total = d.if_contains("total")) {
    line["total"] = *total;
  }
  n.payload = json::Dump(line);
  EMP_ASSIGN_OR_RETURN(bool added, Store::AddNotification(tx, n, now));
  (void)added;  // false: this order already has this notice
  cv_.notify_all();
  return Status::Ok();
}

Result<int> Notifier::DispatchOnce() {
  EMP_ASSIGN_OR_RETURN(auto batch, store_.PendingNotifications(kBatch));
  if (batch.empty()) return 0;
  EMP_RETURN_IF_ERROR(sink_->Deliver(batch));
  std::vector<std::string> ids;
  for (const Notification& n : batch) ids.push_back(n.id);
  EMP_RETURN_IF_ERROR(store_.MarkSent(ids, UnixMillis(clock_.WallNow())));
  return static_cast<int>(batch.size());
}

void Notifier::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kDispatchInterval);
    if (stop_) break;
    lock.unlock();
    auto sent = DispatchOnce();
    if (!sent.ok())
      log::Warn("fulfillment: notification dispatch failed", {{"error", sent.status().ToString()}});
    lock.lock();
  }
}

}  // namespace emporium::fulfillment
