#include "services/search/index.h"
#include "services/search/index_state.h"

#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <set>

#include "platform/core/random.h"

namespace emporium::search {
namespace {

// Within-document frequency per occurrence: BM25 then weighs a title word above a brand word,
// a brand word above a category word, and so on.
constexpr Xapian::termcount kTitleWeight = 4;
constexpr Xapian::termcount kBrandWeight = 3;
constexpr Xapian::termcount kCategoryWeight = 2;
constexpr Xapian::termcount kDescriptionWeight = 1;

// Pairs of words that mean the same product; both directions are added.
constexpr std::pair<const char*, const char*> kSynonyms[] = {
    {"tee", "tshirt"},           {"sneaker", "trainer"},   {"tv", "television"},
    {"fridge", "refrigerator"},  {"couch", "sofa"},        {"laptop", "notebook"},
    {"cellphone", "smartphone"}, {"hoodie", "sweatshirt"}, {"sneakers", "trainers"},
};
constexpr const char* kSynonymsVersion = "1";

size_t PriceBucket(int64_t price) {
  size_t b = 0;
  while (b + 1 < kPriceBuckets && price >= kPriceEdges[b + 1]) ++b;
  return b;
}

std::string BucketValue(size_t b) {
  std::string s = std::to_string(b);
  return s.size() < 2 ? "0" + s : s;
}

}  // namespace

Status FromXapian(const Xapian::Error& e) {
  return Internal("search index: " + e.get_description());
}

std::string NormalizeText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    bool boundary = i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]));
    if (boundary && (text[i] == 't' || text[i] == 'T') && i + 6 <= text.size() &&
        (text[i + 1] == '-' || text[i + 1] == ' ') && Lower(text.substr(i + 2, 5)) == "shirt") {
      out += text[i];
      out += text.substr(i + 2, 5);
      i += 6;
      continue;
    }
    out += text[i];
  }
  return out;
}

Index::Index(std::unique_ptr<State> state) : state_(std::move(state)) {}
Index::~Index() {
  if (!state_) return;
  std::lock_guard lock(state_->write_mu);
  try {
    if (state_->writer) state_->writer->close();
  } catch (const Xapian::Error&) {
    // Closing only releases the lock; uncommitted changes are dropped by design.
  }
}

Result<std::unique_ptr<Index>> Index::Open(const std::filesystem::path& dir) {
  auto s = std::make_unique<State>();
  s->dir = dir;
  try {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return FailedPrecondition("cannot create search index directory " + dir.string() + ": " + ec.message());
    s->writer = std::make_unique<Xapian::WritableDatabase>(dir.string(), Xapian::DB_CREATE_OR_OPEN);
    Xapian::WritableDatabase& db = *s->writer;
    s->generation = db.get_metadata("generation");
    if (s->generation.empty()) {
      s->generation = RandomHex(6);
      db.set_metadata("generation", s->generation);
    }
    if (db.get_metadata("synonyms") != kSynonymsVersion) {
      Xapian::Stem stem("en");
      for (auto [a, b] : kSynonyms) {
        for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
          db.add_synonym(from, to);
          db.add_synonym("Z" + stem(from), "Z" + stem(to));
        }
      }
      db.set_metadata("synonyms", kSynonymsVersion);
    }
    db.commit();
    s->tg.set_database(db);
    s->tg.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
    s->tg.set_stemmer(Xapian::Stem("en"));
    s->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
  } catch (const Xapian::DatabaseLockError&) {
    return FailedPrecondition("search index " + dir.string() +
                              " is in use by another process (stop the running server first)");
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return std::unique_ptr<Index>(new Index(std::move(s)));
}

const std::string& Index::generation() const {
  return state_->generation;
}

bool Index::dirty() const {
  std::lock_guard lock(state_->write_mu);
  return state_->dirty;
}

Status Index::Upsert(const ProductDoc& p) {
  State& s = *state_;
  std::lock_guard lock(s.write_mu);
  try {
    Xapian::WritableDatabase& db = *s.writer;
    const std::string id_term = "Q" + p.id;
    if (auto it = db.postlist_begin(id_term); it != db.postlist_end(id_term)) {
      std::string v = db.get_document(*it).get_value(kSlotVersion);
      if (!v.empty() && Xapian::sortable_unserialise(v) > static_cast<double>(p.version)) return Status::Ok();
    }
    Xapian::Document doc;
    s.tg.set_document(doc);
    const std::string title = NormalizeText(p.title);
    s.tg.index_text(title, kTitleWeight);
    s.tg.increase_termpos();
    s.tg.index_text(title, 1, "S");  // title-only terms for autocomplete
    s.tg.increase_termpos();
    s.tg.index_text(p.brand, kBrandWeight);
    s.tg.increase_termpos();
    for (const auto& name : p.category_path) {
      s.tg.index_text(NormalizeText(name), kCategoryWeight);
      s.tg.increase_termpos();
      doc.add_boolean_term("XP" + Lower(name));
    }
    s.tg.index_text(NormalizeText(p.description), kDescriptionWeight);

    doc.add_boolean_term(id_term);
    if (!p.category_id.empty()) doc.add_boolean_term("XK" + Lower(p.category_id));
    if (!p.brand.empty()) doc.add_boolean_term("XB" + Lower(p.brand));
    doc.add_boolean_term(p.in_stock ? "XS1" : "XS0");
    doc.add_value(kSlotId, p.id);
    doc.add_value(kSlotTitle, p.title);
    doc.add_value(kSlotPrice, Xapian::sortable_serialise(static_cast<double>(p.price)));
    doc.add_value(kSlotCategory, p.category_id);
    doc.add_value(kSlotBrand, p.brand);
    doc.add_value(kSlotPriceBucket, BucketValue(PriceBucket(p.price)));
    doc.add_value(kSlotStock, p.in_stock ? "1" : "0");
    doc.add_value(kSlotVersion, Xapian::sortable_serialise(static_cast<double>(p.version)));
    doc.add_value(kSlotEmbedText, EmbeddingText(p));
    if (p.rating_count > 0) doc.add_value(kSlotRating, Xapian::sortable_serialise(p.rating));
    doc.add_value(kSlotCategoryKey, CategoryKey(p));
    doc.add_value(kSlotRatingCount, Xapian::sortable_serialise(static_cast<double>(p.rating_count)));
    doc.set_data(p.summary_json);
    db.replace_document(id_term, doc);
    if (s.listener) s.listener->Upserted(p);
    if (!p.category_id.empty()) {
      const std::string key = "cat:" + p.category_id;
      if (db.get_metadata(key) != p.category_name) db.set_metadata(key, p.category_name);
    }
    s.dirty = true;
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return Status::Ok();
}

Status Index::SetAvailability(const std::string& product_id, bool in_stock, int64_t available) {
  State& s = *state_;
  std::lock_guard lock(s.write_mu);
  try {
    Xapian::WritableDatabase& db = *s.writer;
    const std::string id_term = "Q" + product_id;
    auto it = db.postlist_begin(id_term);
    if (it == db.postlist_end(id_term)) return Status::Ok();
    Xapian::docid did = *it;
    Xapian::Document doc = db.get_document(did);
    // Only a flip of in_stock touches the terms: Xapian rewrites just the data of a document
    // whose terms are unmodified (most stock changes are counts).
    if (doc.get_value(kSlotStock) != (in_stock ? "1" : "0")) {
      for (const char* t : {"XS0", "XS1"}) {
        auto term = doc.termlist_begin();
        term.skip_to(t);
        if (term != doc.termlist_end() && *term == t) doc.remove_term(t);
      }
      doc.add_boolean_term(in_stock ? "XS1" : "XS0");
      doc.add_value(kSlotStock, in_stock ? "1" : "0");
    }
    doc.set_data(WithAvailability(doc.get_data(), in_stock, available));
    db.replace_document(did, doc);
    s.dirty = true;
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return Status::Ok();
}

Status Index::Remove(const std::string& product_id) {
  State& s = *state_;
  std::lock_guard lock(s.write_mu);
  try {
    s.writer->delete_document("Q" + product_id);
    s.dirty = true;
    if (s.listener) s.listener->Removed(product_id);
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return Status::Ok();
}

Status Index::Commit() {
  State& s = *state_;
  std::lock_guard lock(s.write_mu);
  if (!s.dirty) return Status::Ok();
  try {
    s.writer->commit();
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  s.dirty = false;
  s.commits.fetch_add(1);
  return Status::Ok();
}

Result<std::vector<std::string>> Index::ProductIds() {
  State& s = *state_;
  std::lock_guard lock(s.write_mu);
  std::vector<std::string> ids;
  try {
    for (auto it = s.writer->allterms_begin("Q"); it != s.writer->allterms_end("Q"); ++it) {
      ids.push_back((*it).substr(1));
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return ids;
}

Result<std::vector<IndexedProduct>> Index::Products() {
  State& s = *state_;
  std::lock_guard lock(s.write_mu);
  std::vector<IndexedProduct> out;
  try {
    Xapian::WritableDatabase& db = *s.writer;
    for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
      Xapian::Document doc = db.get_document(*it);
      IndexedProduct p;
      p.id = doc.get_value(kSlotId);
      std::string v = doc.get_value(kSlotVersion);
      p.version = v.empty() ? 0 : static_cast<int64_t>(Xapian::sortable_unserialise(v));
      p.text = doc.get_value(kSlotEmbedText);
      // Indexed before the vectors existed: the title and brand are what the index still has.
      if (p.text.empty()) p.text = doc.get_value(kSlotTitle) + ". " + doc.get_value(kSlotBrand);
      out.push_back(std::move(p));
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
  return out;
}

void Index::SetListener(IndexListener* listener) {
  std::lock_guard lock(state_->write_mu);
  state_->listener = listener;
}

Result<int64_t> Index::Size() {
  try {
    State::Lease lease(*state_);
    return static_cast<int64_t>(lease.db().get_doccount());
  } catch (const Xapian::Error& e) {
    return FromXapian(e);
  }
}

}  // namespace emporium::search
