#include "platform/rpc/propagation.h"

#include <algorithm>
#include <optional>
#include <string>

#include "platform/core/random.h"
#include "platform/http/url.h"
#include "platform/trace/trace.h"

namespace emporium::rpc {
namespace {

Status NormaliseTarget(http::Request& req) {
  if (req.target.empty()) {
    if (req.path.empty()) req.path = "/";
    req.target = req.path + (req.query.empty() ? "" : "?" + req.query);
    return Status::Ok();
  }
  if (!req.path.empty()) return Status::Ok();
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::optional<std::string> path = http::DecodePath(target.substr(0, q));
  if (!path) return InvalidArgument("malformed path in call target: " + req.target);
  req.path = std::move(*path);
  req.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  return Status::Ok();
}

}  // namespace

void SetDeadlineHeader(http::Request& req, SteadyTime deadline, SteadyTime now) {
  if (deadline == SteadyTime::max()) return;
  auto left = std::chrono::duration_cast<Millis>(deadline - now).count();
  req.headers.Set(kDeadlineHeader, std::to_string(std::max<int64_t>(left, 0)));
}

Status PrepareCall(std::string_view module, http::Request& req, const CallOptions& options, SteadyTime now) {
  const http::Request* parent = options.parent;
  SteadyTime deadline = now + options.timeout;
  if (parent != nullptr) deadline = std::min(deadline, parent->deadline);
  if (deadline <= now) {
    return DeadlineExceeded("call to " + std::string(module) + ": deadline passed before the call");
  }
  req.deadline = deadline;

  EMP_RETURN_IF_ERROR(NormaliseTarget(req));
  if (req.method_name.empty() || req.method != http::Method::kOther) {
    req.method_name = std::string(http::MethodName(req.method));
  }

  if (parent != nullptr && trace::IsValidTraceId(parent->trace.trace_id)) {
    req.trace = trace::ChildOf(parent->trace);
  } else if (trace::IsValidTraceId(req.trace.trace_id)) {
    req.trace = trace::ChildOf(req.trace);
  } else {
    req.trace = trace::NewRoot();
  }

  if (parent != nullptr && !parent->request_id.empty()) {
    req.request_id = parent->request_id;
  } else if (auto header = req.headers.Get(kRequestIdHeader); header && !header->empty()) {
    req.request_id = std::string(*header);
  } else if (req.request_id.empty()) {
    req.request_id = NewUuidV7();
  }

  req.headers.Set(kTraceparentHeader, trace::FormatTraceparent(req.trace));
  req.headers.Set(kRequestIdHeader, req.request_id);
  SetDeadlineHeader(req, deadline, now);
  return Status::Ok();
}

}  // namespace emporium::rpc
