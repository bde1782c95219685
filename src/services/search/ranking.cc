#include "services/search/ranking.h"

#include <algorithm>

namespace emporium::search {

std::string_view ModeName(SearchMode mode) {
  switch (mode) {
    case SearchMode::kKeyword: return "keyword";
    case SearchMode::kSemantic: return "semantic";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "keyword";
}

std::string BusinessRulesRanker::Rerank(const Query&, const std::optional<auth::Principal>&,
                                        std::vector<Hit>& hits) {
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.in_stock != b.in_stock) return a.in_stock;
    return a.score > b.score;
  });
  return "business-rules";
}

}  // namespace emporium::search
