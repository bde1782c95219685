#include "services/order/peers.h"

#include "platform/core/json.h"
#include "platform/module/runtime.h"
#include "platform/rpc/rpc.h"

namespace emporium::order {

Result<Reply> Peers::Send(const std::string& module, http::Request req, const http::Request* parent,
                          bool idempotent) {
  EMP_ASSIGN_OR_RETURN(rpc::ModuleClient * client, rt_.Client(module));
  rpc::CallOptions opts;
  opts.timeout = timeout_;
  opts.idempotent = idempotent;
  opts.parent = parent;
  EMP_ASSIGN_OR_RETURN(http::Response resp, client->Call(std::move(req), opts));
  Reply r;
  r.status = resp.status;
  auto doc = json::Parse(resp.body);
  if (doc.ok() && doc->is_object()) r.body = std::move(doc->as_object());
  return r;
}

Result<Reply> Peers::Service(const std::string& module, http::Method method, const std::string& target,
                             const std::string& body) {
  http::Request req = http::NewRequest(method, target, body);
  req.principal = auth::Principal{.subject = "client:order", .client_id = "order"};
  // Every saga call is idempotent by construction (the order id is the idempotency key).
  return Send(module, std::move(req), nullptr, true);
}

Result<Reply> Peers::OnBehalf(const http::Request& parent, const std::string& module, http::Method method,
                              const std::string& target, const std::string& body) {
  http::Request req = http::NewRequest(method, target, body);
  req.principal = parent.principal;
  if (auto a = parent.headers.Get("Authorization")) req.headers.Set("Authorization", std::string(*a));
  return Send(module, std::move(req), &parent, method == http::Method::kGet);
}

}  // namespace emporium::order
