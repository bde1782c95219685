#include "services/search/http.h"

#include <charconv>
#include <cstdio>

#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"

namespace emporium::search {
namespace {

constexpr int kDefaultPageSize = 20;
constexpr int kMaxPageSize = 100;
constexpr int kMaxOffset = 10'000;
constexpr size_t kMaxQueryBytes = 512;
constexpr size_t kMaxSimilarIds = 20;

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Page tokens are opaque to clients: "o" + the offset of the next page.
std::string PageToken(int offset) {
  return "o" + std::to_string(offset);
}

void AppendFacet(std::string& out, const char* name, const std::vector<FacetValue>& values) {
  out += '"';
  out += name;
  out += "\":[";
  bool first = true;
  for (const FacetValue& f : values) {
    if (!first) out += ',';
    first = false;
    out += "{\"value\":" + json::Quote(f.value);
    if (!f.name.empty()) out += ",\"name\":" + json::Quote(f.name);
    out += ",\"count\":" + std::to_string(f.count);
    if (f.min_price >= 0) out += ",\"min_price\":" + std::to_string(f.min_price);
    if (f.max_price >= 0) out += ",\"max_price\":" + std::to_string(f.max_price);
    out += '}';
  }
  out += ']';
}

}  // namespace

Result<Query> ParseSearchQuery(const http::Request& req, std::vector<http::FieldError>* errors) {
  Query q;
  q.text = req.QueryParam("q").value_or("");
  if (q.text.size() > kMaxQueryBytes) errors->push_back({"q", "at most 512 bytes"});
  q.category = req.QueryParam("category").value_or("");
  q.brand = req.QueryParam("brand").value_or("");
  q.page_size = kDefaultPageSize;
  if (auto s = req.QueryParam("page_size")) {
    auto v = ParseInt(*s);
    if (!v || *v < 1 || *v > kMaxPageSize) {
      errors->push_back({"page_size", "an integer from 1 to 100"});
    } else {
      q.page_size = static_cast<int>(*v);
    }
  }
  if (auto s = req.QueryParam("page_token"); s && !s->empty()) {
    auto v = s->size() > 1 && (*s)[0] == 'o' ? ParseInt(std::string_view(*s).substr(1)) : std::nullopt;
    if (!v || *v < 0 || *v > kMaxOffset) {
      errors->push_back({"page_token", "not a token this endpoint issued"});
    } else {
      q.offset = static_cast<int>(*v);
    }
  }
  for (auto [name, slot] : {std::pair{"min_price", &q.min_price}, std::pair{"max_price", &q.max_price}}) {
    auto s = req.QueryParam(name);
    if (!s || s->empty()) continue;
    auto v = ParseInt(*s);
    if (!v || *v < 0) {
      errors->push_back({name, "a non-negative integer amount in minor units"});
    } else {
      *slot = *v;
    }
  }
  if (q.min_price && q.max_price && *q.min_price > *q.max_price) {
    errors->push_back({"max_price", "must not be less than min_price"});
  }
  if (auto s = req.QueryParam("in_stock"); s && !s->empty()) {
    if (*s == "true" || *s == "1") {
      q.in_stock_only = true;
    } else if (*s != "false" && *s != "0") {
      errors->push_back({"in_stock", "true or false"});
    }
  }
  if (auto s = req.QueryParam("mode"); s && !s->empty()) {
    if (*s == "keyword") {
      q.mode = SearchMode::kKeyword;
    } else if (*s == "semantic") {
      q.mode = SearchMode::kSemantic;
    } else if (*s == "hybrid") {
      q.mode = SearchMode::kHybrid;
    } else {
      errors->push_back({"mode", "keyword, semantic or hybrid"});
    }
  }
  if (!errors->empty()) return InvalidArgument("invalid search parameters");
  return q;
}

std::string SearchResponseJson(const Query& query, const SearchResult& r) {
  std::string out = "{\"items\":[";
  for (size_t i = 0; i < r.hits.size(); ++i) {
    if (i) out += ',';
    const std::string& s = r.summaries[i];
    // The summary is a JSON object: splice the score in before its closing brace.
    out.append(s, 0, s.size() - 1);
    char score[32];
    std::snprintf(score, sizeof score, ",\"score\":%.4f}", r.hits[i].score);
    out += score;
  }
  out += "],\"total\":" + std::to_string(r.total) + ",\"facets\":{";
  AppendFacet(out, "category", r.facets.category);
  out += ',';
  AppendFacet(out, "brand", r.facets.brand);
  out += ',';
  AppendFacet(out, "price", r.facets.price);
  out += '}';
  if (!r.corrected_query.empty()) out += ",\"corrected_query\":" + json::Quote(r.corrected_query);
  out += ",\"next_page_token\":";
  out += r.more && query.offset + query.page_size <= kMaxOffset
             ? json::Quote(PageToken(query.offset + query.page_size))
             : "null";
  out += ",\"mode\":\"";
  out += ModeName(r.mode);
  out += "\",\"ranker\":" + json::Quote(r.ranker) + '}';
  return out;
}

Status AddRoutes(http::Router& router, HttpDeps deps) {
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/v1/search", [deps](http::Request& req) {
    std::vector<http::FieldError> errors;
    auto q = ParseSearchQuery(req, &errors);
    if (!q.ok()) return http::Problem(400, "invalid search parameters", req.path, errors);
    std::optional<auth::Principal> principal = req.principal;
    if (req.QueryParam("personalize").value_or("") == "false") principal.reset();
    SemanticCandidates semantic;
    if (deps.vectors && q->mode != SearchMode::kKeyword && !q->text.empty())
      semantic = deps.vectors->Candidates(q->text);
    auto r = deps.index.Search(*q, principal, deps.ranker, {}, deps.vectors ? &semantic : nullptr);
    if (!r.ok()) {
      log::Error("search failed", {{"error", r.status().ToString()}});
      return http::ProblemFrom(r.status(), req.path);
    }
    return http::Response::Json(200, SearchResponseJson(*q, *r));
  }));
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/v1/search/suggest", [deps](http::Request& req) {
    std::string q = req.QueryParam("q").value_or("");
    if (q.size() > kMaxQueryBytes)
      return http::Problem(400, "q is too long", req.path, {{"q", "at most 512 bytes"}});
    auto r = deps.index.Suggest(q);
    if (!r.ok()) {
      log::Error("suggest failed", {{"error", r.status().ToString()}});
      return http::ProblemFrom(r.status(), req.path);
    }
    std::string out = "{\"suggestions\":[";
    for (size_t i = 0; i < r->size(); ++i) out += (i ? "," : "") + json::Quote((*r)[i]);
    return http::Response::Json(200, out + "]}");
  }));
  // Products like the given ones by their text, for recommend's content list (docs/search.md).
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kGet, "/v1/internal/search/similar",
      [deps](http::Request& req) {
        std::vector<http::FieldError> errors;
        std::vector<std::string> ids;
        std::string cur;
        for (char c : req.QueryParam("ids").value_or("") + ",") {
          if (c != ',') {
            cur += c;
          } else if (!cur.empty()) {
            ids.push_back(std::move(cur));
            cur.clear();
          }
        }
        if (ids.empty()) errors.push_back({"ids", "required: product ids, comma-separated"});
        if (ids.size() > kMaxSimilarIds) errors.push_back({"ids", "at most 20 ids"});
        int64_t limit = 10;
        if (auto l = req.QueryParam("limit")) {
          auto n = ParseInt(*l);
          if (!n || *n < 1 || *n > 100) errors.push_back({"limit", "must be between 1 and 100"});
          limit = n.value_or(limit);
        }
        if (!errors.empty())
          return http::Problem(400, "invalid similar-products parameters", req.path, errors);
        if (!deps.vectors)
          return http::Problem(
              503, "product vectors are off (no sentence encoder, or --search-semantic=false)", req.path);
        const SemanticCandidates like = deps.vectors->Like(ids, static_cast<size_t>(limit));
        std::string out = "{\"items\":[";
        for (size_t i = 0; i < like.ids.size(); ++i) {
          out += (i ? ",{\"id\":" : "{\"id\":") + json::Quote(like.ids[i]) +
                 ",\"similarity\":" + std::to_string(like.similarity[i]) + "}";
        }
        return http::Response::Json(200, out + "]}");
      },
      http::RouteOptions{.access = auth::Access::kService}));
  return router.Add(
      http::Method::kPost, "/v1/search/rebuild",
      [deps](http::Request& req) {
        auto n = deps.rebuild();
        if (!n.ok()) {
          log::Error("search rebuild failed", {{"error", n.status().ToString()}});
          return http::ProblemFrom(n.status(), req.path);
        }
        return http::Response::Json(200, "{\"indexed\":" + std::to_string(*n) + "}");
      },
      http::RouteOptions{.access = auth::Access::kAdmin, .timeout = Millis(600'000)});
}

}  // namespace emporium::search
