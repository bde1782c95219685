// Wiring of the behavior module: configuration keys, start-up (storage, outbox relay on topic
// "behavior", the guest-merge consumer, the retention sweep, routes).
#include <memory>

#include "platform/bus/bus.h"
#include "platform/module/runtime.h"
#include "services/behavior/api.h"
#include "services/behavior/events.h"
#include "services/behavior/http.h"
#include "services/behavior/merge.h"
#include "services/behavior/service.h"
#include "services/behavior/store.h"
#include "services/behavior/sweeper.h"

namespace emporium::behavior {
namespace {

class BehaviorModule final : public emporium::Module {
 public:
  explicit BehaviorModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    Options options;
    options.limits.max_clock_skew_ms = c.Duration("behavior-max-clock-skew").count();
    options.limits.max_event_age_ms = c.Duration("behavior-max-event-age").count();
    options.retention_ms = c.Duration("behavior-retention").count();
    if (options.limits.max_event_age_ms > options.retention_ms) {
      return InvalidArgument(
          "--behavior-max-event-age must not exceed --behavior-retention (accepted events "
          "would be swept at once)");
    }
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("behavior"));
    store_ = std::make_unique<Store>(*db);
    EMP_RETURN_IF_ERROR(store_->Migrate());
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(publisher_.Start(*db, *bus, {{std::string(kBehaviorTopic), kPartitions}}));
    service_ = std::make_unique<BehaviorService>(*store_, rt_.clock(), options, rt_.metrics(),
                                                 [this] { publisher_.Notify(); });
    consumer_ = std::make_unique<MergeConsumer>(*service_);
    EMP_RETURN_IF_ERROR(consumer_->Start(*bus));
    sweeper_ = std::make_unique<Sweeper>(*service_, c.Duration("behavior-sweep-interval"));
    sweeper_->Start();
    return AddRoutes(rt_.router(), *service_);
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("behavior"));
    return Store(*db).Migrate();
  }

  void Stop() override {
    if (sweeper_) sweeper_->Stop();
    if (consumer_) consumer_->Stop();
    publisher_.Stop();
  }

 private:
  Runtime& rt_;
  std::unique_ptr<Store> store_;
  Publisher publisher_;
  std::unique_ptr<BehaviorService> service_;
  std::unique_ptr<MergeConsumer> consumer_;
  std::unique_ptr<Sweeper> sweeper_;
};

// Durations parse without a sign; zero is what these keys cannot take.
std::string Positive(std::string_view v) {
  auto d = config::ParseDuration(v);
  return d.ok() && d->count() == 0 ? "expected a duration > 0" : "";
}

}  // namespace

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  return {
      {
          "behavior-max-clock-skew",
          Type::kDuration,
          "5m",
          "How far in the future an event's time may be (client clocks drift); later is refused.",
      },
      {"behavior-max-event-age", Type::kDuration, "720h",
       "Oldest event time accepted (mobile apps sync late); older events are refused.", Positive},
      {"behavior-retention", Type::kDuration, "2160h",
       "How long behaviour events (and guest aliases) are kept; the sweep deletes older ones.", Positive},
      {"behavior-sweep-interval", Type::kDuration, "1h", "How often the retention sweep runs.", Positive},
  };
}

ModuleDef Module() {
  return ModuleDef{
      .name = "behavior",
      .description = "Behaviour events from storefronts and apps (views, searches, clicks) for the models",
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<BehaviorModule>(rt); },
      .commands = {},
  };
}

}  // namespace emporium::behavior
