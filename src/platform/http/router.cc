#include "platform/http/router.h"

#include <algorithm>

namespace emporium::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // "{name}"
  std::string param_name;
  std::unique_ptr<Node> tail;  // "{*name}": one or more remaining segments
  std::string tail_name;
  std::map<Method, const Route*> methods;
};

namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Status Router::Add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern[0] != '/') return InvalidArgument("pattern must start with '/': " + pattern);
  Node* node = root_.get();
  const std::vector<std::string_view> segs = Split(pattern);
  for (size_t i = 0; i < segs.size(); ++i) {
    std::string_view seg = segs[i];
    if (seg.size() >= 4 && seg.substr(0, 2) == "{*" && seg.back() == '}') {
      if (i + 1 != segs.size()) return InvalidArgument("a {*wildcard} must be the last segment: " + pattern);
      std::string name(seg.substr(2, seg.size() - 3));
      if (!node->tail) {
        node->tail = std::make_unique<Node>();
        node->tail_name = name;
      } else if (node->tail_name != name) {
        return InvalidArgument("conflicting wildcard names at " + pattern);
      }
      node = node->tail.get();
    } else if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (name.empty() || name.find_first_of("{}*") != std::string::npos) {
        return InvalidArgument("bad parameter name in " + pattern);
      }
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        return InvalidArgument("conflicting parameter names at " + pattern);
      }
      node = node->param.get();
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos)
        return InvalidArgument("bad segment in " + pattern);
      auto it = node->literals.find(seg);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(seg), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  if (node->methods.contains(method)) {
    return AlreadyExists(std::string(MethodName(method)) + " " + pattern + " is already routed");
  }
  routes_.push_back(std::make_unique<Route>(Route{method, std::move(pattern), std::move(handler), options}));
  node->methods[method] = routes_.back().get();
  return Status::Ok();
}

namespace {

// Depth-first match: a literal segment is tried before the parameter, and a dead end under the
// literal falls back to the parameter ("/products/search/similar" still reaches
// "/products/{id}/similar").
const Router::Node* Walk(const Router::Node* node, const std::vector<std::string_view>& segs, size_t i,
                         std::vector<std::pair<std::string, std::string>>& params) {
  if (i == segs.size()) return node->methods.empty() ? nullptr : node;
  if (auto it = node->literals.find(segs[i]); it != node->literals.end()) {
    if (const Router::Node* n = Walk(it->second.get(), segs, i + 1, params)) return n;
  }
  if (node->param) {
    params.emplace_back(node->param_name, std::string(segs[i]));
    if (const Router::Node* n = Walk(node->param.get(), segs, i + 1, params)) return n;
    params.pop_back();
  }
  if (node->tail && !node->tail->methods.empty()) {
    std::string rest(segs[i]);
    for (size_t k = i + 1; k < segs.size(); ++k) rest.append("/").append(segs[k]);
    params.emplace_back(node->tail_name, std::move(rest));
    return node->tail.get();
  }
  return nullptr;
}

}  // namespace

Match Router::Find(Method method, std::string_view path) const {
  Match match;
  const Node* node = Walk(root_.get(), Split(path), 0, match.params);
  if (!node) {
    match.params.clear();
    return match;
  }
  auto it = node->methods.find(method);
  if (it == node->methods.end() && method == Method::kHead) it = node->methods.find(Method::kGet);
  if (it != node->methods.end()) {
    match.route = it->second;
    return match;
  }
  match.params.clear();
  for (const auto& [m, route] : node->methods) {
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += MethodName(m);
    if (m == Method::kGet) match.allow += ", HEAD";
  }
  return match;
}

void Router::Use(std::unique_ptr<Middleware> middleware, int order) {
  auto pos = std::upper_bound(middleware_orders_.begin(), middleware_orders_.end(), order);
  auto at = pos - middleware_orders_.begin();
  middleware_orders_.insert(pos, order);
  middlewares_.insert(middlewares_.begin() + at, std::move(middleware));
}

Response Router::Invoke(const Route& route, Request& req) const {
  size_t ran = 0;
  std::optional<Response> early;
  for (; ran < middlewares_.size() && !early; ++ran) early = middlewares_[ran]->Before(req, route);
  Response resp = early ? std::move(*early) : route.handler(req);
  while (ran > 0) middlewares_[--ran]->After(req, route, resp);
  return resp;
}

std::vector<const Route*> Router::routes() const {
  std::vector<const Route*> out;
  for (const auto& r : routes_) out.push_back(r.get());
  return out;
}

}  // namespace emporium::http
