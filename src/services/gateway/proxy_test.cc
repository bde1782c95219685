// The gateway module in a real process shape: an upstream Runtime serving a fake "identity"
// module on an http::Server (port 0), and a gateway Runtime (info + gateway, with
// --remote=identity=...) on another server. Requests go over loopback HTTP to the gateway.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <memory>
#include <thread>

#include "platform/http/client.h"
#include "platform/http/problem.h"
#include "platform/http/server.h"
#include "platform/metrics/metrics.h"
#include "platform/module/ops_routes.h"
#include "platform/module/runtime.h"
#include "services/gateway/api.h"
#include "services/gateway/proxy.h"

namespace emporium::gateway {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

struct Counters {
  std::atomic<int> flaky_get{0};
  std::atomic<int> flaky_post{0};
  std::atomic<int> options{0};
};

class FakeIdentity final : public emporium::Module {
 public:
  FakeIdentity(Runtime& rt, Counters& counters) : rt_(rt), counters_(counters) {}
  Status Start() override {
    http::Router& r = rt_.router();
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kGet, "/v1/me", [](http::Request& req) {
      json::object o{{"method", std::string(http::MethodName(req.method))},
                     {"target", req.target},
                     {"authorization", std::string(req.headers.Get("Authorization").value_or(""))},
                     {"x_custom", std::string(req.headers.Get("X-Custom").value_or(""))},
                     {"forwarded_for", std::string(req.headers.Get("X-Forwarded-For").value_or(""))},
                     {"request_id", req.request_id}};
      return http::Response::Json(200, json::serialize(o));
    }));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kGet, "/v1/me/slow", [](http::Request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      return http::Response::Json(200, "{}");
    }));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kPost, "/v1/users", [](http::Request& req) {
      http::Response resp = http::Response::Json(201, req.body);
      resp.headers.Set("Location", "/v1/users/u-1");
      resp.headers.Set("X-Upstream", "identity");
      return resp;
    }));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kGet, "/v1/users/{id}", [](http::Request& req) {
      return http::Response::Text(200, "user " + std::string(req.PathParam("id").value_or("?")));
    }));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kOptions, "/v1/users/{id}", [this](http::Request&) {
      ++counters_.options;
      return http::Response::Text(200, "upstream options");
    }));
    EMP_RETURN_IF_ERROR(r.Add(http::Method::kGet, "/oauth2/flaky", [this](http::Request& req) {
      ++counters_.flaky_get;
      return http::Problem(503, "flaky", req.path);
    }));
    return r.Add(http::Method::kPost, "/oauth2/flaky", [this](http::Request& req) {
      ++counters_.flaky_post;
      return http::Problem(503, "flaky", req.path);
    });
  }

 private:
  Runtime& rt_;
  Counters& counters_;
};

// Stands in for the info module (this test does not link the services library).
class LocalInfo final : public emporium::Module {
 public:
  explicit LocalInfo(Runtime& rt) : rt_(rt) {}
  Status Start() override {
    return rt_.router().Add(http::Method::kGet, "/v1/info", [this](http::Request&) {
      std::string names;
      for (const auto& m : rt_.running()) names += "\"" + m + "\",";
      return http::Response::Json(200, "{\"modules\":[" + names + "\"info\"]}");
    });
  }

 private:
  Runtime& rt_;
};

ModuleDef LocalInfoDef() {
  return ModuleDef{.name = "info", .make = [](Runtime& rt) { return std::make_unique<LocalInfo>(rt); }};
}

// One emporium process: config, runtime with the given modules, HTTP server on a free port.
class Process {
 public:
  Process(std::vector<std::string> args, const std::vector<ModuleDef>& modules, bool ops_routes = false) {
    std::vector<config::Key> schema = RuntimeKeys();
    for (const ModuleDef& d : modules) schema.insert(schema.end(), d.keys.begin(), d.keys.end());
    args.push_back("--http-port=0");
    auto cfg = config::Config::Load(schema, args, {});
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    config_ = std::make_unique<config::Config>(std::move(cfg).value());
    rt_ = std::make_unique<Runtime>(*config_, metrics_);
    if (ops_routes) {
      EXPECT_TRUE(AddOpsRoutes(*rt_).ok());
    }
    std::vector<const ModuleDef*> order;
    for (const ModuleDef& d : modules) order.push_back(&d);
    Status s = rt_->Start(order);
    EXPECT_TRUE(s.ok()) << s.ToString();
    server_ = std::make_unique<http::Server>(
        http::ServerOptions{
            .host = "127.0.0.1", .port = 0, .threads = 1, .blocking_threads = 4, .access_log = false},
        rt_->router(), metrics_);
    s = server_->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~Process() {
    Shutdown();
    rt_->Stop();
  }
  void Shutdown() { server_->Shutdown(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  metrics::Registry metrics_;
  std::unique_ptr<config::Config> config_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<http::Server> server_;
};

class GatewayProxyTest : public ::testing::Test {
 protected:
  GatewayProxyTest()
      : dir_(std::filesystem::path(::testing::TempDir()) / ("gw-" + std::to_string(::getpid()))) {
    ModuleDef identity{.name = "identity", .description = "fake", .make = [this](Runtime& rt) {
                         return std::make_unique<FakeIdentity>(rt, counters_);
                       }};
    upstream_defs_ = {identity};
    upstream_ = std::make_unique<Process>(std::vector<std::string>{"--data-dir=" + (dir_ / "up").string()},
                                          upstream_defs_);
  }

  void StartGateway(std::vector<std::string> extra = {}) {
    gateway_defs_ = {LocalInfoDef(), gateway::Module()};
    std::vector<std::string> args{"--data-dir=" + (dir_ / "gw").string(),
                                  "--remote=identity=" + upstream_->url(), "--gateway-rate-ip=10000",
                                  "--gateway-burst-ip=10000"};
    args.insert(args.end(), extra.begin(), extra.end());
    gateway_ = std::make_unique<Process>(args, gateway_defs_, /*ops_routes=*/true);
  }

  Result<http::Response> Send(http::Method method, std::string target, std::string body = {},
                              std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = method;
    req.target = std::move(target);
    req.body = std::move(body);
    for (auto& [k, v] : headers) req.headers.Set(k, v);
    if (!req.body.empty() && !req.headers.Get("Content-Type"))
      req.headers.Set("Content-Type", "application/json");
    return client_.Send(gateway_->url(), req, SystemClock::Get().Now() + milliseconds(10'000));
  }

  std::filesystem::path dir_;
  Counters counters_;
  std::vector<ModuleDef> upstream_defs_, gateway_defs_;
  std::unique_ptr<Process> upstream_;
  std::unique_ptr<Process> gateway_;
  http::HttpClient client_;
};

TEST_F(GatewayProxyTest, ForwardsMethodTargetHeadersAndPropagatesTheRequestId) {
  StartGateway();
  auto r = Send(
      http::Method::kGet, "/v1/me?fields=email%2Cname", {},
      {{"Authorization", "Basic c3RvcmVmcm9udDp4"}, {"X-Custom", "kept"}, {"X-Request-Id", "req-12345678"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  json::object o = json::parse(r->body).as_object();
  EXPECT_EQ(o.at("method").as_string(), "GET");
  EXPECT_EQ(o.at("target").as_string(), "/v1/me?fields=email%2Cname");
  EXPECT_EQ(o.at("authorization").as_string(), "Basic c3RvcmVmcm9udDp4");
  EXPECT_EQ(o.at("x_custom").as_string(), "kept");
  EXPECT_EQ(o.at("forwarded_for").as_string(), "127.0.0.1");
  EXPECT_EQ(o.at("request_id").as_string(), "req-12345678");
  EXPECT_EQ(r->headers.Get("X-Request-Id").value_or(""), "req-12345678");
}

TEST_F(GatewayProxyTest, ForwardsBodiesAndAnswerHeadersThroughTheWildcard) {
  StartGateway();
  auto created = Send(http::Method::kPost, "/v1/users", R"({"email":"a@example.test"})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->status, 201);
  EXPECT_EQ(created->body, R"({"email":"a@example.test"})");
  EXPECT_EQ(created->headers.Get("Location").value_or(""), "/v1/users/u-1");
  EXPECT_EQ(created->headers.Get("X-Upstream").value_or(""), "identity");

  auto one = Send(http::Method::kGet, "/v1/users/42");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(one->body, "user 42");

  auto missing = Send(http::Method::kGet, "/v1/users/42/nothing/here");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404) << "the upstream's own 404 is relayed";
  EXPECT_EQ(missing->headers.Get("Content-Type").value_or(""), "application/problem+json");
}

TEST_F(GatewayProxyTest, OnlyIdempotentCallsAreRetried) {
  StartGateway();
  auto get = Send(http::Method::kGet, "/oauth2/flaky");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 503);
  EXPECT_EQ(counters_.flaky_get.load(), 3) << "GET is retried up to max_attempts";

  auto post = Send(http::Method::kPost, "/oauth2/flaky", R"({"x":1})");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 503);
  EXPECT_EQ(counters_.flaky_post.load(), 1) << "a POST must reach the upstream exactly once";
}

TEST_F(GatewayProxyTest, StoppedUpstreamGivesBadGatewayThenOpenCircuit) {
  StartGateway();
  upstream_->Shutdown();
  auto first = Send(http::Method::kGet, "/v1/me");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, 502) << first->body;
  EXPECT_EQ(first->headers.Get("Content-Type").value_or(""), "application/problem+json");

  // Failures accumulate on the breaker; once it opens the gateway answers 503 + Retry-After.
  std::optional<http::Response> open;
  for (int i = 0; i < 10 && !open; ++i) {
    auto r = Send(http::Method::kPost, "/v1/users", R"({"a":1})");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->status == 502 || r->status == 503) << r->status;
    if (r->status == 503) open = std::move(r).value();
  }
  ASSERT_TRUE(open.has_value()) << "the circuit never opened";
  EXPECT_EQ(open->headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(open->headers.Get("Retry-After").value_or(""), "5");
}

TEST_F(GatewayProxyTest, ShortTimeoutGivesGatewayTimeout) {
  StartGateway({"--gateway-timeout=150ms"});
  const auto start = std::chrono::steady_clock::now();
  auto r = Send(http::Method::kGet, "/v1/me/slow");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 504) << r->body;
  EXPECT_EQ(r->headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(590))
      << "the gateway must not wait for the slow upstream";
}

TEST_F(GatewayProxyTest, PreflightsAreAnsweredByTheGatewayWithCorsOnEveryAnswer) {
  StartGateway();
  const std::pair<std::string, std::string> origin{"Origin", "http://localhost:5173"};
  auto pre =
      Send(http::Method::kOptions, "/v1/users/42", {}, {origin, {"Access-Control-Request-Method", "DELETE"}});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(pre->status, 204) << pre->body;
  EXPECT_EQ(pre->headers.Get("Access-Control-Allow-Origin").value_or(""), "http://localhost:5173");
  EXPECT_NE(std::string(pre->headers.Get("Access-Control-Allow-Methods").value_or("")).find("DELETE"),
            std::string::npos);
  EXPECT_EQ(counters_.options.load(), 0) << "preflights are not forwarded";

  auto local =
      Send(http::Method::kOptions, "/v1/info", {}, {origin, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->status, 204);
  EXPECT_EQ(local->headers.Get("Access-Control-Allow-Methods").value_or(""), "GET, HEAD, OPTIONS");

  auto evil = Send(http::Method::kOptions, "/v1/info", {}, {{"Origin", "https://evil.test"}});
  ASSERT_TRUE(evil.ok());
  EXPECT_EQ(evil->status, 403);
  EXPECT_FALSE(evil->headers.Get("Access-Control-Allow-Origin").has_value());

  auto proxied = Send(http::Method::kGet, "/v1/users/7", {}, {origin});
  ASSERT_TRUE(proxied.ok());
  EXPECT_EQ(proxied->headers.Get("Access-Control-Allow-Origin").value_or(""), "http://localhost:5173");
  EXPECT_EQ(proxied->headers.Get("Vary").value_or(""), "Origin");
}

TEST_F(GatewayProxyTest, LocalOwnersAreServedInProcessAndTheRootIsTheUiPage) {
  StartGateway();
  auto info = Send(http::Method::kGet, "/v1/info");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->status, 200);
  EXPECT_NE(info->body.find("\"gateway\""), std::string::npos) << "answered by this process: " << info->body;

  auto page = Send(http::Method::kGet, "/");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_TRUE(page->headers.Get("Content-Type").value_or("").starts_with("text/html"));
  EXPECT_NE(page->body.find("href=\"/docs\""), std::string::npos);
  EXPECT_NE(page->body.find("href=\"/v1/info\""), std::string::npos);
}

TEST_F(GatewayProxyTest, PerIpLimitAnswers429WithRetryAfterAndCorsButSparesProbes) {
  StartGateway({"--gateway-rate-ip=1", "--gateway-burst-ip=3"});
  const std::pair<std::string, std::string> origin{"Origin", "http://localhost:5173"};
  int ok = 0;
  std::optional<http::Response> limited;
  for (int i = 0; i < 6 && !limited; ++i) {
    auto r = Send(http::Method::kGet, "/v1/info", {}, {origin});
    ASSERT_TRUE(r.ok());
    if (r->status == 200) ++ok;
    if (r->status == 429) limited = std::move(r).value();
  }
  ASSERT_TRUE(limited.has_value());
  EXPECT_GE(ok, 3);
  EXPECT_EQ(limited->headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(limited->headers.Get("Retry-After").value_or(""), "1");
  EXPECT_EQ(limited->headers.Get("Access-Control-Allow-Origin").value_or(""), "http://localhost:5173")
      << "browsers must be able to read the 429";
  for (const char* probe : {"/livez", "/readyz", "/metrics"}) {
    auto r = Send(http::Method::kGet, probe);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << probe;
  }
}

TEST(ProxyRoutes, ParseValidatesEntries) {
  auto ok = ParseProxyRoutes({"/v1/users=identity", "/oauth2/=identity"});
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].prefix, "/oauth2");
  EXPECT_EQ(ParseProxyRoutes({"/v1/users"}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseProxyRoutes({"v1=identity"}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseProxyRoutes({"/v1/{x}=identity"}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseProxyRoutes({"/v1="}).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(IsIdempotent(http::Method::kPut));
  EXPECT_FALSE(IsIdempotent(http::Method::kPost));
  EXPECT_FALSE(IsIdempotent(http::Method::kPatch));
}

}  // namespace
}  // namespace emporium::gateway
