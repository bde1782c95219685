// Test helper: the three provider sandboxes (own servers on ephemeral ports, own SQLite ledgers)
// and the payment module in a Runtime over a fresh temp data dir, with the runtime's router also
// served over HTTP (port 0) so the sandboxes' webhooks reach it. Log lines are captured.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/json.h"
#include "platform/http/client.h"
#include "platform/http/server.h"
#include "platform/log/log.h"
#include "platform/module/testing.h"
#include "platform/sql/sql.h"
#include "services/payment/api.h"
#include "services/payment/sandbox/api.h"
#include "services/payment/sandbox/protocols.h"

namespace emporium::payment::testing {

using ::emporium::testing::DataDir;
using ::emporium::testing::ParseObject;
using ::emporium::testing::TestRuntime;

inline const char* kProviders[] = {"intents", "acquirer", "wallet"};

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}) {
    log::SetSink([this](std::string_view line) {
      std::lock_guard lock(log_mu_);
      logs_ += line;
      logs_ += '\n';
    });
    for (const char* name : kProviders) StartSandbox(name);
    std::vector<std::string> args = {"--access-log=true", "--log-level=info",
                                     "--payment-provider-timeout=500ms", "--payment-orphan-sweep=0s"};
    for (const char* name : kProviders) {
      args.push_back(std::string("--payment-") + name + "-url=" + sandbox(name).base_url());
    }
    args.insert(args.end(), flags.begin(), flags.end());
    rt_.emplace(dir_.path(), std::vector<ModuleDef>{Module()}, std::move(args));
  }
  ~Env() {
    if (server_) server_->Shutdown();
    rt_->rt().Stop();
    for (auto& s : sandboxes_) s->Stop();
    log::Flush();
    log::SetSink(nullptr);
  }

  Status Start() {
    EMP_RETURN_IF_ERROR(rt_->Start());
    http::ServerOptions so;
    so.port = 0;
    so.threads = 1;
    so.access_log = true;
    server_ = std::make_unique<http::Server>(so, rt().router(), server_metrics_);
    EMP_RETURN_IF_ERROR(server_->Start());
    for (size_t i = 0; i < sandboxes_.size(); ++i) sandboxes_[i]->set_webhook_url(WebhookUrl(kProviders[i]));
    return Status::Ok();
  }

  paysim::Sandbox& sandbox(std::string_view name) {
    for (size_t i = 0; i < 3; ++i) {
      if (name == kProviders[i]) return *sandboxes_[i];
    }
    std::abort();
  }
  // Restarts a sandbox on the same ledger database (and a new port), its webhooks still to us.
  void RestartSandbox(std::string_view name) {
    for (size_t i = 0; i < 3; ++i) {
      if (name != kProviders[i]) continue;
      sandboxes_[i]->Stop();
      sandboxes_[i] = Make(kProviders[i], *dbs_[i]);
      if (server_) sandboxes_[i]->set_webhook_url(WebhookUrl(kProviders[i]));
      EXPECT_TRUE(sandboxes_[i]->Start().ok());
    }
  }
  // Where the payment module takes a provider's webhooks (once started).
  std::string WebhookUrl(std::string_view provider) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1/webhooks/payments/" +
           std::string(provider);
  }

  http::Response Call(http::Method method, const std::string& target, const std::string& subject,
                      const std::string& body = "", std::vector<std::string> roles = {"customer"}) {
    http::Request req = http::NewRequest(method, target, body);
    if (subject == "client:order") {
      req.principal = auth::Principal{.subject = "client:order", .client_id = "order"};
    } else if (!subject.empty()) {
      auth::Principal p;
      p.subject = subject;
      p.roles = std::move(roles);
      req.principal = p;
    }
    return rt().Dispatch(req);
  }

  // POST /v1/internal/payments/authorize with a raw test card.
  boost::json::object Authorize(const std::string& order_id, const std::string& number, int64_t amount = 1000,
                                const std::string& currency = "USD") {
    boost::json::object body{{"order_id", order_id},
                             {"amount", boost::json::object{{"amount", amount}, {"currency", currency}}},
                             {"card", Card(number)}};
    auto r = Call(http::Method::kPost, "/v1/internal/payments/authorize", "client:order", json::Dump(body));
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseObject(r.body);
  }
  // A method token for a test card (tokenized at every provider).
  std::string Method(const std::string& number) {
    auto r = Call(http::Method::kPost, "/v1/payments/methods", "user:u1",
                  json::Dump(boost::json::object{{"card", Card(number)}}));
    EXPECT_EQ(r.status, 201) << r.body;
    auto o = ParseObject(r.body);
    return o.contains("method_token") ? std::string(o.at("method_token").as_string()) : "";
  }
  // POST /v1/internal/payments/authorize with a stored method.
  boost::json::object AuthorizeToken(const std::string& order_id, const std::string& token,
                                     int64_t amount = 1000, const std::string& currency = "USD") {
    boost::json::object body{{"order_id", order_id},
                             {"amount", boost::json::object{{"amount", amount}, {"currency", currency}}},
                             {"method_token", token}};
    auto r = Call(http::Method::kPost, "/v1/internal/payments/authorize", "client:order", json::Dump(body));
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseObject(r.body);
  }
  boost::json::object Post(const std::string& target, const boost::json::object& body = {}) {
    auto r = Call(http::Method::kPost, target, "client:order", json::Dump(body));
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    return ParseObject(r.body);
  }
  boost::json::object GetPayment(const std::string& id) {
    return ParseObject(Call(http::Method::kGet, "/v1/internal/payments/" + id, "client:order").body);
  }

  static boost::json::object Card(const std::string& number) {
    return boost::json::object{{"number", number}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}};
  }

  // POST <sandbox>/control.
  void Control(std::string_view provider, const boost::json::object& body) {
    http::Response r = ControlAnswer(provider, body);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  http::Response ControlAnswer(std::string_view provider, const boost::json::object& body) {
    http::Request req;
    req.method = http::Method::kPost;
    req.target = "/control";
    req.body = json::Dump(body);
    req.headers.Set("Content-Type", "application/json");
    auto r = client_.Send(sandbox(provider).base_url(), req, SystemClock::Get().Now() + Millis(5000));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }
  // GET an absolute URL (a redirect/step-up page).
  http::Response Visit(const std::string& url) {
    size_t slash = url.find('/', url.find("://") + 3);
    http::Request req;
    req.method = http::Method::kGet;
    req.target = url.substr(slash);
    auto r = client_.Send(url.substr(0, slash), req, SystemClock::Get().Now() + Millis(5000));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::Response{};
  }

  // Ledger entries of a provider for an order that hold money (authorized or captured).
  int Held(std::string_view provider, const std::string& order_id) {
    int n = 0;
    for (const auto& e : sandbox(provider).Ledger()) {
      if (e.reference == order_id && (e.status == "authorized" || e.status == "captured")) ++n;
    }
    return n;
  }
  std::vector<paysim::LedgerEntry> Entries(std::string_view provider, const std::string& order_id) {
    std::vector<paysim::LedgerEntry> out;
    for (const auto& e : sandbox(provider).Ledger()) {
      if (e.reference == order_id) out.push_back(e);
    }
    return out;
  }

  // Polls until the payment reaches `status` (webhooks are asynchronous).
  bool WaitStatus(const std::string& payment_id, const std::string& status, Millis timeout = Millis(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto p = GetPayment(payment_id);
      if (p.contains("status") && p.at("status").as_string() == status) return true;
      std::this_thread::sleep_for(Millis(20));
    }
    return false;
  }

  std::string Logs() {
    log::Flush();
    std::lock_guard lock(log_mu_);
    return logs_;
  }
  Runtime& rt() { return rt_->rt(); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  http::HttpClient& client() { return client_; }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<paysim::Sandbox> Make(const std::string& name, sql::Database& db) {
    paysim::SandboxOptions o;
    o.name = name;
    o.port = 0;
    o.api_key = paysim::DefaultApiKey(name);
    o.webhook_secret = paysim::DefaultWebhookSecret(name);
    o.slow_card_delay = Millis(1500);
    o.dispute_delay = Millis(400);
    o.access_log = true;
    if (name == "intents") return paysim::NewIntentsSandbox(o, db, SystemClock::Get());
    if (name == "acquirer") return paysim::NewAcquirerSandbox(o, db, SystemClock::Get());
    return paysim::NewWalletSandbox(o, db, SystemClock::Get());
  }
  void StartSandbox(const std::string& name) {
    auto db = sql::Open("sqlite://" + (dir_.path() / ("paysim_" + name + ".db")).string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    dbs_.push_back(std::move(db).value());
    sandboxes_.push_back(Make(name, *dbs_.back()));
    ASSERT_TRUE(sandboxes_.back()->Start().ok());
  }

  DataDir dir_{"payment", {}, DataDir::Cleanup::kRemove};
  std::mutex log_mu_;
  std::string logs_;
  std::vector<std::unique_ptr<sql::Database>> dbs_;
  std::vector<std::unique_ptr<paysim::Sandbox>> sandboxes_;
  std::optional<TestRuntime> rt_;  // built once the sandboxes listen (the flags carry their URLs)
  metrics::Registry server_metrics_;
  std::unique_ptr<http::Server> server_;
  http::HttpClient client_;
};

}  // namespace emporium::payment::testing
