// Request routing by method and path pattern ("/v1/products/{id}").
//
// Literal segments win over parameters (with fallback to the parameter on a dead end). Lookup returns the handler, 404 when no pattern matches
// the path, or 405 with the allowed methods when the path matches under other methods. Routes are
// added during start-up; lookups afterwards are lock-free. Not safe to Add concurrently with Find.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"

namespace emporium::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
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

  struct Node;

 private:
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace emporium::http
