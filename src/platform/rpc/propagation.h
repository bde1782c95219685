// What both transports do to a request before it leaves the caller: compute the deadline, make
// the child span, carry the request id, and normalise target/path/query so a router can match it.
// Internal to emporium_rpc.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"
#include "platform/rpc/rpc.h"

namespace emporium::rpc {

// Sets req.deadline (min of now + timeout and the parent's), req.trace (child of the parent's
// trace, or of req.trace if the caller set one, else a new root), req.request_id (the parent's,
// else req's X-Request-Id header, else a new one), method_name, target/path/query, and the
// traceparent, X-Request-Id and deadline headers. kDeadlineExceeded if the deadline is not after
// now; kInvalidArgument for a target whose path does not decode.
Status PrepareCall(std::string_view module, http::Request& req, const CallOptions& options, SteadyTime now);

// Sets the deadline header to the whole milliseconds left until deadline.
void SetDeadlineHeader(http::Request& req, SteadyTime deadline, SteadyTime now);

}  // namespace emporium::rpc
