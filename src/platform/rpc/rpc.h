// Calls between modules through one client interface with two transports: in-process (the
// callee's router is called directly, no serialization) and HTTP (HttpClient wrapped in the
// resilience kit). Which one a module gets is deployment configuration, so callers and their
// tests are the same either way.
//
// Both transports: the call's deadline is min(now + timeout, parent's deadline) and a call whose
// deadline has already passed fails with kDeadlineExceeded without reaching the callee; the
// callee sees a child span of the parent's trace (a new trace without a parent) and the parent's
// request id. Any HTTP status is a successful Result; Status errors mean the call did not
// produce a response (deadline, transport failure, open circuit, full bulkhead).
//
// Thread-safety: ModuleClient implementations are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/client.h"
#include "platform/http/http.h"
#include "platform/resilience/backoff.h"
#include "platform/resilience/bulkhead.h"
#include "platform/resilience/circuit_breaker.h"
#include "platform/resilience/retry_budget.h"

namespace emporium::rpc {

inline constexpr std::string_view kDeadlineHeader = "X-Emporium-Deadline-Ms";
inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";
inline constexpr std::string_view kTraceparentHeader = "traceparent";

struct CallOptions {
  Millis timeout{2000};
  // Safe to send twice (GET, PUT, or a POST with an idempotency key): only these are retried.
  bool idempotent = false;
  // The request being served, if any: its deadline bounds this call and its trace and request id
  // are inherited. Not owned; only read during Call.
  const http::Request* parent = nullptr;
};

class ModuleClient {
 public:
  virtual ~ModuleClient() = default;
  // Sends req to the module. req.target (or path + query) is relative to the module's routes.
  virtual Result<http::Response> Call(http::Request req, const CallOptions& options) = 0;
  virtual std::string_view module() const = 0;
  virtual bool remote() const = 0;
  // The circuit breaker guarding the upstream, for admin pages; nullopt for local clients.
  virtual std::optional<resilience::BreakerSnapshot> breaker() const { return std::nullopt; }
};

// The router's dispatch function of the callee module.
using LocalDispatch = std::function<http::Response(http::Request&)>;

// In-process transport. The dispatch runs on the calling thread and cannot be interrupted, so a
// call that finishes after its deadline reports kDeadlineExceeded (as the HTTP transport would).
// Exceptions from dispatch become kInternal. `clock` must outlive the client.
std::unique_ptr<ModuleClient> NewLocalClient(std::string module, LocalDispatch dispatch,
                                             Clock& clock = SystemClock::Get());

struct RemoteOptions {
  // Budget of one attempt; zero lets each attempt use all the time left.
  Millis per_try_timeout{0};
  // Including the first attempt; only idempotent calls get more than one.
  int max_attempts = 3;
  resilience::BackoffOptions backoff;
  resilience::RetryBudgetOptions retry_budget;
  resilience::CircuitBreakerOptions breaker;
  resilience::BulkheadOptions bulkhead;
  // Shared connection pool, not owned; null makes the client own one built from `http`.
  http::HttpClient* http_client = nullptr;
  http::ClientOptions http;
};

// HTTP transport to base_url ("http://catalog:8081"). Sends `traceparent` (the child span),
// `X-Emporium-Deadline-Ms` (milliseconds left for this attempt) and `X-Request-Id`. Retries
// (idempotent calls only) on transport errors, timeouts of an attempt and 502/503/504 answers,
// with jittered exponential backoff and a retry budget. 5xx answers and transport failures count
// against the circuit breaker; 4xx do not. When retries run out on a 5xx, that response is
// returned. An open breaker fails with kUnavailable, a full bulkhead with kResourceExhausted.
// `clock` must outlive the client; it drives deadlines, backoff sleeps and the breaker.
std::unique_ptr<ModuleClient> NewRemoteClient(std::string module, std::string base_url, RemoteOptions options,
                                              Clock& clock);

}  // namespace emporium::rpc
