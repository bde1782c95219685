// Wiring of the order module: configuration keys, start-up (keys, storage, outbox relay, saga
// worker, fulfillment and payment consumer, routes).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/kv/kv.h"
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "services/order/api.h"
#include "services/order/events.h"
#include "services/order/fraud.h"
#include "services/order/http.h"
#include "services/order/keys.h"
#include "services/order/peers.h"
#include "services/order/saga.h"
#include "services/order/service.h"
#include "services/order/store.h"

namespace emporium::order {
namespace {

// Drives orders whose payment step-up finished, on a thread of its own: the consumer's handler
// runs inside the inbox transaction, which holds the database's write lock (SQLite) until it
// commits, and the saga writes to the same database. A kick lost to a crash is harmless: the
// saga worker still polls orders waiting for a step-up.
class StepUpResumer {
 public:
  explicit StepUpResumer(OrderService& service) : service_(service) {}
  ~StepUpResumer() { Stop(); }
  StepUpResumer(const StepUpResumer&) = delete;
  StepUpResumer& operator=(const StepUpResumer&) = delete;

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // The inbox handler of payment.action_completed {"order_id", ...}.
  Status Handle(const bus::Record& record) {
    auto doc = json::Parse(record.event.data);
    const boost::json::value* id =
        doc.ok() && doc->is_object() ? doc->as_object().if_contains("order_id") : nullptr;
    if (!id || !id->is_string() || id->as_string().empty()) {
      log::Warn("order: payment.action_completed without order_id ignored", {{"event_id", record.event.id}});
      return Status::Ok();
    }
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(id->as_string());
    }
    cv_.notify_all();
    return Status::Ok();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      std::string id = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      auto r = service_.ResumeAfterStepUp(id);
      if (!r.ok())
        log::Warn("order: resuming after a step-up", {{"order_id", id}, {"error", r.status().ToString()}});
      lock.lock();
    }
  }

  OrderService& service_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::thread thread_;
};

class OrderModule final : public emporium::Module {
 public:
  explicit OrderModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    EMP_ASSIGN_OR_RETURN(OrderKeys keys, LoadOrderKeys(c.Get("order-data-key"), !c.Get("sql-url").empty(),
                                                       rt_.data_dir() / "order.keys"));
    keys_.emplace(std::move(keys));
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("order"));
    store_ = std::make_unique<Store>(*db, keys_->aead);
    EMP_RETURN_IF_ERROR(store_->Migrate());
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(publisher_.Start(*db, *bus, {{std::string(kOrderTopic), 8}}));
    EMP_ASSIGN_OR_RETURN(kv::Store * kv, rt_.Kv());

    FraudRules rules;
    for (const auto& entry : c.List("order-fraud-blocklist")) rules.blocklist.insert(entry);
    rules.max_amount = c.Int("order-fraud-max-amount");
    rules.review_amount = c.Int("order-fraud-review-amount");
    rules.window = c.Duration("order-fraud-window");
    rules.max_orders = c.Int("order-fraud-max-orders");
    rules.max_window_amount = c.Int("order-fraud-max-window-amount");
    fraud_ = NewRulesScreen(*kv, rules, rt_.clock());

    peers_ = std::make_unique<Peers>(rt_, c.Duration("order-call-timeout"));
    SagaOptions so;
    so.reservation_ttl_s = c.Duration("order-reservation-ttl").count() / 1000;
    so.reserve_timeout = c.Duration("order-reserve-timeout");
    so.payment_timeout = c.Duration("order-payment-timeout");
    so.capture_timeout = c.Duration("order-capture-timeout");
    so.poll = c.Duration("order-saga-poll");
    saga_ =
        std::make_unique<Saga>(*store_, *peers_, *fraud_, rt_.clock(), so, [this] { publisher_.Notify(); });
    service_ = std::make_unique<OrderService>(
        *store_, *saga_, *peers_, ServiceOptions{c.Duration("order-inline-budget"), keys_->hash_key},
        rt_.clock());

    // Subscribing to a topic nobody created yet fails on the embedded bus (fulfillment and payment
    // start after order, or run in another process).
    EMP_RETURN_IF_ERROR(bus->EnsureTopic(std::string(kFulfillmentTopic), 8));
    EMP_RETURN_IF_ERROR(bus->EnsureTopic(std::string(kPaymentTopic), 8));
    EMP_ASSIGN_OR_RETURN(auto consumer,
                         bus->Subscribe(std::string(kConsumerGroup),
                                        {std::string(kFulfillmentTopic), std::string(kPaymentTopic)}));
    resumer_ = std::make_unique<StepUpResumer>(*service_);
    consumer_ = std::make_unique<bus::Worker>(*db, std::move(consumer), std::string(kConsumerGroup),
                                              [this](sql::Tx& tx, const bus::Record& r) -> Status {
                                                if (r.event.type == "payment.action_completed")
                                                  return resumer_->Handle(r);
                                                return service_->OnFulfillmentEvent(tx, r);
                                              });
    resumer_->Start();
    consumer_->Start();
    saga_->Start();
    return AddRoutes(rt_.router(), *service_);
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("order"));
    // Migrations create tables only; sealing needs no key here.
    auto aead = crypto::Aead::Create({{"m", std::string(32, '\0')}}, "m");
    if (!aead.ok()) return aead.status();
    return Store(*db, *aead).Migrate();
  }

  void Stop() override {
    if (consumer_) consumer_->Stop();
    if (resumer_) resumer_->Stop();
    if (saga_) saga_->Stop();
    publisher_.Stop();
  }

 private:
  Runtime& rt_;
  std::optional<OrderKeys> keys_;
  std::unique_ptr<Store> store_;
  bus::OutboxPublisher publisher_;
  std::unique_ptr<FraudScreen> fraud_;
  std::unique_ptr<Peers> peers_;
  std::unique_ptr<Saga> saga_;
  std::unique_ptr<OrderService> service_;
  std::unique_ptr<StepUpResumer> resumer_;
  std::unique_ptr<bus::Worker> consumer_;
};

std::string AtLeast(std::string_view v, int64_t min) {
  return std::atoll(std::string(v).c_str()) >= min ? "" : "expected >= " + std::to_string(min);
}

}  // namespace

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  return {
      {"order-data-key", Type::kString, "",
       "Key ring sealing shipping addresses: kid:base64url32[,...] (first = primary). Generated into "
       "<data-dir>/order.keys when empty in embedded mode; required with --sql-url."},
      {"order-inline-budget", Type::kDuration, "2s",
       "How long POST /v1/orders runs the saga before answering 202 PENDING (0 = always 202)."},
      {"order-call-timeout", Type::kDuration, "5s",
       "Deadline of one call to catalog, payment or fulfillment."},
      {"order-reservation-ttl", Type::kDuration, "30m",
       "How long catalog holds an order's stock before capture."},
      {"order-reserve-timeout", Type::kDuration, "30s",
       "Reserve retries stop after this: REJECTED reservation_timeout."},
      {"order-payment-timeout", Type::kDuration, "2m",
       "Authorize (and a step-up) retries stop after this: REJECTED payment_timeout."},
      {"order-capture-timeout", Type::kDuration, "10m",
       "Capture retries stop after this: CANCELLED capture_timeout."},
      {"order-saga-poll", Type::kDuration, "250ms", "How often the saga worker looks for due orders."},
      {"order-fraud-blocklist", Type::kList, "",
       "Blocked values: user:<id>, ip:<addr>, card:<token>, country:<CC>."},
      {"order-fraud-max-amount", Type::kInt, "1000000", "Orders above this (minor units) are declined.",
       [](std::string_view v) { return AtLeast(v, 1); }},
      {"order-fraud-review-amount", Type::kInt, "300000", "Orders above this (minor units) go to review.",
       [](std::string_view v) { return AtLeast(v, 1); }},
      {"order-fraud-window", Type::kDuration, "1h", "Sliding window of the velocity rules."},
      {"order-fraud-max-orders", Type::kInt, "10",
       "Orders per user, card or IP in the window before review (twice that: decline).",
       [](std::string_view v) { return AtLeast(v, 1); }},
      {"order-fraud-max-window-amount", Type::kInt, "1000000",
       "Spend per user or card in the window (minor units) before review.",
       [](std::string_view v) { return AtLeast(v, 1); }},
  };
}

ModuleDef Module() {
  return ModuleDef{
      .name = "order",
      .description = "Checkout: orders, the checkout saga, fraud screening and reviews, tracking",
      // cart, catalog, payment and fulfillment are called lazily through rt.Client, in-process or remote.
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<OrderModule>(rt); },
      .commands = {},
  };
}

}  // namespace emporium::order
