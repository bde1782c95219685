#include <map>
#include <set>

#include "platform/kv/kv.h"
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "platform/rpc/rpc.h"
#include "services/gateway/api.h"
#include "services/gateway/cors.h"
#include "services/gateway/proxy.h"
#include "services/gateway/rate_limit.h"
#include "services/gateway/static_ui.h"

namespace emporium::gateway {
namespace {

std::string NonNegative(std::string_view v) {
  return !v.empty() && v[0] != '-' ? "" : "expected a number >= 0";
}

class GatewayModule final : public emporium::Module {
 public:
  explicit GatewayModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    const config::Config& c = rt_.config();
    EMP_ASSIGN_OR_RETURN(std::vector<ProxyRoute> routes, ParseProxyRoutes(c.List("gateway-routes")));
    EMP_ASSIGN_OR_RETURN(auto ip_limiter, NewLimiter("ratelimit:ip:"));
    EMP_ASSIGN_OR_RETURN(auto user_limiter, NewLimiter("ratelimit:user:"));
    const CorsPolicy cors(c.List("gateway-cors-origins"));
    http::Router& router = rt_.router();

    EMP_RETURN_IF_ERROR(AddProxies(routes));
    EMP_RETURN_IF_ERROR(router.Add(
        http::Method::kGet, "/", [](http::Request&) { return StaticUiPage(); },
        http::RouteOptions{.blocking = false}));
    EMP_RETURN_IF_ERROR(AddPreflights(cors));

    router.Use(std::make_unique<CorsMiddleware>(cors), kCorsOrder);
    router.Use(std::make_unique<RateLimitMiddleware>(
                   LimitBy::kClientIp, BucketSpec{Number("gateway-rate-ip"), Number("gateway-burst-ip")},
                   std::move(ip_limiter)),
               kIpLimitOrder);
    router.Use(std::make_unique<RateLimitMiddleware>(
                   LimitBy::kUser, BucketSpec{Number("gateway-rate-user"), Number("gateway-burst-user")},
                   std::move(user_limiter)),
               kUserLimitOrder);
    return Status::Ok();
  }

 private:
  double Number(std::string_view key) const { return static_cast<double>(rt_.config().Int(key)); }

  // In distributed mode (--kv-url=redis://...) the limits are shared by every gateway process.
  Result<std::unique_ptr<RateLimiter>> NewLimiter(std::string prefix) {
    if (rt_.config().Get("kv-url").starts_with("redis://")) {
      EMP_ASSIGN_OR_RETURN(kv::Store * store, rt_.Kv());
      return std::unique_ptr<RateLimiter>(
          std::make_unique<KvRateLimiter>(*store, rt_.clock(), std::move(prefix)));
    }
    MemoryLimiterOptions options;
    options.max_keys = static_cast<size_t>(rt_.config().Int("gateway-rate-max-keys"));
    return std::unique_ptr<RateLimiter>(std::make_unique<MemoryRateLimiter>(rt_.clock(), options));
  }

  Status AddProxies(const std::vector<ProxyRoute>& routes) {
    std::set<std::string> remote;
    for (const std::string& entry : rt_.config().List("remote"))
      remote.insert(entry.substr(0, entry.find('=')));
    const std::vector<std::string> running = rt_.running();
    const Millis timeout = rt_.config().Duration("gateway-timeout");
    for (const ProxyRoute& r : routes) {
      // An owner in this process serves its routes directly, with no extra hop.
      if (std::find(running.begin(), running.end(), r.owner) != running.end()) continue;
      if (!remote.contains(r.owner)) {
        log::Info("gateway: no route for prefix (owner neither running here nor --remote)",
                  {{"prefix", r.prefix}, {"module", r.owner}});
        continue;
      }
      EMP_ASSIGN_OR_RETURN(rpc::ModuleClient * client, rt_.Client(r.owner));
      EMP_RETURN_IF_ERROR(AddProxyRoutes(rt_.router(), r, *client, timeout));
      log::Info("gateway: proxying prefix", {{"prefix", r.prefix}, {"module", r.owner}});
    }
    return Status::Ok();
  }

  // One OPTIONS route per pattern, answering with the methods routed there.
  Status AddPreflights(const CorsPolicy& cors) {
    std::map<std::string, std::set<http::Method>> by_pattern;
    for (const http::Route* r : rt_.router().routes()) by_pattern[r->pattern].insert(r->method);
    for (const auto& [pattern, methods] : by_pattern) {
      if (methods.contains(http::Method::kOptions)) continue;
      std::string allow;
      for (http::Method m : methods) {
        allow += std::string(allow.empty() ? "" : ", ") + std::string(http::MethodName(m));
        if (m == http::Method::kGet && !methods.contains(http::Method::kHead)) allow += ", HEAD";
      }
      allow += ", OPTIONS";
      EMP_RETURN_IF_ERROR(rt_.router().Add(http::Method::kOptions, pattern, PreflightHandler(cors, allow),
                                           http::RouteOptions{.blocking = false}));
    }
    return Status::Ok();
  }

  Runtime& rt_;
};

}  // namespace

ModuleDef Module() {
  using config::Type;
  return ModuleDef{
      .name = "gateway",
      .description = "Edge: rate limits, CORS, proxy routes to remote modules, web UI placeholder",
      .deps = {},
      .in_all = true,
      .keys =
          {
              {"gateway-rate-ip", Type::kInt, "50", "Requests per second per client IP (0: no limit).",
               NonNegative},
              {"gateway-burst-ip", Type::kInt, "100", "Burst size per client IP.", NonNegative},
              {"gateway-rate-user", Type::kInt, "25",
               "Requests per second per signed-in subject (0: no limit).", NonNegative},
              {"gateway-burst-user", Type::kInt, "50", "Burst size per signed-in subject.", NonNegative},
              {"gateway-rate-max-keys", Type::kInt, "100000",
               "Rate-limit buckets kept in memory (least recently used dropped past it).", NonNegative},
              {"gateway-cors-origins", Type::kList,
               "http://127.0.0.1:8080,http://localhost:8080,http://localhost:5173",
               "Origins allowed to call the API from a browser ('*': any)."},
              {"gateway-routes", Type::kList,
               "/v1/users=identity,/v1/me=identity,/v1/sessions=identity,/v1/admin/users=identity,"
               "/oauth2=identity,/.well-known=identity,/v1/info=info,/v1/search=search,"
               "/v1/cart=cart,/v1/wishlist=cart,/v1/products=catalog,/v1/categories=catalog,"
               "/v1/admin/products=catalog,/v1/admin/categories=catalog,/v1/admin/inventory=catalog,"
               "/v1/internal/reservations=catalog,"
               "/v1/orders=order,/v1/admin/orders=order,/v1/admin/fraud=order,"
               "/v1/internal/shipments=fulfillment,/v1/webhooks/carriers=fulfillment,"
               "/v1/payments=payment,/v1/internal/payments=payment,/v1/admin/payments=payment,"
               "/v1/webhooks/payments=payment,/v1/events=behavior,/v1/recommendations=recommend,"
               "/v1/admin/recommendations=recommend,/v1/admin/models=info",
               "Path prefix=owning module; prefixes of modules named in --remote are proxied to them."},
              {"gateway-timeout", Type::kDuration, "10s", "Deadline of a proxied call."},
          },
      .make = [](Runtime& rt) { return std::make_unique<GatewayModule>(rt); },
  };
}

}  // namespace emporium::gateway
