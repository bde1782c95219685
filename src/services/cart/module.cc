// Wiring of the cart module: configuration keys, start-up (storage, outbox relay, event consumer
// (guest merge, emptying after checkout), SSE fan-out, routes).
#include <memory>

#include "platform/bus/bus.h"
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "services/cart/api.h"
#include "services/cart/broadcaster.h"
#include "services/cart/catalog.h"
#include "services/cart/events.h"
#include "services/cart/fanout.h"
#include "services/cart/http.h"
#include "services/cart/merge.h"
#include "services/cart/service.h"
#include "services/cart/store.h"

namespace emporium::cart {
namespace {

class CartModule final : public emporium::Module {
 public:
  explicit CartModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("cart"));
    store_ = std::make_unique<Store>(*db);
    EMP_RETURN_IF_ERROR(store_->Migrate());
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(publisher_.Start(*db, *bus, {{std::string(kCartTopic), 8}}));

    Retention retention{c.Int("cart-change-retention"), c.Duration("cart-change-max-age").count()};
    catalog_ = NewCatalog(rt_);
    broadcaster_ = std::make_shared<Broadcaster>();
    service_ = std::make_unique<CartService>(*store_, *catalog_, *broadcaster_, rt_.clock(), retention,
                                             [this] { publisher_.Notify(); });
    consumer_ = std::make_unique<EventConsumer>(*service_);
    EMP_RETURN_IF_ERROR(consumer_->Start(*bus));
    if (FanoutEnabled()) {
      fanout_ = std::make_unique<Fanout>(*broadcaster_);
      EMP_RETURN_IF_ERROR(fanout_->Start(*bus));
      log::Info("cart SSE fan-out across replicas on", {{"group", fanout_->group()}});
    }
    return AddRoutes(rt_.router(), HttpDeps{*service_, broadcaster_, c.Duration("cart-sse-heartbeat")});
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("cart"));
    return Store(*db).Migrate();
  }

  void Stop() override {
    if (fanout_) fanout_->Stop();
    if (consumer_) consumer_->Stop();
    publisher_.Stop();
  }

 private:
  // Replicas only exist with a shared bus; with the embedded log every process is alone and the
  // in-process broadcaster reaches every connection.
  bool FanoutEnabled() const {
    const std::string& mode = rt_.config().Get("cart-sse-fanout");
    if (mode == "on") return true;
    if (mode == "off") return false;
    return !rt_.config().Get("bus-url").empty();
  }

  Runtime& rt_;
  std::unique_ptr<Store> store_;
  Publisher publisher_;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<Broadcaster> broadcaster_;
  std::unique_ptr<CartService> service_;
  std::unique_ptr<EventConsumer> consumer_;
  std::unique_ptr<Fanout> fanout_;
};

}  // namespace

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  return {
      {"cart-sse-heartbeat", Type::kDuration, "15s",
       "Idle time after which an SSE connection gets a ': ping'."},
      {"cart-sse-fanout", Type::kString, "auto",
       "Push changes made by other cart replicas to local SSE connections: auto (when --bus-url is set), on, "
       "off.",
       [](std::string_view v) -> std::string {
         return v == "auto" || v == "on" || v == "off" ? "" : "expected auto, on or off";
       }},
      {"cart-change-retention", Type::kInt, "1000", "Changes per cart kept for Last-Event-ID replays.",
       [](std::string_view v) -> std::string {
         return std::atoll(std::string(v).c_str()) >= 1 ? "" : "expected >= 1";
       }},
      {"cart-change-max-age", Type::kDuration, "168h",
       "How long changes are kept for Last-Event-ID replays."},
  };
}

ModuleDef Module() {
  return ModuleDef{
      .name = "cart",
      .description = "Carts and wishlists of users and guests, synced across devices (SSE)",
      // catalog is called lazily through rt.Client("catalog"), in-process or remote.
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<CartModule>(rt); },
      .commands = {},
  };
}

}  // namespace emporium::cart
