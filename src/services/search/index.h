// The product search index: a Xapian database under one directory, written by one Index object
// (the catalog event consumer, a rebuild, or the eval command) and searched concurrently.
//
// Documents: one per product, id term "Q<id>". Free text with BM25 field weights through the
// within-document frequency (title 4, brand 3, category path 2, description 1), English
// stemming (both raw and "Z" stemmed terms), spelling data from the unprefixed text, and a small
// built-in synonym list. Filters are boolean terms (category id/path name, brand, stock) and a
// sortable price value; facets count values with ValueCountMatchSpy. docs/search.md has the
// layout.
//
// Thread-safety: every method may be called from any thread. Writes are serialised; searches run
// in parallel on a pool of read-only handles and see the state of the last Commit().
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/auth/principal.h"
#include "platform/core/status.h"
#include "services/search/product.h"
#include "services/search/ranking.h"

namespace emporium::search {

struct SearchOptions {
  bool stemming = true;
  bool spelling = true;  // offer corrected_query
  bool synonyms = true;
  bool relax_to_or = true;  // every term must match; when none does, any term may
  bool facets = true;
  size_t window = 500;  // candidates the ranker sees (grows to cover the requested page)
  // Hybrid: reciprocal-rank fusion, score = 1/(rrf_k + keyword rank) + semantic_weight/(rrf_k +
  // semantic rank), ranks from 1. k = 60 is the usual constant (Cormack et al. 2009); the weight
  // was chosen on the Home Depot development judgments (docs/search.md).
  double rrf_k = 60;
  double semantic_weight = 0.5;
};

struct FacetValue {
  std::string value;  // category id, brand, or price bucket "2500-4999"
  std::string name;   // category name; empty for the others
  int64_t count = 0;
  int64_t min_price = -1;  // price buckets only: inclusive bounds in minor units (-1: open)
  int64_t max_price = -1;
};

struct Facets {
  std::vector<FacetValue> category;
  std::vector<FacetValue> brand;
  std::vector<FacetValue> price;
};

// The products nearest a query in meaning (the product vectors' answer), best first.
struct SemanticCandidates {
  std::vector<std::string> ids;
  std::vector<float> similarity;  // cosine, parallel to ids
  // The cosine of other products to the same query (NaN for a product without a vector); null
  // when unknown. Hybrid search fills Hit::similarity of keyword matches with it.
  std::function<std::vector<float>(const std::vector<std::string>& ids)> similarity_of;
};

// Told of every product the index writes or deletes, under the index's write lock (keep it
// quick): the product vectors follow the index this way, whoever writes it.
class IndexListener {
 public:
  virtual ~IndexListener() = default;
  virtual void Upserted(const ProductDoc& product) = 0;
  virtual void Removed(const std::string& product_id) = 0;
};

// What the index stores for the product vectors of one product.
struct IndexedProduct {
  std::string id;
  int64_t version = 0;
  std::string text;  // EmbeddingText
};

struct SearchResult {
  std::vector<Hit> hits;               // the requested page, ranked
  std::vector<std::string> summaries;  // parallel to hits: ProductDoc::summary_json
  int64_t total = 0;
  Facets facets;
  std::string corrected_query;             // set when the corrected query was used
  bool more = false;                       // a later page exists
  SearchMode mode = SearchMode::kKeyword;  // how candidates were found
  std::string ranker;                      // what ordered them (Ranker::Rerank)
};

class Index {
 public:
  // Opens or creates the index in dir. kFailedPrecondition when another process holds it.
  static Result<std::unique_ptr<Index>> Open(const std::filesystem::path& dir);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  // Adds or replaces the product; skipped (OK) when the index holds a newer version.
  Status Upsert(const ProductDoc& product);
  // Updates stock of an indexed product; OK and no change when it is not indexed.
  Status SetAvailability(const std::string& product_id, bool in_stock, int64_t available);
  Status Remove(const std::string& product_id);
  // Makes the changes durable and visible to searches (no-op when nothing changed).
  Status Commit();
  bool dirty() const;
  Result<std::vector<std::string>> ProductIds();
  // Every product's id, version and embedding text.
  Result<std::vector<IndexedProduct>> Products();
  // Category, brand and price of each product as searches see them (nullopt: not indexed).
  Result<std::vector<std::optional<ProductFacts>>> Facts(const std::vector<std::string>& ids);
  // Set before writes start (null: none).
  void SetListener(IndexListener* listener);
  Result<int64_t> Size();
  // A random id fixed when the index was created: names the event consumer group, so a new
  // index reads the topics from the start.
  const std::string& generation() const;

  // Keyword (BM25) search; with `semantic` and query.mode semantic or hybrid, the candidates
  // come from the vectors (semantic) or from both, fused by reciprocal rank (hybrid). Filters
  // and facets are exact in every mode.
  Result<SearchResult> Search(const Query& query, const std::optional<auth::Principal>& principal,
                              Ranker& ranker, const SearchOptions& options = {},
                              const SemanticCandidates* semantic = nullptr);
  // Distinct titles of products whose title words match `prefix` (the last word may be partial).
  Result<std::vector<std::string>> Suggest(std::string_view prefix, size_t limit = 8);

  struct State;

 private:
  explicit Index(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Lowercases nothing; rewrites "t-shirt"/"t shirt" to "tshirt" so the synonym list can name it.
std::string NormalizeText(std::string_view text);

}  // namespace emporium::search
