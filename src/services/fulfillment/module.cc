// Wiring of the fulfillment module: configuration keys, carriers, storage, outbox relay,
// notifications and routes.
#include <memory>

#include "platform/bus/bus.h"
#include "platform/http/client.h"
#include "platform/module/runtime.h"
#include "services/fulfillment/api.h"
#include "services/fulfillment/events.h"
#include "services/fulfillment/http.h"
#include "services/fulfillment/notify.h"
#include "services/fulfillment/protocol.h"
#include "services/fulfillment/service.h"
#include "services/fulfillment/store.h"

namespace emporium::fulfillment {
namespace {

class FulfillmentModule final : public emporium::Module {
 public:
  explicit FulfillmentModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("fulfillment"));
    store_ = std::make_unique<Store>(*db);
    EMP_RETURN_IF_ERROR(store_->Migrate());
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(publisher_.Start(*db, *bus, {{std::string(kTopic), 8}}));

    http_ = std::make_unique<http::HttpClient>();
    std::vector<std::unique_ptr<Carrier>> carriers;
    for (const std::string& name : c.List("fulfillment-carriers")) {
      CarrierOptions o;
      o.base_url = c.Get("fulfillment-" + name + "-url");
      EMP_ASSIGN_OR_RETURN(
          o.webhook_secret,
          CarrierWebhookSecret(c.Get("fulfillment-" + name + "-webhook-secret"), rt_.data_dir(), name));
      o.timeout = c.Duration("fulfillment-carrier-timeout");
      o.webhook_tolerance = c.Duration("fulfillment-webhook-tolerance");
      carriers.push_back(name == kRapidship ? NewRapidshipCarrier(std::move(o), *http_)
                                            : NewCargolineCarrier(std::move(o), *http_));
    }
    service_ = std::make_unique<ShipmentService>(*store_, std::move(carriers), rt_.clock(),
                                                 [this] { publisher_.Notify(); });

    std::filesystem::path file = c.Get("fulfillment-notifications-file");
    if (file.empty()) file = rt_.data_dir() / "notifications.log";
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    notifier_ = std::make_unique<Notifier>(*store_, std::make_unique<FileSink>(file), rt_.clock());
    EMP_RETURN_IF_ERROR(notifier_->Start(*bus));
    return AddRoutes(rt_.router(), *service_);
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("fulfillment"));
    return Store(*db).Migrate();
  }

  void Stop() override {
    if (notifier_) notifier_->Stop();
    publisher_.Stop();
  }

 private:
  Runtime& rt_;
  std::unique_ptr<Store> store_;
  Publisher publisher_;
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<ShipmentService> service_;
  std::unique_ptr<Notifier> notifier_;
};

std::string CheckCarriers(std::string_view v) {
  std::string_view rest = v;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    if (name != kRapidship && name != kCargoline) return "expected a list of rapidship, cargoline";
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return v.empty() ? "at least one carrier is needed" : "";
}

std::string CheckUrl(std::string_view v) {
  return v.starts_with("http://") ? "" : "expected an http:// URL";
}

}  // namespace

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  return {
      {"fulfillment-carriers", Type::kList, "rapidship,cargoline",
       "Carriers to quote, in preference order for equal prices (rapidship, cargoline).", CheckCarriers},
      {"fulfillment-rapidship-url", Type::kString, "http://127.0.0.1:8094", "Base URL of the rapidship API.",
       CheckUrl},
      {"fulfillment-rapidship-webhook-secret", Type::kString, "",
       "HMAC secret of rapidship webhooks; empty: the one generated in <data-dir>/carrier-secrets "
       "(sandbox)."},
      {"fulfillment-cargoline-url", Type::kString, "http://127.0.0.1:8095", "Base URL of the cargoline API.",
       CheckUrl},
      {"fulfillment-cargoline-webhook-secret", Type::kString, "",
       "HMAC secret of cargoline webhooks; empty: the one generated in <data-dir>/carrier-secrets "
       "(sandbox)."},
      {"fulfillment-carrier-timeout", Type::kDuration, "5s", "Deadline of one call to a carrier API."},
      {"fulfillment-webhook-tolerance", Type::kDuration, "5m",
       "Accepted distance between a webhook's signed timestamp and now."},
      {"fulfillment-notifications-file", Type::kString, "",
       "File notifications are appended to (JSON lines); empty: <data-dir>/notifications.log."},
  };
}

ModuleDef Module() {
  return ModuleDef{
      .name = "fulfillment",
      .description = "Shipments with carriers, tracking webhooks, customer notifications",
      // Carriers are reached over HTTP; their sandboxes are separate modules.
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<FulfillmentModule>(rt); },
      .commands = {},
  };
}

}  // namespace emporium::fulfillment
