// gateway: the edge of the API for web and mobile clients.
//
// Adds to the process's router, as middlewares around every routed handler: CORS headers
// (before auth, so 401s carry them), a per-client-IP token-bucket rate limit (before auth, so a
// flood is turned away before any signature is checked) and a per-user one (after auth, keyed
// on the verified principal). Registers proxy routes for path prefixes whose owning module runs
// in another process (--remote=identity=http://...), an OPTIONS (CORS preflight) route for
// every route pattern, and the placeholder web page at GET /.
//
// The gateway reads the route table when it starts, so it starts after the modules whose routes
// it must answer preflights for: it is registered last in src/services/modules.cc, which makes
// it start last in the "all" target (list it last in an explicit --target too). Request size
// limits, per-route deadlines and load shedding are the HTTP server's (see http/server.h).
#pragma once

#include "platform/module/module.h"

namespace emporium::gateway {

// Router::Use orders of the gateway's middlewares (the runtime's auth middleware uses 0).
inline constexpr int kCorsOrder = -200;
inline constexpr int kIpLimitOrder = -100;
inline constexpr int kUserLimitOrder = 100;

ModuleDef Module();

}  // namespace emporium::gateway
