// Forwarding of requests for modules that run in another process: the prefix → owner table
// (config key gateway-routes) and the handler that relays a request through the owner's
// rpc::ModuleClient (retries for idempotent methods only, circuit breaker and bulkhead per
// upstream — all in rpc) and maps call failures to problem+json.
//
// Thread-safety: the handlers are thread-safe (ModuleClient is).
#pragma once

#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/router.h"

namespace emporium::rpc {
class ModuleClient;
}

namespace emporium::gateway {

struct ProxyRoute {
  std::string prefix;  // "/v1/users": the prefix itself and everything below it
  std::string owner;   // module name: "identity"
};

// Parses "prefix=owner" entries. kInvalidArgument naming the entry when one is malformed
// (missing '=', prefix not starting with '/', empty owner, braces in the prefix).
Result<std::vector<ProxyRoute>> ParseProxyRoutes(const std::vector<std::string>& entries);

// Methods safe to send twice (RFC 9110 §9.2.2): only these are retried upstream.
bool IsIdempotent(http::Method method);

// Relays the request (method, target, headers except hop-by-hop ones, body) to `client` and
// returns the upstream's answer. X-Forwarded-For/-Host/-Proto are added; the request id, trace
// context and deadline are propagated by rpc. Failures without an answer: deadline → 504,
// open circuit or full bulkhead → 503 with Retry-After, anything else (refused, reset) → 502.
// `client` must outlive the handler.
http::Handler ProxyHandler(rpc::ModuleClient& client, Millis timeout);

// Registers ANY-method routes for `prefix` and `prefix/{*rest}` that proxy to `client`.
Status AddProxyRoutes(http::Router& router, const ProxyRoute& route, rpc::ModuleClient& client,
                      Millis timeout);

}  // namespace emporium::gateway
