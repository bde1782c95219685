// Wiring of the payment module: configuration, providers, routing, breakers, outbox relay,
// routes, the orphan sweeper, and the `payment reconcile` command.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/http/client.h"
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "platform/sql/sql.h"
#include "services/payment/api.h"
#include "services/payment/events.h"
#include "services/payment/http.h"
#include "services/payment/providers/providers.h"
#include "services/payment/reconcile.h"
#include "services/payment/sandbox/api.h"
#include "services/payment/service.h"

namespace emporium::payment {
namespace {

constexpr const char* kKnownProviders[] = {"intents", "acquirer", "wallet"};

class PaymentModule final : public emporium::Module {
 public:
  explicit PaymentModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("payment"));
    EMP_RETURN_IF_ERROR(payment::Migrate(*db));
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(publisher_.Start(*db, *bus, {{std::string(kPaymentTopic), 8}}));

    client_ = std::make_unique<http::HttpClient>();
    std::vector<std::unique_ptr<Provider>> providers;
    std::vector<std::string> names = c.List("payment-providers");
    for (const std::string& name : names) {
      ProviderConfig pc{name, c.Get("payment-" + name + "-url"), c.Get("payment-" + name + "-api-key"),
                        c.Get("payment-" + name + "-webhook-secret"), c.Duration("payment-provider-timeout")};
      auto p = NewProvider(std::move(pc), *client_);
      if (!p) return InvalidArgument("--payment-providers: unknown provider '" + name + "'");
      providers.push_back(std::move(p));
    }
    EMP_ASSIGN_OR_RETURN(Routing routing, Routing::Parse(c.List("payment-routing"), names));
    resilience::CircuitBreakerOptions bo;
    bo.consecutive_failures = static_cast<int>(c.Int("payment-breaker-failures"));
    bo.open_interval = c.Duration("payment-breaker-open");
    breakers_ = std::make_unique<resilience::BreakerRegistry>(rt_.clock(), bo);
    ServiceOptions so;
    so.webhook_tolerance = c.Duration("payment-webhook-tolerance");
    so.lease = c.Duration("payment-authorize-lease");
    so.abandon_after = c.Duration("payment-abandon-after");
    so.orphan_window = c.Duration("payment-orphan-window");
    so.return_url = c.Get("payment-return-url").empty() ? rt_.public_url() + "/checkout/return"
                                                        : c.Get("payment-return-url");
    service_ = std::make_unique<PaymentService>(*db, std::move(providers), std::move(routing), *breakers_,
                                                rt_.clock(), so, [this] { publisher_.Notify(); });
    EMP_RETURN_IF_ERROR(AddRoutes(rt_.router(), *service_));
    Millis every = c.Duration("payment-orphan-sweep");
    if (every.count() > 0) sweeper_ = std::thread([this, every] { Sweep(every); });
    return Status::Ok();
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("payment"));
    return payment::Migrate(*db);
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    publisher_.Stop();
  }

 private:
  void Sweep(Millis every) {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every, [this] { return stopping_; })) {
      lock.unlock();
      int n = service_->SweepOrphans();
      if (n > 0) log::Warn("payment sweeper voided late authorizations", {{"voided", n}});
      lock.lock();
    }
  }

  Runtime& rt_;
  Publisher publisher_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<resilience::BreakerRegistry> breakers_;
  std::unique_ptr<PaymentService> service_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

std::string ProvidersCheck(std::string_view v) {
  std::string s(v);
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    std::string name = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
    bool known = false;
    for (const char* k : kKnownProviders) known = known || name == k;
    if (!known) return "unknown provider '" + name + "' (known: intents, acquirer, wallet)";
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return "";
}

}  // namespace

std::vector<config::Key> ConfigKeys() {
  using config::Type;
  std::vector<config::Key> keys = {
      {"payment-providers", Type::kList, "intents,acquirer,wallet", "Enabled payment providers.",
       ProvidersCheck},
      {"payment-routing", Type::kList, "*:intents|acquirer|wallet",
       "Routing rules '<conditions>:<p1>|<p2>' (conditions: *, a currency, amount<N, amount>=N, "
       "method=card|wallet, "
       "joined by ';'); the first match gives the failover order."},
      {"payment-provider-timeout", Type::kDuration, "2s", "Deadline of one call to a provider."},
      {"payment-webhook-tolerance", Type::kDuration, "5m",
       "Accepted clock difference of a webhook's timestamp."},
      {"payment-authorize-lease", Type::kDuration, "15s",
       "How long an authorization owns its order before another caller may resume it."},
      {"payment-abandon-after", Type::kDuration, "1m",
       "How long after its lease ran out a pending authorization nobody resumed (its owner crashed) is "
       "failed and voided at every provider; keep it above the order saga's longest retry wait (30s)."},
      {"payment-orphan-window", Type::kDuration, "10m",
       "How long uncertain provider attempts are re-checked for late authorizations."},
      {"payment-orphan-sweep", Type::kDuration, "15s",
       "Interval of the late-authorization sweeper (0s: off)."},
      {"payment-breaker-failures", Type::kInt, "5", "Consecutive failures that open a provider's breaker."},
      {"payment-breaker-open", Type::kDuration, "10s", "How long an open provider breaker stays open."},
      {"payment-return-url", Type::kString, "",
       "Where redirect/step-up flows send the customer back; empty: <public-url>/checkout/return."},
  };
  for (const char* name : kKnownProviders) {
    std::string p = "payment-" + std::string(name) + "-";
    keys.push_back({p + "url", Type::kString, "http://127.0.0.1:" + std::to_string(paysim::DefaultPort(name)),
                    std::string("Base URL of the ") + name + " provider."});
    keys.push_back(
        {p + "api-key", Type::kString, paysim::DefaultApiKey(name),
         std::string("API key for the ") + name + " provider (the sandbox's test key by default)."});
    keys.push_back(
        {p + "webhook-secret", Type::kString, paysim::DefaultWebhookSecret(name),
         std::string("HMAC secret of the ") + name + " provider's webhooks (sandbox's by default)."});
  }
  return keys;
}

ModuleDef Module() {
  return ModuleDef{
      .name = "payment",
      .description =
          "Payments: tokenization, authorization with routing and failover, webhooks, reconciliation",
      // Providers (and their sandboxes) are reached over HTTP at configured URLs.
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<PaymentModule>(rt); },
      .commands = {Command{
          "payment reconcile",
          "Compare each payment provider's ledger with our payments; exit 1 on any mismatch.",
          {},
          ReconcileCommand}},
  };
}

}  // namespace emporium::payment
