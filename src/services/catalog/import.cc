#include "services/catalog/import.h"

#include <boost/json/object.hpp>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "platform/core/json.h"
#include "services/catalog/core.h"
#include "services/catalog/csv.h"
#include "services/catalog/text.h"

namespace emporium::catalog {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxExamples = 3;
constexpr size_t kMaxDescriptionBytes = 20000;

struct Mapping {
  std::string title, brand, description, price, price_minor, currency, sku, rating, rating_count, stock;
  std::vector<std::string> category;                       // columns, root level first
  std::vector<std::pair<std::string, std::string>> attrs;  // attribute name, column
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(Trim(cur));
  return out;
}

Result<Mapping> ParseMapping(const std::string& text) {
  Mapping m;
  for (const std::string& entry : Split(text, ',')) {
    if (entry.empty()) continue;
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      return InvalidArgument("--map entry '" + entry + "' is not target=Column");
    std::string target = Trim(entry.substr(0, eq));
    std::string column = Trim(entry.substr(eq + 1));
    std::string* slot = target == "title"          ? &m.title
                        : target == "brand"        ? &m.brand
                        : target == "description"  ? &m.description
                        : target == "price"        ? &m.price
                        : target == "price_minor"  ? &m.price_minor
                        : target == "currency"     ? &m.currency
                        : target == "sku"          ? &m.sku
                        : target == "rating"       ? &m.rating
                        : target == "rating_count" ? &m.rating_count
                        : target == "stock"        ? &m.stock
                                                   : nullptr;
    if (slot) {
      *slot = column;
    } else if (target == "category") {
      m.category = Split(column, '>');
    } else if (target.rfind("attr.", 0) == 0 && target.size() > 5) {
      m.attrs.emplace_back(target.substr(5), column);
    } else {
      return InvalidArgument("--map target '" + target +
                             "' is unknown (title, brand, description, price, price_minor, currency, sku, "
                             "rating, rating_count, stock, category, attr.<name>)");
    }
  }
  if (m.title.empty()) return InvalidArgument("--map must map title (title=Column)");
  if (m.price.empty() && m.price_minor.empty()) return InvalidArgument("--map must map price or price_minor");
  return m;
}

std::vector<std::string> MappedColumns(const Mapping& m) {
  std::vector<std::string> out;
  for (const std::string* c : {&m.title, &m.brand, &m.description, &m.price, &m.price_minor, &m.currency,
                               &m.sku, &m.rating, &m.rating_count, &m.stock}) {
    if (!c->empty()) out.push_back(*c);
  }
  for (const auto& c : m.category) out.push_back(c);
  for (const auto& a : m.attrs) out.push_back(a.second);
  return out;
}

// One input record: column name → value (already UTF-8).
class Record {
 public:
  virtual ~Record() = default;
  virtual std::string Get(const std::string& column) const = 0;
};

class CsvRecord final : public Record {
 public:
  CsvRecord(const std::unordered_map<std::string, size_t>& index, const std::vector<std::string>& fields)
      : index_(index), fields_(fields) {}
  std::string Get(const std::string& column) const override {
    if (column.empty()) return {};
    auto it = index_.find(column);
    if (it == index_.end() || it->second >= fields_.size()) return {};
    return Trim(ToUtf8(fields_[it->second]));
  }

 private:
  const std::unordered_map<std::string, size_t>& index_;
  const std::vector<std::string>& fields_;
};

class JsonRecord final : public Record {
 public:
  explicit JsonRecord(const boost::json::object& o) : o_(o) {}
  std::string Get(const std::string& column) const override {
    auto v = column.empty() ? nullptr : o_.if_contains(column);
    if (!v || v->is_null()) return {};
    if (v->is_string()) return Trim(ToUtf8(v->as_string()));
    if (v->is_int64()) return std::to_string(v->as_int64());
    if (v->is_uint64()) return std::to_string(v->as_uint64());
    if (v->is_double()) {
      std::ostringstream s;
      s << std::setprecision(15) << v->as_double();
      return s.str();
    }
    if (v->is_bool()) return v->as_bool() ? "true" : "false";
    return json::Dump(*v);
  }

 private:
  const boost::json::object& o_;
};

std::optional<int64_t> ParseCount(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || !(v >= 0) || v > 1e12) return std::nullopt;
  return static_cast<int64_t>(v);
}

class Importer {
 public:
  Importer(Catalog& catalog, const ImportOptions& o, const Mapping& m, std::ostream* progress)
      : catalog_(catalog), o_(o), m_(m), progress_(progress) {
    root_ = o.category_root.empty() ? std::vector<std::string>{} : Split(o.category_root, '>');
  }

  // Turns a record into a pending product, or counts why it is skipped.
  Status Add(const Record& r, int64_t line) {
    ++report_.rows;
    NewProduct p;
    p.title = r.Get(m_.title);
    if (p.title.empty()) return Skip("missing title", line, "");
    p.brand = r.Get(m_.brand);
    p.description = r.Get(m_.description);
    if (p.description.size() > kMaxDescriptionBytes) {
      size_t cut = kMaxDescriptionBytes;
      while (cut > 0 && (static_cast<unsigned char>(p.description[cut]) & 0xC0) == 0x80) --cut;
      p.description.resize(cut);
    }
    std::string currency = m_.currency.empty() ? o_.currency : r.Get(m_.currency);
    if (currency.empty()) currency = o_.currency;
    p.price.currency = currency;
    if (!m_.price_minor.empty()) {
      auto v = ParseCount(r.Get(m_.price_minor));
      if (!v) return Skip(r.Get(m_.price_minor).empty() ? "missing price" : "bad price", line, p.title);
      p.price.amount = *v;
    } else {
      std::string text = r.Get(m_.price);
      if (text.empty()) return Skip("missing price", line, p.title);
      auto v = ParseMajorUnits(text, MinorDigits(currency));
      if (!v.ok()) return Skip("bad price", line, p.title + " (" + text + ")");
      p.price.amount = *v;
    }
    if (!m_.sku.empty()) {
      std::string raw = r.Get(m_.sku);
      if (!raw.empty()) p.sku = o_.sku_prefix + raw;
      if (!p.sku.empty() && !skus_.insert(p.sku).second)
        return Skip("duplicate sku in the file", line, p.sku);
    }
    if (!m_.rating.empty()) {
      std::string text = r.Get(m_.rating);
      char* end = nullptr;
      double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
      if (!text.empty() && *end == '\0' && v >= 0 && v <= 5) {
        p.rating_average = v;
        auto count = ParseCount(r.Get(m_.rating_count));
        p.rating_count = count ? *count : (v > 0 ? 1 : 0);
      }
    }
    int64_t stock = o_.stock;
    if (!m_.stock.empty()) stock = ParseCount(r.Get(m_.stock)).value_or(o_.stock);
    p.stock = {{o_.warehouse, stock}};
    boost::json::object attrs;
    for (const auto& [name, column] : m_.attrs) {
      std::string v = r.Get(column);
      if (!v.empty()) attrs[name] = v;
    }
    p.attributes_json = json::Dump(attrs);

    std::vector<std::string> path = root_;
    for (const auto& column : m_.category) {
      std::string v = r.Get(column);
      std::vector<std::string> levels =
          o_.category_separator.empty() ? std::vector<std::string>{v} : Split(v, o_.category_separator[0]);
      for (auto& l : levels) {
        if (!l.empty()) path.push_back(l.substr(0, 100));
      }
    }
    if (path.empty()) path = {"Imported"};
    EMP_ASSIGN_OR_RETURN(p.category_id, CategoryFor(path));

    FieldErrors errors;
    ValidateNewProduct(p, errors);
    if (!errors.empty()) return Skip("invalid " + errors[0].field + ": " + errors[0].message, line, p.title);
    pending_.push_back(std::move(p));
    pending_lines_.push_back(line);
    if (static_cast<int>(pending_.size()) >= o_.batch) EMP_RETURN_IF_ERROR(Flush());
    Progress(false);
    return Status::Ok();
  }

  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    // SKUs already in the catalog (an earlier import of the same file) are skipped.
    std::vector<bool> taken(pending_.size(), false);
    EMP_RETURN_IF_ERROR(catalog_.store().db().Transact([&](sql::Tx& tx) -> Status {
      for (size_t i = 0; i < pending_.size(); ++i) {
        if (pending_[i].sku.empty()) continue;
        EMP_ASSIGN_OR_RETURN(bool t, catalog_.store().SkuExists(tx, pending_[i].sku));
        taken[i] = t;
      }
      return Status::Ok();
    }));
    std::vector<NewProduct> batch;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (taken[i]) {
        Count("sku already in the catalog", pending_lines_[i], pending_[i].sku);
      } else {
        batch.push_back(std::move(pending_[i]));
      }
    }
    pending_.clear();
    pending_lines_.clear();
    Status s = catalog_.InsertBatch(batch);
    if (s.code() == Code::kAlreadyExists) {
      // Someone else inserted one of these SKUs meanwhile: fall back to one row at a time.
      for (const auto& p : batch) {
        Status one = catalog_.InsertBatch({p});
        if (one.code() == Code::kAlreadyExists) {
          Count("sku already in the catalog", 0, p.sku);
          continue;
        }
        EMP_RETURN_IF_ERROR(one);
        ++report_.imported;
      }
      return Status::Ok();
    }
    EMP_RETURN_IF_ERROR(s);
    report_.imported += static_cast<int64_t>(batch.size());
    return Status::Ok();
  }

  void Progress(bool final) {
    if (!progress_ || !in_) return;
    auto now = Clock::now();
    if (!final && now - last_progress_ < std::chrono::milliseconds(250)) return;
    last_progress_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    *progress_ << "\rimport catalog: " << report_.rows << " rows, " << report_.imported << " imported, "
               << static_cast<int64_t>(secs > 0 ? static_cast<double>(report_.rows) / secs : 0) << " rows/s";
    if (in_->size() > 0) {
      *progress_ << ", " << std::min<int64_t>(100, in_->consumed() * 100 / in_->size()) << "%";
    }
    *progress_ << "   " << (final ? "\n" : "") << std::flush;
  }

  void set_input(InputFile* in) { in_ = in; }
  ImportReport& report() { return report_; }
  void Finish() { report_.seconds = std::chrono::duration<double>(Clock::now() - start_).count(); }

  Status Skip(const std::string& reason, int64_t line, const std::string& example) {
    Count(reason, line, example);
    return Status::Ok();
  }

 private:
  void Count(const std::string& reason, int64_t line, const std::string& example) {
    ++report_.skipped;
    auto& r = report_.reasons[reason];
    ++r.count;
    if (r.examples.size() < kMaxExamples) {
      std::string e = line > 0 ? "line " + std::to_string(line) : "row";
      if (!example.empty()) e += ": " + example.substr(0, 80);
      r.examples.push_back(e);
    }
  }

  Result<std::string> CategoryFor(const std::vector<std::string>& path) {
    std::string key;
    for (const auto& p : path) key += p + '\x1f';
    if (auto it = categories_.find(key); it != categories_.end()) return it->second;
    EMP_ASSIGN_OR_RETURN(Category c, catalog_.EnsureCategoryPath(path));
    categories_[key] = c.id;
    return c.id;
  }

  Catalog& catalog_;
  const ImportOptions& o_;
  const Mapping& m_;
  std::ostream* progress_;
  InputFile* in_ = nullptr;
  std::vector<std::string> root_;
  std::vector<NewProduct> pending_;
  std::vector<int64_t> pending_lines_;
  std::unordered_set<std::string> skus_;
  std::unordered_map<std::string, std::string> categories_;
  ImportReport report_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_progress_{};
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int MinorDigits(std::string_view currency) {
  static const std::string_view kZero[] = {"JPY", "KRW", "VND", "CLP", "ISK",
                                           "UGX", "XAF", "XOF", "PYG", "RWF"};
  for (auto z : kZero) {
    if (z == currency) return 0;
  }
  return 2;
}

Result<int64_t> ParseMajorUnits(std::string_view text, int minor_digits) {
  std::string t = Trim(text);
  int64_t major = 0;
  size_t i = 0;
  bool digits = false;
  for (; i < t.size() && t[i] != '.'; ++i) {
    if (t[i] == ',') continue;
    if (t[i] < '0' || t[i] > '9' || major > 100'000'000'000) return InvalidArgument("not a price: " + t);
    major = major * 10 + (t[i] - '0');
    digits = true;
  }
  std::string frac;
  if (i < t.size()) {
    for (++i; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9') return InvalidArgument("not a price: " + t);
      frac += t[i];
    }
  }
  if (!digits && frac.empty()) return InvalidArgument("not a price: " + t);
  int64_t scale = 1;
  for (int k = 0; k < minor_digits; ++k) scale *= 10;
  int64_t minor = 0;
  for (int k = 0; k < minor_digits; ++k)
    minor = minor * 10 + (k < static_cast<int>(frac.size()) ? frac[k] - '0' : 0);
  // Round half up on the first dropped digit.
  if (static_cast<int>(frac.size()) > minor_digits && frac[minor_digits] >= '5') ++minor;
  return major * scale + minor;
}

Result<ImportReport> ImportCatalog(Catalog& catalog, const std::string& path, const ImportOptions& options,
                                   std::ostream* progress) {
  EMP_ASSIGN_OR_RETURN(Mapping m, ParseMapping(options.map));
  std::string format = options.format;
  if (format.empty()) {
    format = EndsWith(path, ".jsonl") || EndsWith(path, ".jsonl.gz") || EndsWith(path, ".ndjson") ? "jsonl"
                                                                                                  : "csv";
  }
  if (format != "csv" && format != "jsonl") return InvalidArgument("--format must be csv or jsonl");
  if (options.batch < 1) return InvalidArgument("--batch must be positive");
  EMP_ASSIGN_OR_RETURN(auto in, InputFile::Open(path));
  Importer importer(catalog, options, m, progress);
  importer.set_input(in.get());

  if (format == "csv") {
    CsvReader reader(*in, options.delimiter);
    std::vector<std::string> fields;
    if (!reader.Next(fields)) return InvalidArgument(path + " is empty (a CSV file needs a header row)");
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < fields.size(); ++i) {
      std::string name = Trim(ToUtf8(fields[i]));
      if (i == 0 && name.rfind("\xEF\xBB\xBF", 0) == 0) name = name.substr(3);  // UTF-8 byte order mark
      if (!name.empty()) index.try_emplace(name, i);
    }
    for (const auto& column : MappedColumns(m)) {
      if (index.count(column)) continue;
      std::string have;
      for (const auto& f : fields) have += (have.empty() ? "" : ", ") + Trim(ToUtf8(f));
      return InvalidArgument("column '" + column + "' is not in the header (columns: " + have + ")");
    }
    while (reader.Next(fields)) {
      bool blank = true;
      for (const auto& f : fields) blank = blank && Trim(f).empty();
      if (blank) continue;
      EMP_RETURN_IF_ERROR(importer.Add(CsvRecord(index, fields), reader.line()));
    }
  } else {
    std::string line;
    int64_t n = 0;
    while (ReadLine(*in, line)) {
      ++n;
      if (Trim(line).empty()) continue;
      auto v = json::Parse(line);
      if (!v.ok() || !v->is_object()) {
        ++importer.report().rows;
        EMP_RETURN_IF_ERROR(importer.Skip("not a JSON object", n, line.substr(0, 40)));
        continue;
      }
      EMP_RETURN_IF_ERROR(importer.Add(JsonRecord(v->as_object()), n));
    }
  }
  if (!in->error().empty()) return Internal("reading " + path + ": " + in->error());
  EMP_RETURN_IF_ERROR(importer.Flush());
  importer.Finish();
  importer.Progress(true);
  return importer.report();
}

std::string FormatReport(const ImportReport& r) {
  std::ostringstream out;
  out << "rows read: " << r.rows << "\nimported: " << r.imported << "\nskipped: " << r.skipped << "\n";
  for (const auto& [reason, info] : r.reasons) {
    out << "  " << reason << ": " << info.count << "\n";
    for (const auto& e : info.examples) out << "    e.g. " << e << "\n";
  }
  out << std::fixed << std::setprecision(1) << "time: " << r.seconds << " s ("
      << static_cast<int64_t>(r.seconds > 0 ? static_cast<double>(r.rows) / r.seconds : 0) << " rows/s)\n";
  return out.str();
}

std::vector<config::Key> ImportKeys() {
  using config::Type;
  return {
      {"format", Type::kString, "", "csv or jsonl (default: from the file name)."},
      {"map", Type::kString, "",
       "target=Column pairs: title, brand, description, price (decimal major units), price_minor, currency, "
       "sku, "
       "rating, rating_count, stock, category (Col1>Col2 joins columns as levels), attr.<name>."},
      {"currency", Type::kString, "USD",
       "ISO 4217 currency of the prices (unless a currency column is mapped)."},
      {"category-root", Type::kString, "", "Category levels above every mapped category, e.g. Fashion."},
      {"category-separator", Type::kString, "", "Also split category values on this character, e.g. >."},
      {"sku-prefix", Type::kString, "", "Prefix of SKUs taken from the sku column."},
      {"stock", Type::kInt, "10", "On-hand units per product when no stock column is mapped."},
      {"warehouse", Type::kString, "wh-1", "Warehouse of the imported stock."},
      {"delimiter", Type::kString, ",", "CSV field delimiter (one character, or 'tab')."},
      {"batch", Type::kInt, "1000", "Products per transaction."},
  };
}

int ImportCommand(Runtime& rt, const std::vector<std::string>& positional) {
  if (positional.size() != 1) {
    std::cerr << "usage: emporium import catalog FILE --map=title=Col,price=Col,... [--format=csv|jsonl]\n";
    return 2;
  }
  const config::Config& c = rt.config();
  ImportOptions o;
  o.format = c.Get("format");
  o.map = c.Get("map");
  o.currency = c.Get("currency");
  o.category_root = c.Get("category-root");
  o.category_separator = c.Get("category-separator");
  o.sku_prefix = c.Get("sku-prefix");
  o.stock = c.Int("stock");
  o.warehouse = c.Get("warehouse");
  o.delimiter = c.Get("delimiter") == "tab" ? '\t' : c.Get("delimiter").empty() ? ',' : c.Get("delimiter")[0];
  o.batch = static_cast<int>(c.Int("batch"));
  Core core;
  if (Status s = core.Open(rt); !s.ok()) {
    std::cerr << "emporium import catalog: " << s.ToString() << "\n";
    return 1;
  }
  auto report = ImportCatalog(core.catalog(), positional[0], o, &std::cerr);
  if (!report.ok()) {
    std::cerr << "\nemporium import catalog: " << report.status().message() << "\n";
    return report.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  std::cout << FormatReport(*report);
  return 0;
}

}  // namespace emporium::catalog
