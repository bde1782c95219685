// A search request, its candidate hits, and the Ranker interface that orders them.
//
// The index retrieves candidates by BM25 (see index.h); a Ranker then reorders the candidate
// window before the page is cut. Today's ranker applies business rules (in stock first, then
// BM25 score); a personalization model implements the same interface later and gets the caller's
// Principal. Rankers must be thread-safe (one instance serves concurrent requests).
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
  double score = 0;  // BM25 (0 for an empty query)
  bool in_stock = false;
  int64_t price = 0;
  uint32_t docid = 0;  // the index's document, to fetch the page's data after ranking
};

class Ranker {
 public:
  virtual ~Ranker() = default;
  // Reorders hits (the candidate window, in BM25 order) in place. May drop hits; must not add.
  virtual void Rerank(const Query& query, const std::optional<auth::Principal>& principal,
                      std::vector<Hit>& hits) = 0;
  // Names the ranker and its model version in responses, e.g. "business-rules".
  virtual std::string version() const = 0;
};

// In-stock hits first, then by score (stable: ties keep BM25 order).
class BusinessRulesRanker final : public Ranker {
 public:
  void Rerank(const Query& query, const std::optional<auth::Principal>& principal,
              std::vector<Hit>& hits) override;
  std::string version() const override { return "business-rules"; }
};

}  // namespace emporium::search
