#include "sim/catalog.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>
#include <fstream>
#include <set>

#include "platform/core/json.h"
#include "platform/http/client.h"
#include "platform/http/url.h"
#include "services/catalog/api.h"

namespace emporium::sim {
namespace {

using boost::json::object;

std::string StrAt(const object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

double NumberAt(const object& o, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  return 0;
}

std::vector<std::string> Words(std::string_view title) {
  std::vector<std::string> out;
  std::string w;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

}  // namespace

Result<SimProduct> ParseProduct(std::string_view text) {
  auto doc = json::Parse(text);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("product document is not a JSON object");
  const object& o = doc->as_object();
  SimProduct p;
  p.id = StrAt(o, "id");
  p.title = StrAt(o, "title");
  p.brand = StrAt(o, "brand");
  if (p.id.empty() || p.title.empty()) return InvalidArgument("product document without id or title");
  auto price = o.if_contains("price");
  if (!price || !price->is_object() || !price->as_object().if_contains("amount"))
    return InvalidArgument("product " + p.id + " has no price");
  p.price = static_cast<int64_t>(NumberAt(price->as_object(), "amount"));
  p.currency = StrAt(price->as_object(), "currency");
  if (auto c = o.if_contains("category"); c && c->is_object()) {
    if (auto path = c->as_object().if_contains("path"); path && path->is_array()) {
      for (const auto& n : path->as_array()) {
        if (!n.is_string()) continue;
        if (p.top.empty()) p.top = std::string(n.as_string());
        if (!p.leaf.empty()) p.leaf += " > ";
        p.leaf += std::string(n.as_string());
      }
    }
    if (p.leaf.empty()) p.leaf = p.top = StrAt(c->as_object(), "name");
    p.category_id = StrAt(c->as_object(), "id");
  }
  if (p.leaf.empty()) p.leaf = p.top = "Uncategorized";
  if (auto a = o.if_contains("attributes"); a && a->is_object()) {
    p.colour = StrAt(a->as_object(), "colour");
    p.material = StrAt(a->as_object(), "material");
  }
  if (auto r = o.if_contains("rating"); r && r->is_object()) {
    p.rating = NumberAt(r->as_object(), "average");
    p.rating_count = static_cast<int64_t>(NumberAt(r->as_object(), "count"));
  }
  if (auto a = o.if_contains("availability"); a && a->is_object())
    p.available = static_cast<int64_t>(NumberAt(a->as_object(), "available"));
  p.words = Words(p.title);
  return p;
}

void SimCatalog::Index() {
  std::set<std::string> leaf_set, top_set, brand_set;
  for (const SimProduct& p : products) {
    leaf_set.insert(p.leaf);
    top_set.insert(p.top);
    brand_set.insert(p.brand);
  }
  leaves.assign(leaf_set.begin(), leaf_set.end());
  tops.assign(top_set.begin(), top_set.end());
  brands.assign(brand_set.begin(), brand_set.end());
  auto pos = [](const std::vector<std::string>& sorted, const std::string& v) {
    return static_cast<int>(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin());
  };
  leaf_of.clear();
  top_of.clear();
  brand_of.clear();
  by_leaf.assign(leaves.size(), {});
  top_of_leaf.assign(leaves.size(), 0);
  index_of.clear();
  for (size_t i = 0; i < products.size(); ++i) {
    const SimProduct& p = products[i];
    leaf_of.push_back(pos(leaves, p.leaf));
    top_of.push_back(pos(tops, p.top));
    brand_of.push_back(pos(brands, p.brand));
    by_leaf[leaf_of.back()].push_back(static_cast<int>(i));
    top_of_leaf[leaf_of.back()] = top_of.back();
    index_of.emplace(p.id, static_cast<int>(i));
  }
}

const SimProduct* SimCatalog::Find(std::string_view id) const {
  auto it = index_of.find(id);
  return it == index_of.end() ? nullptr : &products[static_cast<size_t>(it->second)];
}

SimCatalog DemoCatalog(uint64_t seed, int size) {
  SimCatalog c;
  // The anchor time only moves created_at, which the simulator does not read.
  for (const std::string& doc : catalog::DemoProductDocuments(seed, size, 0)) {
    auto p = ParseProduct(doc);
    if (p.ok()) c.products.push_back(std::move(*p));
  }
  c.Index();
  return c;
}

Result<SimCatalog> LoadCatalogFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read catalog file " + path);
  SimCatalog c;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto p = ParseProduct(line);
    if (!p.ok()) return InvalidArgument(path + ":" + std::to_string(n) + ": " + p.status().message());
    c.products.push_back(std::move(*p));
  }
  if (c.products.empty()) return InvalidArgument("catalog file " + path + " has no products");
  c.Index();
  return c;
}

Result<SimCatalog> LoadCatalogFromApi(http::HttpClient& client, const std::string& base_url) {
  SimCatalog c;
  std::string token;
  for (int page = 0; page < 100'000; ++page) {
    std::string target = "/v1/products?page_size=100";
    if (!token.empty()) target += "&page_token=" + http::PercentEncode(token);
    http::Request req = http::NewRequest(http::Method::kGet, target);
    auto resp = client.Send(base_url, req, std::chrono::steady_clock::now() + Millis(30'000));
    if (!resp.ok()) return Unavailable("catalog from " + base_url + ": " + resp.status().message());
    if (resp->status != 200)
      return Unavailable("catalog from " + base_url + ": HTTP " + std::to_string(resp->status));
    auto doc = json::Parse(resp->body);
    if (!doc.ok() || !doc->is_object()) return Internal("catalog page is not a JSON object");
    const object& o = doc->as_object();
    if (auto items = o.if_contains("items"); items && items->is_array()) {
      for (const auto& item : items->as_array()) {
        auto p = ParseProduct(json::Dump(item));
        if (p.ok()) c.products.push_back(std::move(*p));
      }
    }
    token = StrAt(o, "next_page_token");
    if (token.empty()) break;
  }
  if (c.products.empty()) return FailedPrecondition("the shop at " + base_url + " has no products");
  c.Index();
  return c;
}

}  // namespace emporium::sim
