#include "services/cart/catalog.h"

#include <boost/json/object.hpp>

#include "platform/core/json.h"
#include "platform/http/url.h"
#include "platform/module/runtime.h"
#include "platform/rpc/rpc.h"

namespace emporium::cart {
namespace {

constexpr size_t kBatch = 100;

int64_t IntOr(const boost::json::object& o, const char* key, int64_t fallback) {
  auto v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return fallback;
}

std::string StrOr(const boost::json::object& o, const char* key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Result<Product> FromObject(const boost::json::object& o) {
  Product p;
  p.id = StrOr(o, "id");
  p.title = StrOr(o, "title");
  auto price = o.if_contains("price");
  if (p.id.empty() || !price || !price->is_object()) return InvalidArgument("product without id or price");
  p.price = IntOr(price->as_object(), "amount", -1);
  p.currency = StrOr(price->as_object(), "currency");
  if (p.price < 0) return InvalidArgument("product " + p.id + " has no price amount");
  if (auto a = o.if_contains("availability"); a && a->is_object()) {
    p.available = std::max<int64_t>(0, IntOr(a->as_object(), "available", 0));
    auto in_stock = a->as_object().if_contains("in_stock");
    p.in_stock = in_stock && in_stock->is_bool() ? in_stock->as_bool() : p.available > 0;
  }
  if (!p.in_stock) p.available = 0;
  return p;
}

class RpcCatalog final : public Catalog {
 public:
  explicit RpcCatalog(Runtime& rt) : rt_(rt) {}

  Result<std::optional<Product>> Get(const std::string& product_id) override {
    EMP_ASSIGN_OR_RETURN(http::Response resp, Call("/v1/products/" + product_id,
                                                   "/v1/products/" + http::PercentEncode(product_id), ""));
    if (resp.status == 404) return std::optional<Product>();
    if (resp.status != 200) return Unavailable("catalog answered " + std::to_string(resp.status));
    EMP_ASSIGN_OR_RETURN(Product p, ParseProduct(resp.body));
    return std::optional<Product>(std::move(p));
  }

  Result<std::map<std::string, Product>> GetMany(const std::vector<std::string>& ids) override {
    std::map<std::string, Product> out;
    for (size_t i = 0; i < ids.size(); i += kBatch) {
      std::string list;
      for (size_t j = i; j < std::min(ids.size(), i + kBatch); ++j)
        list += (j == i ? "" : ",") + http::PercentEncode(ids[j]);
      EMP_ASSIGN_OR_RETURN(http::Response resp, Call("/v1/products", "/v1/products",
                                                     "ids=" + list + "&page_size=" + std::to_string(kBatch)));
      if (resp.status != 200) return Unavailable("catalog answered " + std::to_string(resp.status));
      auto doc = json::Parse(resp.body);
      if (!doc.ok() || !doc->is_object()) return Unavailable("catalog sent a malformed product list");
      auto items = doc->as_object().if_contains("items");
      if (!items || !items->is_array()) return Unavailable("catalog sent a product list without items");
      for (const auto& item : items->as_array()) {
        if (!item.is_object()) continue;
        auto p = FromObject(item.as_object());
        if (p.ok()) out[p->id] = std::move(p).value();
      }
    }
    return out;
  }

 private:
  // path is decoded (what the in-process router matches); target is what goes on the wire.
  Result<http::Response> Call(std::string path, std::string target, std::string query) {
    EMP_ASSIGN_OR_RETURN(rpc::ModuleClient * client, rt_.Client("catalog"));
    http::Request req;
    req.method = http::Method::kGet;
    req.path = std::move(path);
    req.query = std::move(query);
    req.target = std::move(target) + (req.query.empty() ? "" : "?" + req.query);
    return client->Call(std::move(req), rpc::CallOptions{.timeout = Millis(2000), .idempotent = true});
  }

  Runtime& rt_;
};

}  // namespace

Result<Product> ParseProduct(std::string_view json) {
  auto doc = json::Parse(json);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("product is not a JSON object");
  return FromObject(doc->as_object());
}

std::unique_ptr<Catalog> NewCatalog(Runtime& rt) {
  return std::make_unique<RpcCatalog>(rt);
}

}  // namespace emporium::cart
