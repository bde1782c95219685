#include "services/search/eval.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_map>

#include "platform/core/random.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/metrics/report.h"
#include "services/search/ltr.h"
#include "services/search/train.h"
#include "services/search/vectors.h"

namespace emporium::search {
namespace {

// Unicode code points of Windows-1252 bytes 0x80..0x9F (0: undefined, kept as U+FFFD).
constexpr char32_t kCp1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                  0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 0;
    if (n == 0 || i + n >= s.size()) return false;
    for (size_t j = 1; j <= n; ++j) {
      if ((static_cast<unsigned char>(s[i + j]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

Result<std::string> ReadAll(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return NotFound("no such file: " + file.string());
  // gzread reads plain files unchanged, so one path serves .csv and .csv.gz.
  gzFile f = gzopen(file.c_str(), "rb");
  if (!f) return NotFound("cannot open " + file.string());
  std::string data;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  bool failed = n < 0;
  gzclose(f);
  if (failed) return InvalidArgument("cannot decompress " + file.string());
  return data;
}

// Splits RFC 4180 CSV into records of fields (quoted fields may hold commas, quotes, newlines).
std::vector<std::vector<std::string>> ParseCsv(std::string_view data) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (quoted) {
      if (c == '"' && i + 1 < data.size() && data[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

std::string ToUtf8(std::string_view text) {
  if (ValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0xA0) {
      AppendUtf8(out, kCp1252[c - 0x80] ? kCp1252[c - 0x80] : 0xFFFD);
    } else {
      AppendUtf8(out, c);
    }
  }
  return out;
}

Result<std::vector<Judgment>> ReadJudgments(const std::filesystem::path& file, size_t* skipped) {
  EMP_ASSIGN_OR_RETURN(std::string data, ReadAll(file));
  auto rows = ParseCsv(data);
  if (rows.empty()) return InvalidArgument(file.string() + " is empty");
  const auto& header = rows.front();
  auto column = [&](std::string_view name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      std::string h = header[i];
      if (!h.empty() && h.front() == '\xEF') h.erase(0, 3);  // UTF-8 byte order mark
      if (h == name) return static_cast<int>(i);
    }
    return -1;
  };
  const int uid = column("product_uid"), title = column("product_title"), query = column("search_term"),
            rel = column("relevance");
  if (uid < 0 || title < 0 || query < 0 || rel < 0) {
    return InvalidArgument(file.string() +
                           ": expected columns product_uid, product_title, search_term, relevance");
  }
  const size_t need = static_cast<size_t>(std::max({uid, title, query, rel})) + 1;
  std::vector<Judgment> out;
  size_t bad = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() == 1 && row[0].empty()) continue;  // blank line
    double relevance = 0;
    if (row.size() < need) {
      ++bad;
      continue;
    }
    const std::string& rs = row[static_cast<size_t>(rel)];
    auto [p, ec] = std::from_chars(rs.data(), rs.data() + rs.size(), relevance);
    if (ec != std::errc() || row[static_cast<size_t>(uid)].empty() ||
        row[static_cast<size_t>(query)].empty()) {
      ++bad;
      continue;
    }
    out.push_back(Judgment{ToUtf8(row[static_cast<size_t>(query)]), row[static_cast<size_t>(uid)],
                           ToUtf8(row[static_cast<size_t>(title)]), relevance});
  }
  if (skipped) *skipped = bad;
  return out;
}

double Gain(double relevance) {
  return std::max(0.0, std::pow(2.0, relevance - 1.0) - 1.0);
}

double Dcg(const std::vector<double>& gains, size_t k) {
  double dcg = 0;
  for (size_t i = 0; i < gains.size() && i < k; ++i)
    dcg += gains[i] / std::log2(static_cast<double>(i) + 2.0);
  return dcg;
}

double Ndcg(const std::vector<std::string>& ranked_ids, const std::map<std::string, double>& judged,
            size_t k) {
  std::vector<double> ideal;
  for (const auto& [id, rel] : judged) ideal.push_back(Gain(rel));
  std::sort(ideal.rbegin(), ideal.rend());
  double idcg = Dcg(ideal, k);
  if (idcg <= 0) return -1;
  std::vector<double> gains;
  for (const std::string& id : ranked_ids) {
    auto it = judged.find(id);
    gains.push_back(it == judged.end() ? 0.0 : Gain(it->second));
  }
  return Dcg(gains, k) / idcg;
}

Result<std::unique_ptr<Index>> BuildEvalIndex(const std::vector<Judgment>& judgments,
                                              const std::filesystem::path& dir) {
  EMP_ASSIGN_OR_RETURN(auto index, Index::Open(dir));
  std::set<std::string> done;
  for (const Judgment& j : judgments) {
    if (!done.insert(j.product_id).second) continue;
    ProductDoc p;
    p.id = j.product_id;
    p.title = j.title;
    p.in_stock = true;
    p.summary_json = "{}";
    EMP_RETURN_IF_ERROR(index->Upsert(p));
  }
  EMP_RETURN_IF_ERROR(index->Commit());
  return index;
}

Result<EvalReport> Evaluate(Index& index, const std::vector<Judgment>& judgments,
                            const SearchOptions& options, size_t k, SearchMode mode,
                            const std::map<std::string, SemanticCandidates>* semantic) {
  std::map<std::string, std::map<std::string, double>> by_query;
  for (const Judgment& j : judgments) by_query[j.query][j.product_id] = j.relevance;
  // Plain BM25 order: the business rules would only reorder by stock, which is uniform here.
  class KeepOrder final : public Ranker {
    std::string Rerank(const Query&, const std::optional<auth::Principal>&, std::vector<Hit>&) override {
      return "none";
    }
  } keep;
  SearchOptions o = options;
  o.facets = false;
  // Keyword: the page is all BM25 needs. Hybrid fuses ranks, so it sees a deeper keyword list.
  o.window = mode == SearchMode::kHybrid ? std::max<size_t>(k, 100) : k;
  const SemanticCandidates none;
  EvalReport report;
  double sum = 0;
  for (const auto& [text, judged] : by_query) {
    Query q;
    q.text = text;
    q.page_size = static_cast<int>(k);
    q.mode = mode;
    const SemanticCandidates* c = nullptr;
    if (semantic) {
      auto it = semantic->find(text);
      c = it == semantic->end() ? &none : &it->second;
    }
    EMP_ASSIGN_OR_RETURN(SearchResult r, index.Search(q, std::nullopt, keep, o, c));
    std::vector<std::string> ids;
    for (const Hit& h : r.hits) ids.push_back(h.product_id);
    double n = Ndcg(ids, judged, k);
    if (n < 0) {
      ++report.excluded;
      continue;
    }
    sum += n;
    ++report.queries;
  }
  report.mean_ndcg = report.queries ? sum / static_cast<double>(report.queries) : 0;
  return report;
}

EvalCorpus::~EvalCorpus() {
  index.reset();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

Result<std::unique_ptr<EvalCorpus>> BuildEvalCorpus(const std::filesystem::path& file,
                                                    std::shared_ptr<const ml::SentenceEncoder> encoder,
                                                    const std::filesystem::path& tmp_root) {
  auto corpus = std::make_unique<EvalCorpus>();
  size_t skipped = 0;
  EMP_ASSIGN_OR_RETURN(corpus->judgments, ReadJudgments(file, &skipped));
  std::set<std::string> products, queries;
  for (const Judgment& j : corpus->judgments) {
    products.insert(j.product_id);
    queries.insert(j.query);
  }
  auto& notes = corpus->notes;
  notes.emplace_back("file", file.filename().string());
  notes.emplace_back("judgments", std::to_string(corpus->judgments.size()) + " rows (" +
                                      std::to_string(skipped) + " skipped)");
  notes.emplace_back("corpus", std::to_string(queries.size()) + " queries, " +
                                   std::to_string(products.size()) + " products (title only)");
  corpus->dir = tmp_root / ("emporium-eval-" + RandomHex(6));
  auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  char note[96];
  EMP_ASSIGN_OR_RETURN(corpus->index, BuildEvalIndex(corpus->judgments, corpus->dir));
  std::snprintf(note, sizeof note, "%.1f s", seconds());
  notes.emplace_back("keyword index built in", note);
  if (!encoder) {
    notes.emplace_back("semantic, hybrid, ranker",
                       "not run: the sentence encoder is not installed (make deps)");
    return corpus;
  }
  started = std::chrono::steady_clock::now();
  EMP_ASSIGN_OR_RETURN(auto vectors, ProductVectors::Open(encoder, VectorsOptions{}));
  EMP_ASSIGN_OR_RETURN(auto indexed, corpus->index->Products());
  vectors->Reconcile(indexed);
  auto last = std::chrono::steady_clock::now();
  EMP_RETURN_IF_ERROR(vectors->Drain([&](size_t done, size_t total) {
    if (std::chrono::steady_clock::now() - last < std::chrono::seconds(2) && done < total) return;
    last = std::chrono::steady_clock::now();
    std::fprintf(stderr, "\rembedding products: %zu / %zu (%.0f/s)", done, total,
                 static_cast<double>(done) / std::max(seconds(), 1e-3));
  }));
  std::fprintf(stderr, "\n");
  std::snprintf(note, sizeof note, "%.1f s (%s)", seconds(), encoder->version().c_str());
  notes.emplace_back("products embedded in", note);
  started = std::chrono::steady_clock::now();
  std::vector<std::string> texts(queries.begin(), queries.end());
  auto found = vectors->Candidates(texts, 100);
  for (size_t i = 0; i < texts.size(); ++i) corpus->semantic.emplace(texts[i], std::move(found[i]));
  std::snprintf(note, sizeof note, "%.1f s", seconds());
  notes.emplace_back("queries embedded in", note);
  // The candidates' similarity_of reads the vectors: keep them as long as the corpus.
  corpus->vectors = std::move(vectors);
  return corpus;
}

Status RunEvalCommand(const std::filesystem::path& file, const EvalCommandOptions& options,
                      const std::filesystem::path& tmp_root, std::ostream& out) {
  const size_t k = options.k;
  EMP_ASSIGN_OR_RETURN(auto corpus, BuildEvalCorpus(file, options.encoder, tmp_root));
  const std::string ndcg = "NDCG@" + std::to_string(k);
  ml::Report report("search", "graded judgments, gain 2^(rel-1)-1, every distinct query");
  report.SetColumns({ndcg, "queries", "excluded", "seconds"});
  for (auto& [key, value] : corpus->notes) report.AddNote(key, value);
  const auto& semantic = corpus->semantic;
  struct Variant {
    std::string name;
    SearchOptions options;
    SearchMode mode = SearchMode::kKeyword;
  };
  std::vector<Variant> variants = {
      {"keyword: bm25 + stemming + synonyms + spelling, all terms then any", SearchOptions{}},
      {"keyword: stemming off", SearchOptions{.stemming = false}},
      {"keyword: all terms only (no any-term fallback)", SearchOptions{.relax_to_or = false}},
      {"keyword: no synonyms, no spelling correction", SearchOptions{.spelling = false, .synonyms = false}},
  };
  if (!semantic.empty()) {
    variants.push_back({"semantic: all-MiniLM-L6-v2, 100 nearest", SearchOptions{}, SearchMode::kSemantic});
    for (double w : {0.5, 1.0, 2.0}) {
      char name[96];
      std::snprintf(name, sizeof name, "hybrid: reciprocal-rank fusion, semantic weight %.1f", w);
      variants.push_back({name, SearchOptions{.semantic_weight = w}, SearchMode::kHybrid});
    }
  }
  for (const Variant& v : variants) {
    auto started = std::chrono::steady_clock::now();
    EMP_ASSIGN_OR_RETURN(EvalReport r, Evaluate(*corpus->index, corpus->judgments, v.options, k, v.mode,
                                                semantic.empty() ? nullptr : &semantic));
    report.AddRow(v.name,
                  {r.mean_ndcg, static_cast<double>(r.queries), static_cast<double>(r.excluded),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
  }
  if (!semantic.empty() && options.folds >= 2) {
    auto started = std::chrono::steady_clock::now();
    EMP_ASSIGN_OR_RETURN(RankExamples examples,
                         CollectRankExamples(*corpus->index, corpus->judgments, semantic, SearchOptions{}));
    char note[96];
    std::snprintf(note, sizeof note, "%zu queries, %zu rows, %zu features, %.1f s", examples.queries.size(),
                  examples.data.rows(), examples.data.cols,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    report.AddNote("ranker examples (hybrid top " + std::to_string(kRerankDepth) + ")", note);
    started = std::chrono::steady_clock::now();
    EMP_ASSIGN_OR_RETURN(CrossValidation cv,
                         CrossValidateRanker(examples, options.folds, k, RankerTrainParams()));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.AddRow("hybrid candidates, same queries as the ranker (no model)",
                  {cv.baseline_ndcg, static_cast<double>(cv.queries), NAN, 0});
    report.AddRow("learned ranker: xgboost rank:ndcg over the hybrid top " + std::to_string(kRerankDepth) +
                      ", " + std::to_string(options.folds) + "-fold query-disjoint cv",
                  {cv.ndcg, static_cast<double>(cv.queries), NAN, secs});
    std::snprintf(note, sizeof note, "%.0f mean (early stopping on 10%% of each training fold)",
                  cv.mean_rounds);
    report.AddNote("ranker rounds", note);
  }
  report.Print(out, options.json);
  return Status::Ok();
}

}  // namespace emporium::search
