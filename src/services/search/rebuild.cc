#include "services/search/rebuild.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <unordered_set>

#include "platform/core/json.h"
#include "platform/http/url.h"

namespace emporium::search {
namespace {

constexpr int kPageSize = 100;
constexpr int kCommitEveryPages = 10;

}  // namespace

Result<int64_t> Rebuild(Index& index, rpc::ModuleClient& catalog,
                        const std::function<void(int64_t)>& progress) {
  std::unordered_set<std::string> seen;
  std::string token;
  for (int page = 1;; ++page) {
    http::Request req;
    req.method = http::Method::kGet;
    req.path = "/v1/products";
    req.query = "page_size=" + std::to_string(kPageSize);
    if (!token.empty()) req.query += "&page_token=" + http::PercentEncode(token);
    req.target = req.path + "?" + req.query;
    EMP_ASSIGN_OR_RETURN(
        http::Response resp,
        catalog.Call(std::move(req), rpc::CallOptions{.timeout = Millis(30000), .idempotent = true}));
    if (resp.status != 200) {
      return Unavailable("catalog answered " + std::to_string(resp.status) + " for GET /v1/products");
    }
    EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(resp.body));
    const boost::json::object* o = v.if_object();
    const boost::json::value* items = o ? o->if_contains("items") : nullptr;
    if (!items || !items->is_array()) return Unavailable("catalog's product list has no items array");
    for (const boost::json::value& item : items->as_array()) {
      auto p = ParseProduct(json::Dump(item));
      if (!p.ok()) continue;  // catalog validates products; nothing to index without id/title
      EMP_RETURN_IF_ERROR(index.Upsert(*p));
      seen.insert(p->id);
    }
    if (progress) progress(static_cast<int64_t>(seen.size()));
    if (page % kCommitEveryPages == 0) EMP_RETURN_IF_ERROR(index.Commit());
    const boost::json::value* next = o->if_contains("next_page_token");
    if (!next || !next->is_string() || next->as_string().empty()) break;
    token = std::string(next->as_string());
  }
  EMP_ASSIGN_OR_RETURN(std::vector<std::string> ids, index.ProductIds());
  for (const std::string& id : ids) {
    if (!seen.contains(id)) EMP_RETURN_IF_ERROR(index.Remove(id));
  }
  EMP_RETURN_IF_ERROR(index.Commit());
  return static_cast<int64_t>(seen.size());
}

}  // namespace emporium::search
