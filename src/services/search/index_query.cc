// The read side of Index: query parsing, filters, facets, spelling correction, ranking and the
// page; and title autocomplete.
#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "services/search/index.h"
#include "services/search/index_state.h"

namespace emporium::search {
namespace {

constexpr Xapian::doccount kFacetValues = 20;

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

size_t WordCount(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    bool w = std::isalnum(c) || c >= 0x80;
    if (w && !in_word) ++n;
    in_word = w;
  }
  return n;
}

// Spelling correction of the words the index does not know at all (neither as written nor by
// stem), each to the most frequent indexed word within edit distance 1 (2 for long words).
// Xapian's QueryParser correction is not used: it also "corrects" indexed words to more frequent
// neighbours (rigid -> ridgid), which cost 0.08 NDCG@10 on the Home Depot judgments.
// Returns the corrected text, or "" when nothing changed.
std::string Correct(Xapian::Database& db, const std::string& text) {
  static const Xapian::Stem stem("en");
  auto alnum = [&](size_t j) { return std::isalnum(static_cast<unsigned char>(text[j])) != 0; };
  auto letter = [&](size_t j) { return std::isalpha(static_cast<unsigned char>(text[j])) != 0; };
  std::string out;
  bool changed = false;
  for (size_t i = 0; i < text.size();) {
    if (!letter(i)) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && letter(j)) ++j;
    const std::string word = Lower(text.substr(i, j - i));
    // Words glued to digits ("x12", "2x4") are sizes and codes, not misspellings.
    bool standalone = (i == 0 || !alnum(i - 1)) && (j == text.size() || !alnum(j));
    if (word.size() >= 4 && standalone && !db.term_exists(word) && !db.term_exists("Z" + stem(word))) {
      std::string fix = db.get_spelling_suggestion(word, word.size() >= 8 ? 2 : 1);
      if (!fix.empty() && fix != word) {
        out += fix;
        changed = true;
        i = j;
        continue;
      }
    }
    out.append(text, i, j - i);
    i = j;
  }
  return changed ? out : std::string();
}

// The free-text part, every word required (OP_AND) or any (OP_OR).
Xapian::Query ParseText(Xapian::Database& db, const std::string& text, const SearchOptions& o,
                        Xapian::Query::op op) {
  if (Blank(text)) return Xapian::Query::MatchAll;
  Xapian::QueryParser qp;
  qp.set_database(db);
  qp.set_stemmer(Xapian::Stem("en"));
  qp.set_stemming_strategy(o.stemming ? Xapian::QueryParser::STEM_SOME : Xapian::QueryParser::STEM_NONE);
  qp.set_default_op(op);
  unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE;
  if (o.synonyms) flags |= Xapian::QueryParser::FLAG_AUTO_SYNONYMS;
  Xapian::Query q;
  try {
    q = qp.parse_query(text, flags);
  } catch (const Xapian::QueryParserError&) {
    // Unbalanced quotes and the like: read the words as plain terms.
    q = qp.parse_query(text,
                       flags & ~(Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE));
  }
  return q;
}

Xapian::Query Filters(const Query& q) {
  std::vector<Xapian::Query> parts;
  if (!q.category.empty()) {
    parts.emplace_back(Xapian::Query::OP_OR, Xapian::Query("XK" + Lower(q.category)),
                       Xapian::Query("XP" + Lower(q.category)));
  }
  if (!q.brand.empty()) parts.emplace_back("XB" + Lower(q.brand));
  if (q.in_stock_only) parts.emplace_back("XS1");
  if (q.min_price || q.max_price) {
    double lo = q.min_price ? static_cast<double>(*q.min_price) : 0;
    double hi = q.max_price ? static_cast<double>(*q.max_price) : 1e18;
    parts.emplace_back(Xapian::Query::OP_VALUE_RANGE, kSlotPrice, Xapian::sortable_serialise(lo),
                       Xapian::sortable_serialise(hi));
  }
  if (parts.empty()) return Xapian::Query();
  return Xapian::Query(Xapian::Query::OP_AND, parts.begin(), parts.end());
}

struct Matches {
  Xapian::MSet mset;
  int64_t total = 0;
  Facets facets;
  bool relaxed = false;  // from the any-term fallback
};

std::vector<FacetValue> Top(Xapian::ValueCountMatchSpy& spy) {
  std::vector<FacetValue> out;
  for (auto it = spy.top_values_begin(kFacetValues); it != spy.top_values_end(kFacetValues); ++it) {
    if ((*it).empty()) continue;
    out.push_back(FacetValue{*it, "", static_cast<int64_t>(it.get_termfreq())});
  }
  return out;
}

Matches Match(Xapian::Database& db, const Xapian::Query& text, const Xapian::Query& filter, size_t window,
              bool facets) {
  Xapian::Enquire enquire(db);
  enquire.set_query(filter.empty() ? text : Xapian::Query(Xapian::Query::OP_FILTER, text, filter));
  Xapian::ValueCountMatchSpy category(kSlotCategory), brand(kSlotBrand), price(kSlotPriceBucket);
  if (facets) {
    enquire.add_matchspy(&category);
    enquire.add_matchspy(&brand);
    enquire.add_matchspy(&price);
  }
  Matches m;
  // checkatleast = every document: exact totals, and the spies see every match.
  m.mset = enquire.get_mset(0, static_cast<Xapian::doccount>(window), db.get_doccount());
  m.total = static_cast<int64_t>(m.mset.get_matches_estimated());
  if (!facets) return m;
  m.facets.category = Top(category);
  for (auto& f : m.facets.category) f.name = db.get_metadata("cat:" + f.value);
  m.facets.brand = Top(brand);
  for (auto it = price.values_begin(); it != price.values_end(); ++it) {
    size_t b = static_cast<size_t>(std::stoi(*it));
    if (b >= kPriceBuckets) continue;
    FacetValue f;
    f.min_price = kPriceEdges[b];
    f.max_price = b + 1 < kPriceBuckets ? kPriceEdges[b + 1] - 1 : -1;
    f.value = std::to_string(f.min_price) + "-" + (f.max_price >= 0 ? std::to_string(f.max_price) : "");
    f.count = static_cast<int64_t>(it.get_termfreq());
    m.facets.price.push_back(std::move(f));
  }
  return m;
}

void ReadRating(const Xapian::Document& doc, double& rating, int64_t& count) {
  const std::string c = doc.get_value(kSlotRatingCount);
  count = c.empty() ? 0 : static_cast<int64_t>(Xapian::sortable_unserialise(c));
  const std::string r = doc.get_value(kSlotRating);
  rating = r.empty() ? 0 : Xapian::sortable_unserialise(r);
}

Hit MakeHit(const Xapian::Document& doc, Xapian::docid did) {
  Hit h;
  h.product_id = doc.get_value(kSlotId);
  h.in_stock = doc.get_value(kSlotStock) == "1";
  h.price = static_cast<int64_t>(Xapian::sortable_unserialise(doc.get_value(kSlotPrice)));
  h.docid = did;
  return h;
}

// Gives the first ranker.feature_depth() hits their title and similarity, lets the ranker reorder
// the candidates and cuts the requested page. q is the query as retrieval ran it.
SearchResult Page(Xapian::Database& db, const Query& q, const std::optional<auth::Principal>& principal,
                  Ranker& ranker, const SemanticCandidates* semantic, std::vector<Hit> hits, SearchResult r,
                  size_t offset, size_t page_size) {
  const size_t depth = std::min(hits.size(), ranker.feature_depth());
  std::vector<std::string> unknown;
  for (size_t i = 0; i < depth; ++i) {
    const Xapian::Document doc = db.get_document(hits[i].docid);
    hits[i].title = doc.get_value(kSlotTitle);
    hits[i].category = doc.get_value(kSlotCategoryKey);
    hits[i].brand = doc.get_value(kSlotBrand);
    ReadRating(doc, hits[i].rating, hits[i].rating_count);
    if (!hits[i].has_similarity) unknown.push_back(hits[i].product_id);
  }
  if (q.mode != SearchMode::kKeyword && semantic && semantic->similarity_of && !unknown.empty()) {
    std::vector<float> found = semantic->similarity_of(unknown);
    for (size_t i = 0, j = 0; i < depth && j < found.size(); ++i) {
      if (hits[i].has_similarity) continue;
      if (!std::isnan(found[j])) {
        hits[i].similarity = found[j];
        hits[i].has_similarity = true;
      }
      ++j;
    }
  }
  r.ranker = ranker.Rerank(q, principal, hits);
  r.more = offset + page_size < static_cast<size_t>(r.total);
  if (offset < hits.size()) {
    size_t end = std::min(hits.size(), offset + page_size);
    for (size_t i = offset; i < end; ++i) {
      r.summaries.push_back(db.get_document(hits[i].docid).get_data());
      r.hits.push_back(std::move(hits[i]));
    }
  }
  return r;
}

// The semantic candidates as a Xapian query that matches them and adds no weight, so filters,
// facets and totals apply to them as to keyword matches.
Xapian::Query CandidateQuery(const SemanticCandidates& c) {
  std::vector<Xapian::Query> terms;
  terms.reserve(c.ids.size());
  for (const std::string& id : c.ids) terms.emplace_back("Q" + id);
  return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                       Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()), 0);
}

struct Run {
  Matches m;
  Xapian::Query text;  // the text query that produced m
};

Result<SearchResult> SearchOn(Xapian::Database& db, const Query& q,
                              const std::optional<auth::Principal>& principal, Ranker& ranker,
                              const SearchOptions& o, const SemanticCandidates* semantic) {
  const size_t offset = static_cast<size_t>(std::max(q.offset, 0));
  const size_t page_size = static_cast<size_t>(std::max(q.page_size, 1));
  const size_t window = std::max(o.window, offset + page_size);
  const Xapian::Query filter = Filters(q);
  const std::string text = NormalizeText(q.text);
  SearchMode mode = semantic && !Blank(text) ? q.mode : SearchMode::kKeyword;
  if (mode != SearchMode::kKeyword && semantic->ids.empty()) mode = SearchMode::kKeyword;
  // Hybrid counts facets over the union of both candidate sets, once, below.
  const bool keyword_facets = o.facets && mode == SearchMode::kKeyword;
  auto run = [&](const std::string& t) {
    Run r;
    r.text = ParseText(db, t, o, Xapian::Query::OP_AND);
    r.m = Match(db, r.text, filter, window, keyword_facets);
    if (r.m.total == 0 && o.relax_to_or && WordCount(t) > 1) {
      r.text = ParseText(db, t, o, Xapian::Query::OP_OR);
      r.m = Match(db, r.text, filter, window, keyword_facets);
      r.m.relaxed = true;
    }
    return r;
  };
  SearchResult r;
  r.mode = mode;
  Query retrieved = q;
  retrieved.mode = mode;
  std::unordered_map<std::string, float> similarity;  // of the semantic candidates
  if (mode != SearchMode::kKeyword) {
    for (size_t i = 0; i < semantic->ids.size(); ++i)
      similarity.emplace(semantic->ids[i], semantic->similarity[i]);
  }
  // The semantic candidates that pass the filters, nearest first, numbered.
  auto semantic_hits = [&](const Xapian::MSet& mset) {
    std::vector<Hit> hits;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      Hit h = MakeHit(it.get_document(), *it);
      if (auto s = similarity.find(h.product_id); s != similarity.end()) {
        h.similarity = s->second;
        h.has_similarity = true;
      }
      h.score = h.similarity;
      hits.push_back(std::move(h));
    }
    std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.score > b.score; });
    for (size_t i = 0; i < hits.size(); ++i) hits[i].semantic_rank = static_cast<uint32_t>(i + 1);
    return hits;
  };
  if (mode == SearchMode::kSemantic) {
    Matches m = Match(db, CandidateQuery(*semantic), filter, semantic->ids.size(), o.facets);
    r.total = m.total;
    r.facets = std::move(m.facets);
    return Page(db, retrieved, principal, ranker, semantic, semantic_hits(m.mset), std::move(r), offset,
                page_size);
  }
  Run kw = run(text);
  if (std::string corrected = o.spelling ? Correct(db, text) : ""; !corrected.empty()) {
    Run c = run(corrected);
    // "Found more": more products, or products matching every word where the original needed
    // the any-word fallback.
    if (c.m.total > kw.m.total || (kw.m.relaxed && !c.m.relaxed && c.m.total > 0)) {
      kw = std::move(c);
      r.corrected_query = corrected;
      retrieved.text = corrected;
    }
  }
  std::vector<Hit> hits;
  hits.reserve(kw.m.mset.size());
  for (auto it = kw.m.mset.begin(); it != kw.m.mset.end(); ++it) {
    Hit h = MakeHit(it.get_document(), *it);
    h.score = h.bm25 = it.get_weight();
    h.keyword_rank = static_cast<uint32_t>(hits.size() + 1);
    hits.push_back(std::move(h));
  }
  if (mode == SearchMode::kKeyword) {
    r.total = kw.m.total;
    r.facets = std::move(kw.m.facets);
    return Page(db, retrieved, principal, ranker, semantic, std::move(hits), std::move(r), offset, page_size);
  }
  // Hybrid: the keyword window and the semantic candidates, fused by reciprocal rank; facets and
  // the total over the union.
  Matches both =
      Match(db, Xapian::Query(Xapian::Query::OP_OR, kw.text, CandidateQuery(*semantic)), filter, 0, o.facets);
  r.total = both.total;
  r.facets = std::move(both.facets);
  std::vector<Hit> near =
      semantic_hits(Match(db, CandidateQuery(*semantic), filter, semantic->ids.size(), false).mset);
  std::unordered_map<Xapian::docid, size_t> keyword_index;
  for (size_t i = 0; i < hits.size(); ++i) keyword_index.emplace(hits[i].docid, i);
  for (Hit& n : near) {
    if (auto k = keyword_index.find(n.docid); k != keyword_index.end()) {
      Hit& h = hits[k->second];
      h.semantic_rank = n.semantic_rank;
      h.similarity = n.similarity;
      h.has_similarity = n.has_similarity;
    } else {
      hits.push_back(std::move(n));
    }
  }
  for (Hit& h : hits) {
    h.score = 0;
    if (h.keyword_rank) h.score += 1.0 / (o.rrf_k + static_cast<double>(h.keyword_rank));
    if (h.semantic_rank) h.score += o.semantic_weight / (o.rrf_k + static_cast<double>(h.semantic_rank));
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.score > b.score; });
  return Page(db, retrieved, principal, ranker, semantic, std::move(hits), std::move(r), offset, page_size);
}

}  // namespace

Result<SearchResult> Index::Search(const Query& query, const std::optional<auth::Principal>& principal,
                                   Ranker& ranker, const SearchOptions& options,
                                   const SemanticCandidates* semantic) {
  try {
    State::Lease lease(*state_);
    for (int attempt = 0;; ++attempt) {
      try {
        return SearchOn(lease.db(), query, principal, ranker, options, semantic);
      } catch (const Xapian::DatabaseModifiedError&) {
        if (attempt == 2) throw;
        lease.Reopen();
      }
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
}

Result<std::vector<std::optional<ProductFacts>>> Index::Facts(const std::vector<std::string>& ids) {
  std::vector<std::optional<ProductFacts>> out(ids.size());
  try {
    State::Lease lease(*state_);
    Xapian::Database& db = lease.db();
    for (size_t i = 0; i < ids.size(); ++i) {
      Xapian::PostingIterator it = db.postlist_begin("Q" + ids[i]);
      if (it == db.postlist_end("Q" + ids[i])) continue;
      const Xapian::Document doc = db.get_document(*it);
      ProductFacts f{doc.get_value(kSlotCategoryKey), doc.get_value(kSlotBrand),
                     static_cast<int64_t>(Xapian::sortable_unserialise(doc.get_value(kSlotPrice))),
                     doc.get_value(kSlotTitle), doc.get_value(kSlotStock) == "1"};
      ReadRating(doc, f.rating, f.rating_count);
      out[i] = std::move(f);
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return out;
}

Result<std::vector<std::string>> Index::Suggest(std::string_view prefix, size_t limit) {
  std::vector<std::string> out;
  if (Blank(prefix) || limit == 0) return out;
  try {
    State::Lease lease(*state_);
    Xapian::Database& db = lease.db();
    Xapian::QueryParser qp;
    qp.set_database(db);
    qp.set_default_op(Xapian::Query::OP_AND);
    qp.set_max_expansion(64, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT, Xapian::QueryParser::FLAG_PARTIAL);
    Xapian::Enquire enquire(db);
    enquire.set_query(qp.parse_query(NormalizeText(prefix), Xapian::QueryParser::FLAG_PARTIAL, "S"));
    Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(limit * 4));
    std::set<std::string> seen;
    for (auto it = mset.begin(); it != mset.end() && out.size() < limit; ++it) {
      std::string title = it.get_document().get_value(kSlotTitle);
      if (seen.insert(Lower(title)).second) out.push_back(std::move(title));
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return out;
}

}  // namespace emporium::search
