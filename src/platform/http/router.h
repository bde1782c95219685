// Request routing by method and path pattern ("/v1/products/{id}").
//
// Literal segments win over parameters (with fallback to the parameter on a dead end), and both
// win over a final tail wildcard "{*rest}", which matches one or more remaining segments (its
// value is those segments joined by '/'; used for proxy catch-alls). Lookup returns the handler,
// 404 when no pattern matches the path, or 405 with the allowed methods when the path matches
// under other methods. Routes are
// added during start-up; lookups afterwards are lock-free. Not safe to Add concurrently with Find.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"

namespace emporium::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  // What the caller must present (checked by the auth middleware).
  auth::Access access = auth::Access::kPublic;
  // Runs on the blocking worker pool (SQL, remote calls). Inline routes run on the I/O thread
  // and must not block.
  bool blocking = true;
  Millis timeout{0};          // 0: server default
  size_t max_body_bytes = 0;  // 0: server default
};

struct Route {
  Method method;
  std::string pattern;  // also the metrics label
  Handler handler;
  RouteOptions options;
};

// Runs around every routed handler, on the handler's thread, in the order added: Before() may
// answer instead of the handler (auth, rate limits); After() may amend the response (CORS).
// Must be thread-safe.
class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual std::optional<Response> Before(Request& req, const Route& route) = 0;
  virtual void After(const Request& /*req*/, const Route& /*route*/, Response& /*resp*/) {}
};

struct Match {
  const Route* route = nullptr;  // null: not found or method not allowed
  std::vector<std::pair<std::string, std::string>> params;
  std::string allow;  // for 405: "GET, HEAD"
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // kAlreadyExists for a duplicate method+pattern, kInvalidArgument for a malformed pattern.
  Status Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  // path is the decoded path. HEAD falls back to GET.
  Match Find(Method method, std::string_view path) const;
  std::vector<const Route*> routes() const;

  // Adds a middleware (start-up only). Middlewares run in ascending `order`, ties in the order
  // added; the runtime's auth middleware uses 0, so edge concerns that must see every answer
  // (CORS) or must run before token verification (per-IP rate limits) use negative orders.
  void Use(std::unique_ptr<Middleware> middleware, int order = 0);
  // Runs the middlewares and the route's handler for a matched request (path params set).
  Response Invoke(const Route& route, Request& req) const;

  struct Node;

 private:
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::unique_ptr<Middleware>> middlewares_;
  std::vector<int> middleware_orders_;  // parallel to middlewares_, ascending
};

// A route served by a member function of one handler object that all of a module's routes share.
template <typename T>
struct MemberRoute {
  Method method;
  const char* pattern;
  Response (T::*fn)(Request&);
  RouteOptions options;
};

// Adds every route with its handler bound to `target`, which the router's closures keep alive.
template <typename T>
Status AddMemberRoutes(Router& router, std::shared_ptr<T> target,
                       std::initializer_list<MemberRoute<T>> routes) {
  for (const MemberRoute<T>& r : routes) {
    auto fn = r.fn;
    EMP_RETURN_IF_ERROR(router.Add(
        r.method, r.pattern, [target, fn](Request& req) { return ((*target).*fn)(req); }, r.options));
  }
  return Status::Ok();
}

}  // namespace emporium::http
