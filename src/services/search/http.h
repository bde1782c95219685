// HTTP routes of the search module: request parsing and validation, JSON out. No Xapian here.
// Thread-safety: the handlers are called concurrently; the Index and Ranker are thread-safe.
#pragma once

#include <functional>

#include "platform/core/status.h"
#include "platform/http/problem.h"
#include "platform/http/router.h"
#include "services/search/index.h"
#include "services/search/ranking.h"
#include "services/search/vectors.h"

namespace emporium::search {

struct HttpDeps {
  Index& index;
  Ranker& ranker;
  // Re-indexes from catalog (POST /v1/search/rebuild); returns the product count.
  std::function<Result<int64_t>()> rebuild;
  // Semantic and hybrid candidates; null without the sentence encoder (keyword only).
  const ProductVectors* vectors = nullptr;
};

// The query of GET /v1/search, or field errors (page_size, page_token, min_price, ...).
Result<Query> ParseSearchQuery(const http::Request& req, std::vector<http::FieldError>* errors);
// {"items":[..., "score"], "total", "facets", "corrected_query"?, "next_page_token", "mode",
// "ranker"}
std::string SearchResponseJson(const Query& query, const SearchResult& result);

Status AddRoutes(http::Router& router, HttpDeps deps);

}  // namespace emporium::search
