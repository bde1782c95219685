// `emporium import catalog FILE --format=csv|jsonl --map=...`: streams products from a file
// into the catalog in batches (one transaction each, product.created events included), with a
// progress line on stderr and a report of rows imported and skipped (counted per reason, with
// the first examples). Mapping syntax and the shared datasets' mappings: docs/catalog.md.
// Thread-safety: single-threaded.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "platform/module/runtime.h"
#include "services/catalog/service.h"

namespace emporium::catalog {

struct ImportOptions {
  std::string format;  // "csv" or "jsonl"; empty: from the file name
  std::string map;     // "title=ProductName,brand=ProductBrand,price=Price,category=a>b,attr.colour=C"
  std::string currency = "USD";
  std::string category_root;       // levels put above every mapped category ("Fashion" or "A>B")
  std::string category_separator;  // also split each category column's value on this
  std::string sku_prefix;
  int64_t stock = 10;  // on hand per product when no stock column is mapped
  std::string warehouse = "wh-1";
  char delimiter = ',';
  int batch = 1000;
};

struct ImportReport {
  int64_t rows = 0;
  int64_t imported = 0;
  int64_t skipped = 0;
  struct Reason {
    int64_t count = 0;
    std::vector<std::string> examples;  // "line 12: <title or value>"
  };
  std::map<std::string, Reason> reasons;
  double seconds = 0;
};

// "12.50" → 1250 with 2 minor digits; thousands separators ',' allowed; more fraction digits
// than the currency has are rounded half up. kInvalidArgument otherwise.
Result<int64_t> ParseMajorUnits(std::string_view text, int minor_digits);
// 0 for zero-decimal currencies (JPY, KRW, ...), 2 otherwise.
int MinorDigits(std::string_view currency);

// kInvalidArgument for a bad mapping or a column missing from the file's header.
// progress: where the progress line goes (nullptr: none).
Result<ImportReport> ImportCatalog(Catalog& catalog, const std::string& path, const ImportOptions& options,
                                   std::ostream* progress);
std::string FormatReport(const ImportReport& report);

std::vector<config::Key> ImportKeys();
int ImportCommand(Runtime& rt, const std::vector<std::string>& positional);

}  // namespace emporium::catalog
