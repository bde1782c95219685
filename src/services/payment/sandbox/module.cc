// Wiring of the three provider simulators as modules.
#include <memory>

#include "platform/module/runtime.h"
#include "services/payment/sandbox/api.h"
#include "services/payment/sandbox/protocols.h"

namespace emporium::paysim {
namespace {

using Factory = std::unique_ptr<Sandbox> (*)(SandboxOptions, sql::Database&, Clock&);

class SandboxModule final : public emporium::Module {
 public:
  SandboxModule(Runtime& rt, std::string provider, Factory factory)
      : rt_(rt), provider_(std::move(provider)), factory_(factory) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    std::string p = "paysim-" + provider_ + "-";
    SandboxOptions o;
    o.name = provider_;
    o.port = static_cast<uint16_t>(c.Int(p + "port"));
    o.api_key = c.Get(p + "api-key");
    o.webhook_secret = c.Get(p + "webhook-secret");
    o.webhook_url = c.Get(p + "webhook-url");
    if (o.webhook_url.empty()) o.webhook_url = rt_.public_url() + "/v1/webhooks/payments/" + provider_;
    if (o.webhook_url == "off") o.webhook_url.clear();
    o.slow_card_delay = c.Duration(p + "slow-card-delay");
    o.dispute_delay = c.Duration(p + "dispute-delay");
    o.access_log = c.Bool("access-log");
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("paysim_" + provider_));
    sandbox_ = factory_(std::move(o), *db, rt_.clock());
    return sandbox_->Start();
  }

  void Stop() override {
    if (sandbox_) sandbox_->Stop();
  }

 private:
  Runtime& rt_;
  std::string provider_;
  Factory factory_;
  std::unique_ptr<Sandbox> sandbox_;
};

ModuleDef Def(const std::string& provider, std::string description, Factory factory) {
  using config::Type;
  std::string p = "paysim-" + provider + "-";
  return ModuleDef{
      .name = "paysim-" + provider,
      .description = std::move(description),
      .deps = {},
      .in_all = true,
      .keys = {{p + "port", Type::kInt, std::to_string(DefaultPort(provider)),
                "Port of the " + provider + " payment sandbox (0: any free port)."},
               {p + "api-key", Type::kString, DefaultApiKey(provider),
                "API key the sandbox expects (test mode)."},
               {p + "webhook-secret", Type::kString, DefaultWebhookSecret(provider),
                "HMAC secret of the sandbox's webhooks (test mode)."},
               {p + "webhook-url", Type::kString, "",
                "Where the sandbox posts webhooks; empty: <public-url>/v1/webhooks/payments/" + provider +
                    "; off: none."},
               {p + "slow-card-delay", Type::kDuration, "5s", "How long the slow test card takes."},
               {p + "dispute-delay", Type::kDuration, "60s",
                "How long after its capture the fraud test card (4000000000000259) is disputed."}},
      .make = [provider,
               factory](Runtime& rt) { return std::make_unique<SandboxModule>(rt, provider, factory); },
      .commands = {},
  };
}

}  // namespace

std::string DefaultApiKey(std::string_view provider) {
  return "sandbox_" + std::string(provider) + "_key";
}
std::string DefaultWebhookSecret(std::string_view provider) {
  return "sandbox_" + std::string(provider) + "_whsec";
}
uint16_t DefaultPort(std::string_view provider) {
  if (provider == "intents") return 8091;
  if (provider == "acquirer") return 8092;
  return 8093;
}

ModuleDef IntentsModule() {
  return Def("intents", "Payment sandbox: PaymentIntents-style API with async webhooks", NewIntentsSandbox);
}
ModuleDef AcquirerModule() {
  return Def("acquirer", "Payment sandbox: synchronous authorise/capture API with notifications",
             NewAcquirerSandbox);
}
ModuleDef WalletModule() {
  return Def("wallet", "Payment sandbox: redirect/approval orders API", NewWalletSandbox);
}

}  // namespace emporium::paysim
