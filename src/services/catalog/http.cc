#include "services/catalog/http.h"

#include <boost/json/array.hpp>
#include <memory>

#include "platform/http/problem.h"
#include "platform/http/url.h"
#include "platform/log/log.h"
#include "services/catalog/http_util.h"
#include "services/catalog/image.h"
#include "services/catalog/product_json.h"

namespace emporium::catalog {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

constexpr size_t kMaxIds = 100;
constexpr size_t kMaxAttributes = 50;

bool Scalar(const boost::json::value& v) {
  return v.is_string() || v.is_number() || v.is_bool();
}

// attributes: an object of scalars or arrays of scalars, at most 50 keys.
std::optional<std::string> AttributesField(const object& o, FieldErrors& errors) {
  auto v = o.if_contains("attributes");
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_object()) {
    errors.push_back({"attributes", "must be an object"});
    return std::nullopt;
  }
  const object& a = v->as_object();
  if (a.size() > kMaxAttributes) errors.push_back({"attributes", "must have at most 50 keys"});
  for (const auto& kv : a) {
    std::string field = "attributes." + std::string(kv.key());
    bool ok = Scalar(kv.value());
    if (kv.value().is_array()) {
      ok = kv.value().as_array().size() <= 50;
      for (const auto& e : kv.value().as_array()) ok = ok && Scalar(e);
    }
    if (!ok) errors.push_back({field, "must be a string, number, boolean or a list of them"});
    if (kv.key().empty() || kv.key().size() > 64) errors.push_back({field, "names are 1 to 64 characters"});
  }
  return json::Dump(*v);
}

std::optional<Money> PriceField(const object& o, FieldErrors& errors) {
  auto v = o.if_contains("price");
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_object()) {
    errors.push_back({"price", "must be an object {amount, currency}"});
    return std::nullopt;
  }
  Money m;
  auto amount = IntField(v->as_object(), "amount", errors, "price.");
  auto currency = StringField(v->as_object(), "currency", errors, "price.");
  if (!amount) errors.push_back({"price.amount", "is required (integer minor units)"});
  if (!currency) errors.push_back({"price.currency", "is required"});
  m.amount = amount.value_or(0);
  m.currency = currency.value_or("");
  return m;
}

// If-Match: "3", W/"3" or 3 → 3. nullopt when absent; -1 when unparseable.
std::optional<int64_t> IfMatchVersion(const Request& req) {
  auto h = req.headers.Get("If-Match");
  if (!h) return std::nullopt;
  std::string v(*h);
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0') return -1;
  return n;
}

std::string ETag(const Product& p) {
  return "\"" + std::to_string(p.version) + "\"";
}

Response ProductResponse(int status, const Product& p) {
  Response r = JsonResponse(status, ProductJson(p));
  r.headers.Set("ETag", ETag(p));
  return r;
}

object CategoryNodeJson(const CategoryNode& n) {
  array path, children;
  for (const auto& name : n.category.path) path.emplace_back(name);
  for (const auto& c : n.children) children.emplace_back(CategoryNodeJson(c));
  object o{{"id", n.category.id},
           {"name", n.category.name},
           {"path", std::move(path)},
           {"product_count", n.product_count},
           {"children", std::move(children)}};
  o["parent_id"] =
      n.category.parent_id.empty() ? boost::json::value(nullptr) : boost::json::value(n.category.parent_id);
  return o;
}

// Parses a non-negative integer query parameter; a field error otherwise.
std::optional<int64_t> IntParam(const Request& req, const char* name, FieldErrors& errors) {
  auto v = req.QueryParam(name);
  if (!v || v->empty()) return std::nullopt;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (*end != '\0' || n < 0) {
    errors.push_back({name, "must be a non-negative integer"});
    return std::nullopt;
  }
  return n;
}

class Routes {
 public:
  Routes(Catalog& catalog, SimilarFn similar) : catalog_(catalog), similar_(std::move(similar)) {}

  Response List(Request& req) {
    ProductQuery q;
    FieldErrors errors;
    q.category_id = req.QueryParam("category").value_or("");
    q.brand = req.QueryParam("brand").value_or("");
    q.min_price = IntParam(req, "min_price", errors);
    q.max_price = IntParam(req, "max_price", errors);
    q.page_token = req.QueryParam("page_token").value_or("");
    if (auto size = IntParam(req, "page_size", errors)) {
      if (*size < 1) errors.push_back({"page_size", "must be between 1 and 100"});
      q.page_size = static_cast<int>(std::min<int64_t>(*size, 100));
    }
    if (auto ids = req.QueryParam("ids"); ids && !ids->empty()) {
      std::string cur;
      for (char c : *ids + ",") {
        if (c != ',') {
          cur += c;
        } else if (!cur.empty()) {
          q.ids.push_back(cur);
          cur.clear();
        }
      }
      if (q.ids.size() > kMaxIds) errors.push_back({"ids", "at most 100 ids"});
      // A batch lookup answers every id on one page unless the caller asked for smaller pages.
      if (!req.QueryParam("page_size")) q.page_size = static_cast<int>(kMaxIds);
    }
    std::string sort = req.QueryParam("sort").value_or("");
    if (sort.empty() || sort == "relevance") {
      q.sort = Sort::kId;
    } else if (sort == "price_asc") {
      q.sort = Sort::kPriceAsc;
    } else if (sort == "price_desc") {
      q.sort = Sort::kPriceDesc;
    } else if (sort == "rating") {
      q.sort = Sort::kRating;
    } else if (sort == "newest") {
      q.sort = Sort::kNewest;
    } else {
      errors.push_back({"sort", "must be price_asc, price_desc, rating or newest"});
    }
    if (!errors.empty()) return Failure(req, InvalidArgument("invalid query"), errors);
    auto page = catalog_.List(q);
    if (!page.ok()) {
      if (page.status().code() == Code::kInvalidArgument) {
        std::string field =
            page.status().message().find("page_token") != std::string::npos ? "page_token" : "category";
        return Failure(req, page.status(), {{field, page.status().message()}});
      }
      return Failure(req, page.status());
    }
    array items;
    for (const auto& p : page->items) items.emplace_back(ProductJson(p));
    object o{{"items", std::move(items)}};
    o["next_page_token"] = page->next_page_token.empty() ? boost::json::value(nullptr)
                                                         : boost::json::value(page->next_page_token);
    return JsonResponse(200, o);
  }

  Response Get(Request& req) {
    auto p = catalog_.Get(std::string(*req.PathParam("id")));
    if (!p.ok()) return Failure(req, p.status());
    if (auto inm = req.headers.Get("If-None-Match"); inm && *inm == ETag(*p)) {
      Response r;
      r.status = 304;
      r.headers.Set("ETag", ETag(*p));
      return r;
    }
    return ProductResponse(200, *p);
  }

  Response Image(Request& req) {
    auto p = catalog_.Get(std::string(*req.PathParam("id")));
    if (!p.ok()) return Failure(req, p.status());
    Response r = Response::Text(200, PlaceholderSvg(*p), "image/svg+xml");
    r.headers.Set("Cache-Control", "public, max-age=86400");
    // An SVG can carry script; this one never does, and the policy makes sure of it.
    r.headers.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    r.headers.Set("X-Content-Type-Options", "nosniff");
    return r;
  }

  Response Similar(Request& req) {
    const std::string id(*req.PathParam("id"));
    auto p = catalog_.Get(id);
    if (!p.ok()) return Failure(req, p.status());
    if (!similar_) return http::Problem(503, "similar products need the recommend module", req.path);
    std::string target = "/v1/recommendations?placement=product&product_id=" + http::PercentEncode(id);
    if (auto limit = req.QueryParam("limit")) target += "&limit=" + http::PercentEncode(*limit);
    auto r = similar_(req, target);
    if (!r.ok()) {
      log::Warn("catalog: similar products unavailable", {{"error", r.status().ToString()}});
      return http::Problem(503, "similar products are unavailable: " + r.status().message(), req.path);
    }
    return std::move(r).value();
  }

  Response Categories(Request& req) {
    auto tree = catalog_.Tree();
    if (!tree.ok()) return Failure(req, tree.status());
    array items;
    for (const auto& n : *tree) items.emplace_back(CategoryNodeJson(n));
    return JsonResponse(200, object{{"items", std::move(items)}});
  }

  Response CreateCategory(Request& req) {
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    auto name = StringField(*body, "name", errors);
    auto parent = StringField(*body, "parent_id", errors);
    if (!name) errors.push_back({"name", "is required"});
    if (!errors.empty()) return Failure(req, InvalidArgument("invalid category"), errors);
    auto c = catalog_.CreateCategory(parent.value_or(""), *name, &errors);
    if (!c.ok()) return Failure(req, c.status(), errors);
    CategoryNode node{*c, 0, {}};
    return JsonResponse(201, CategoryNodeJson(node));
  }

  Response Create(Request& req) {
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    NewProduct in;
    in.sku = StringField(*body, "sku", errors).value_or("");
    in.title = StringField(*body, "title", errors).value_or("");
    in.description = StringField(*body, "description", errors).value_or("");
    in.brand = StringField(*body, "brand", errors).value_or("");
    in.category_id = StringField(*body, "category_id", errors).value_or("");
    if (auto price = PriceField(*body, errors)) {
      in.price = *price;
    } else if (!body->contains("price")) {
      errors.push_back({"price", "is required"});
    }
    in.attributes_json = AttributesField(*body, errors).value_or("{}");
    if (!errors.empty()) {
      // Report the field rules too, so one answer lists everything to fix.
      ValidateNewProduct(in, errors);
      return Failure(req, InvalidArgument("invalid product"), errors);
    }
    auto p = catalog_.Create(in, &errors);
    if (!p.ok()) return Failure(req, p.status(), errors);
    Response r = ProductResponse(201, *p);
    r.headers.Set("Location", "/v1/products/" + p->id);
    return r;
  }

  Response Patch(Request& req) {
    auto body = BodyObject(req);
    if (!body.ok()) return http::Problem(400, body.status().message(), req.path);
    FieldErrors errors;
    ProductPatch patch;
    patch.sku = StringField(*body, "sku", errors);
    patch.title = StringField(*body, "title", errors);
    patch.description = StringField(*body, "description", errors);
    patch.brand = StringField(*body, "brand", errors);
    patch.category_id = StringField(*body, "category_id", errors);
    patch.price = PriceField(*body, errors);
    patch.attributes_json = AttributesField(*body, errors);
    patch.if_version = IfMatchVersion(req);
    if (patch.if_version && *patch.if_version < 0)
      return http::Problem(400, "If-Match must be a version", req.path);
    if (!errors.empty()) return Failure(req, InvalidArgument("invalid product"), errors);
    auto p = catalog_.Update(std::string(*req.PathParam("id")), patch, &errors);
    if (!p.ok()) {
      if (p.status().code() == Code::kFailedPrecondition)
        return http::Problem(412, p.status().message(), req.path);
      return Failure(req, p.status(), errors);
    }
    return ProductResponse(200, *p);
  }

  Response Delete(Request& req) {
    Status s = catalog_.Delete(std::string(*req.PathParam("id")));
    if (!s.ok()) return Failure(req, s);
    Response r;
    r.status = 204;
    return r;
  }

 private:
  Catalog& catalog_;
  SimilarFn similar_;
};

}  // namespace

Status AddProductRoutes(http::Router& router, Catalog& catalog, SimilarFn similar) {
  using auth::Access;
  using http::Method;
  // Product reads are served from the product cache almost always; on a miss they are one
  // SQLite/PostgreSQL read. Running them on the I/O thread (blocking = false) saves the hop to the
  // blocking pool (two thread wake-ups), which costs more than the read itself.
  return http::AddMemberRoutes<Routes>(
      router, std::make_shared<Routes>(catalog, std::move(similar)),
      {
          {Method::kGet, "/v1/products", &Routes::List, {.access = Access::kPublic}},
          {Method::kGet, "/v1/products/{id}", &Routes::Get, {.access = Access::kPublic, .blocking = false}},
          {Method::kGet,
           "/v1/products/{id}/image.svg",
           &Routes::Image,
           {.access = Access::kPublic, .blocking = false}},
          {Method::kGet, "/v1/products/{id}/similar", &Routes::Similar, {.access = Access::kPublic}},
          {Method::kGet, "/v1/categories", &Routes::Categories, {.access = Access::kPublic}},
          {Method::kPost, "/v1/admin/categories", &Routes::CreateCategory, {.access = Access::kAdmin}},
          {Method::kPost, "/v1/admin/products", &Routes::Create, {.access = Access::kAdmin}},
          {Method::kPatch, "/v1/admin/products/{id}", &Routes::Patch, {.access = Access::kAdmin}},
          {Method::kDelete, "/v1/admin/products/{id}", &Routes::Delete, {.access = Access::kAdmin}},
      });
}

}  // namespace emporium::catalog
