#include "services/search/product.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdio>

#include "platform/core/json.h"

namespace emporium::search {
namespace {

using json::Str;

int64_t Int(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return 0;
}

const boost::json::object* Obj(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

}  // namespace

Result<ProductDoc> ParseProduct(std::string_view json) {
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(json));
  if (!v.is_object()) return InvalidArgument("product is not a JSON object");
  const boost::json::object& o = v.as_object();
  ProductDoc p;
  p.id = Str(o, "id");
  p.title = Str(o, "title");
  if (p.id.empty() || p.title.empty()) return InvalidArgument("product needs a string id and title");
  p.description = Str(o, "description");
  p.brand = Str(o, "brand");
  p.version = Int(o, "version");
  boost::json::object summary{{"id", p.id}, {"title", p.title}, {"brand", p.brand}};
  if (const auto* c = Obj(o, "category")) {
    p.category_id = Str(*c, "id");
    p.category_name = Str(*c, "name");
    if (const auto* path = c->if_contains("path"); path && path->is_array()) {
      for (const auto& e : path->as_array()) {
        if (e.is_string()) p.category_path.emplace_back(e.as_string());
      }
    }
    if (p.category_path.empty() && !p.category_name.empty()) p.category_path.push_back(p.category_name);
    summary["category"] = boost::json::object{{"id", p.category_id}, {"name", p.category_name}};
  }
  if (const auto* price = Obj(o, "price")) {
    p.price = Int(*price, "amount");
    if (std::string cur = Str(*price, "currency"); !cur.empty()) p.currency = cur;
    summary["price"] = boost::json::object{{"amount", p.price}, {"currency", p.currency}};
  }
  if (const auto* images = o.if_contains("images");
      images && images->is_array() && !images->as_array().empty()) {
    summary["images"] = boost::json::array{images->as_array().front()};
  }
  if (const auto* a = Obj(o, "availability")) {
    p.in_stock = a->if_contains("in_stock") && a->at("in_stock").is_bool() && a->at("in_stock").as_bool();
    p.available = Int(*a, "available");
  }
  summary["availability"] = boost::json::object{{"in_stock", p.in_stock}, {"available", p.available}};
  p.summary_json = json::Dump(summary);
  if (const auto* rating = Obj(o, "rating")) {
    // Spliced by hand: Boost.JSON would print the average as 4.3E0.
    double average = 0;
    if (const auto* a = rating->if_contains("average"); a && a->is_number()) average = a->to_number<double>();
    p.rating = average;
    p.rating_count = Int(*rating, "count");
    char buf[96];
    std::snprintf(buf, sizeof buf, ",\"rating\":{\"average\":%.2g,\"count\":%lld}}", average,
                  static_cast<long long>(Int(*rating, "count")));
    p.summary_json.pop_back();
    p.summary_json += buf;
  }
  return p;
}

namespace {

std::string JoinedPath(const ProductDoc& p) {
  std::string out;
  for (size_t i = 0; i < p.category_path.size(); ++i) out += (i ? " > " : "") + p.category_path[i];
  return out;
}

}  // namespace

std::string CategoryKey(const ProductDoc& product) {
  return product.category_id.empty() ? JoinedPath(product) : product.category_id;
}

std::string WithAvailability(std::string_view summary_json, bool in_stock, int64_t available) {
  // The summary is ours (ParseProduct): "availability" is a flat object, replaced in place so the
  // rest keeps its formatting.
  constexpr std::string_view kKey = "\"availability\":{";
  std::string out(summary_json);
  size_t start = out.find(kKey);
  size_t end = start == std::string::npos ? start : out.find('}', start);
  if (end == std::string::npos) return out;
  std::string value = "{\"in_stock\":" + std::string(in_stock ? "true" : "false") +
                      ",\"available\":" + std::to_string(available) + "}";
  return out.replace(start + kKey.size() - 1, end - (start + kKey.size() - 1) + 1, value);
}

std::string EmbeddingText(const ProductDoc& p) {
  constexpr size_t kDescriptionBytes = 600;
  std::string out = p.title;
  if (!p.brand.empty()) out += ". " + p.brand;
  if (!p.category_path.empty()) out += ". " + JoinedPath(p);
  if (!p.description.empty()) {
    size_t n = std::min(p.description.size(), kDescriptionBytes);
    // Cut at a word boundary and never inside a UTF-8 sequence.
    if (n < p.description.size()) {
      while (n > 0 && (static_cast<unsigned char>(p.description[n]) & 0xC0) == 0x80) --n;
      if (size_t space = p.description.rfind(' ', n); space != std::string::npos && space > n / 2) n = space;
    }
    out += ". " + p.description.substr(0, n);
  }
  return out;
}

}  // namespace emporium::search
