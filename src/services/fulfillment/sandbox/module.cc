// The carrier sandbox modules: each runs a SandboxServer on its own port (config
// <name>-port), pushing webhooks to <name>-webhook-url (default: this process's
// /v1/webhooks/carriers/<carrier> on --http-port). Parcels persist in the module's database
// carrier_<carrier>, so a restart of the process loses none.
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "services/fulfillment/api.h"
#include "services/fulfillment/protocol.h"
#include "services/fulfillment/sandbox/server.h"

namespace emporium::fulfillment {
namespace {

class SandboxModule final : public emporium::Module {
 public:
  SandboxModule(Runtime& rt, std::string name, std::string carrier, sandbox::Kind kind)
      : rt_(rt), name_(std::move(name)), carrier_(std::move(carrier)), kind_(kind) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    sandbox::SandboxOptions o;
    o.kind = kind_;
    o.port = static_cast<uint16_t>(c.Int(name_ + "-port"));
    o.step = c.Duration(name_ + "-step");
    o.webhook_url = c.Get(name_ + "-webhook-url");
    if (o.webhook_url.empty())
      o.webhook_url =
          "http://127.0.0.1:" + std::to_string(c.Int("http-port")) + "/v1/webhooks/carriers/" + carrier_;
    EMP_ASSIGN_OR_RETURN(o.secret,
                         CarrierWebhookSecret(c.Get(name_ + "-webhook-secret"), rt_.data_dir(), carrier_));
    EMP_ASSIGN_OR_RETURN(o.database, rt_.Database("carrier_" + carrier_));
    server_ = std::make_unique<sandbox::SandboxServer>(std::move(o));
    if (Status s = server_->Start(); !s.ok()) return Status(s.code(), name_ + ": " + s.message());
    log::Info("carrier sandbox listening", {{"carrier", carrier_}, {"url", server_->url()}});
    return Status::Ok();
  }

  void Stop() override {
    if (server_) server_->Stop();
  }

 private:
  Runtime& rt_;
  std::string name_;
  std::string carrier_;
  sandbox::Kind kind_;
  std::unique_ptr<sandbox::SandboxServer> server_;
};

std::vector<config::Key> SandboxKeys(const std::string& name, const std::string& carrier, const char* port) {
  using config::Type;
  return {
      {name + "-port", Type::kInt, port, "Port of the " + carrier + " sandbox (0: any free port)."},
      {name + "-step", Type::kDuration, "3s", "Time a sandbox parcel spends in each tracking state."},
      {name + "-webhook-url", Type::kString, "",
       "Where the sandbox POSTs tracking webhooks; empty: "
       "http://127.0.0.1:<http-port>/v1/webhooks/carriers/" +
           carrier + "."},
      {name + "-webhook-secret", Type::kString, "",
       "HMAC secret the sandbox signs webhooks with; empty: generated in <data-dir>/carrier-secrets."},
  };
}

ModuleDef SandboxDef(const std::string& name, const std::string& carrier, sandbox::Kind kind,
                     std::vector<config::Key> keys, std::string description) {
  return ModuleDef{
      .name = name,
      .description = std::move(description),
      .deps = {},
      .in_all = true,  // `make run` ships parcels end to end
      .keys = std::move(keys),
      .make = [name, carrier,
               kind](Runtime& rt) { return std::make_unique<SandboxModule>(rt, name, carrier, kind); },
      .commands = {},
  };
}

}  // namespace

std::vector<config::Key> RapidshipSandboxKeys() {
  return SandboxKeys("rapidship-sandbox", "rapidship", "8094");
}

std::vector<config::Key> CargolineSandboxKeys() {
  return SandboxKeys("cargoline-sandbox", "cargoline", "8095");
}

ModuleDef RapidshipSandboxModule() {
  return SandboxDef("rapidship-sandbox", "rapidship", sandbox::Kind::kRapidship, RapidshipSandboxKeys(),
                    "Carrier simulator: rapidship (JSON REST, Rapidship-Signature webhooks)");
}

ModuleDef CargolineSandboxModule() {
  return SandboxDef("cargoline-sandbox", "cargoline", sandbox::Kind::kCargoline, CargolineSandboxKeys(),
                    "Carrier simulator: cargoline (form-encoded API and webhooks)");
}

}  // namespace emporium::fulfillment
