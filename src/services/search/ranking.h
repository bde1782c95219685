// A search request, its candidate hits, and the Ranker interface that orders them.
//
// The index retrieves candidates (BM25, the product vectors, or both fused; see index.h); a Ranker
// then reorders the candidate window before the page is cut. BusinessRulesRanker puts in-stock
// products first and keeps the retrieval order otherwise; the learned ranker (ltr.h) scores the
// candidates from what retrieval knew about them. Rankers get the caller's Principal for
// personalization. Rankers must be thread-safe (one instance serves concurrent requests).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/auth/principal.h"

namespace emporium::search {

// keyword: BM25 only; semantic: the nearest products by meaning; hybrid: both, fused.
enum class SearchMode { kKeyword, kSemantic, kHybrid };
std::string_view ModeName(SearchMode mode);

struct Query {
  std::string text;                  // free text; empty matches every product (browse by filters)
  std::string category;              // category id, or the name of any category on the product's path
  std::string brand;                 // exact brand, case-insensitive
  std::optional<int64_t> min_price;  // minor units, inclusive
  std::optional<int64_t> max_price;  // minor units, inclusive
  bool in_stock_only = false;
  int page_size = 20;
  int offset = 0;
  SearchMode mode = SearchMode::kHybrid;
};

struct Hit {
  std::string product_id;
  double score = 0;  // the retrieval order's score: BM25, cosine, or the fused score; then the ranker's
  bool in_stock = false;
  int64_t price = 0;
  uint32_t docid = 0;  // the index's document, to fetch the page's data after ranking
  // What retrieval knew, for learned rankers.
  double bm25 = 0;             // keyword weight (when keyword_rank > 0)
  uint32_t keyword_rank = 0;   // 1-based among the keyword matches; 0: not one
  uint32_t semantic_rank = 0;  // 1-based among the semantic candidates; 0: not one
  float similarity = 0;        // cosine of the product's vector and the query's (when has_similarity)
  bool has_similarity = false;
  // Set for the first Ranker::feature_depth() hits.
  std::string title;
  std::string category;  // category id
  std::string brand;
  double rating = 0;  // average stars (rating_count > 0)
  int64_t rating_count = 0;
};

// What ranking needs of an indexed product outside a search (Index::Facts).
struct ProductFacts {
  std::string category;  // category id
  std::string brand;
  int64_t price = 0;  // minor units
  std::string title;
  bool in_stock = false;
  double rating = 0;
  int64_t rating_count = 0;
};

class Ranker {
 public:
  virtual ~Ranker() = default;
  // Reorders hits (the candidate window, in retrieval order) in place. May drop hits; must not
  // add. query.mode and query.text are what retrieval used (keyword when there were no vectors;
  // the corrected text when spelling correction was taken). Returns the name and model version of
  // what ordered them, for the response, e.g. "business-rules".
  virtual std::string Rerank(const Query& query, const std::optional<auth::Principal>& principal,
                             std::vector<Hit>& hits) = 0;
  // How many of the first hits need the features that cost a lookup: the title, and the
  // similarity of keyword matches the vectors did not return (0: none).
  virtual size_t feature_depth() const { return 0; }
};

// In-stock hits first, then by score (stable: ties keep the retrieval order).
class BusinessRulesRanker final : public Ranker {
 public:
  std::string Rerank(const Query& query, const std::optional<auth::Principal>& principal,
                     std::vector<Hit>& hits) override;
};

}  // namespace emporium::search
