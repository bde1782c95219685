// How order reaches the other modules: every call goes through rt.Client(module) (in-process or
// remote by configuration). Saga calls carry order's own service principal (client:order);
// calls made on a customer's behalf (cart read, card tokenization) carry the caller's principal
// and forward its Authorization header, so a remote callee checks the customer's token itself.
// Thread-safety: thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"

namespace emporium {
class Runtime;
}

namespace emporium::order {

struct Reply {
  int status = 0;
  boost::json::object body;  // empty when the body is not a JSON object
};

class Peers {
 public:
  Peers(Runtime& rt, Millis timeout) : rt_(rt), timeout_(timeout) {}
  virtual ~Peers() = default;

  // A call as order itself. body empty: no body. Status errors mean no answer (transport,
  // deadline, open breaker): the saga retries those.
  Result<Reply> Service(const std::string& module, http::Method method, const std::string& target,
                        const std::string& body = "");
  // A call on behalf of the customer whose request is `parent`.
  Result<Reply> OnBehalf(const http::Request& parent, const std::string& module, http::Method method,
                         const std::string& target, const std::string& body = "");

 private:
  Result<Reply> Send(const std::string& module, http::Request req, const http::Request* parent,
                     bool idempotent);

  Runtime& rt_;
  Millis timeout_;
};

}  // namespace emporium::order
