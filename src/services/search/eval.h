// Offline evaluation of search relevance: NDCG@k over graded judgments (the Home Depot
// "Product Search Relevance" CSV: id,product_uid,product_title,search_term,relevance with
// relevance 1 = irrelevant .. 3 = highly relevant).
//
// Gain of a judged product: 2^(relevance - 1) - 1 (so 1 → 0, 2 → 1, 3 → 3); unjudged products
// gain 0. DCG@k = Σ gain_i / log2(i + 1) over ranks i = 1..k; NDCG = DCG / ideal DCG of the
// query's judged products. Queries whose ideal DCG is 0 (every judgment "irrelevant") are
// excluded from the mean. Pure functions and a temp index: thread-compatible.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "services/search/index.h"
#include "services/search/vectors.h"

namespace emporium::ml {
class SentenceEncoder;
}

namespace emporium::search {

struct Judgment {
  std::string query;
  std::string product_id;
  std::string title;
  double relevance = 0;
};

// Reads the CSV (gzip or plain; RFC 4180 quoting; Latin-1/Windows-1252 text is converted to
// UTF-8, valid UTF-8 kept). Rows with a missing field or unparsable relevance are counted in
// *skipped. kNotFound / kInvalidArgument when the file is missing or has no such header.
Result<std::vector<Judgment>> ReadJudgments(const std::filesystem::path& file, size_t* skipped = nullptr);

// Windows-1252 bytes to UTF-8; a string that is already valid UTF-8 is returned unchanged.
std::string ToUtf8(std::string_view text);

double Gain(double relevance);
// DCG@k of gains in rank order.
double Dcg(const std::vector<double>& gains, size_t k);
// NDCG@k of a ranking against the query's judgments (product id → relevance); -1 when the ideal
// DCG is 0 (the query cannot be scored).
double Ndcg(const std::vector<std::string>& ranked_ids, const std::map<std::string, double>& judged,
            size_t k);

// Builds an index with one document per product id (title only) in dir.
Result<std::unique_ptr<Index>> BuildEvalIndex(const std::vector<Judgment>& judgments,
                                              const std::filesystem::path& dir);

struct EvalReport {
  size_t queries = 0;   // scored queries
  size_t excluded = 0;  // queries with ideal DCG 0
  double mean_ndcg = 0;
};

// Runs every distinct query against the index and averages NDCG@k. Semantic and hybrid modes
// take each query's candidates from `semantic` (query text → candidates).
Result<EvalReport> Evaluate(Index& index, const std::vector<Judgment>& judgments,
                            const SearchOptions& options, size_t k, SearchMode mode = SearchMode::kKeyword,
                            const std::map<std::string, SemanticCandidates>* semantic = nullptr);

// What the eval and train commands search: a temporary index of the judged products (title
// only) and, with an encoder, every query's semantic candidates (`eval search --simulated` fills
// the index and vectors with the simulated catalog). The index directory is removed with the
// corpus.
struct EvalCorpus {
  ~EvalCorpus();
  std::filesystem::path dir;
  std::unique_ptr<Index> index;
  std::vector<Judgment> judgments;
  std::map<std::string, SemanticCandidates> semantic;      // empty without an encoder
  std::unique_ptr<ProductVectors> vectors;                 // what semantic's similarity_of reads
  std::vector<std::pair<std::string, std::string>> notes;  // sizes and timings, for the report
};

// Reads the judgments and builds the corpus (embedding progress on stderr).
Result<std::unique_ptr<EvalCorpus>> BuildEvalCorpus(const std::filesystem::path& file,
                                                    std::shared_ptr<const ml::SentenceEncoder> encoder,
                                                    const std::filesystem::path& tmp_root);

struct EvalCommandOptions {
  size_t k = 10;
  bool json = false;
  // The sentence encoder for the semantic, hybrid and learned-ranker rows; null: keyword rows only.
  std::shared_ptr<const ml::SentenceEncoder> encoder;
  size_t folds = 5;  // query-disjoint cross-validation of the learned ranker; 0: no ranker row
};

// The `emporium eval search` run: reads the file, builds a temporary index, prints the table:
// keyword variants (full; stemming off; all-terms without the any-term fallback; no
// synonyms/spelling), then semantic, hybrid and the learned ranker (cross-validated) when there
// is an encoder.
Status RunEvalCommand(const std::filesystem::path& file, const EvalCommandOptions& options,
                      const std::filesystem::path& tmp_root, std::ostream& out);

}  // namespace emporium::search
