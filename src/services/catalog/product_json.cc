#include "services/catalog/product_json.h"

#include <boost/json/array.hpp>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"

namespace emporium::catalog {

boost::json::object MoneyJson(const Money& m) {
  return boost::json::object{{"amount", m.amount}, {"currency", m.currency}};
}

std::string ImageUrl(const std::string& product_id) {
  return "/v1/products/" + product_id + "/image.svg";
}

boost::json::object ProductJson(const Product& p) {
  boost::json::array path;
  for (const auto& n : p.category.path) path.emplace_back(n);
  boost::json::value attributes = boost::json::object();
  if (auto v = json::Parse(p.attributes_json); v.ok() && v->is_object()) attributes = std::move(*v);
  boost::json::array images;
  images.emplace_back(boost::json::object{{"url", ImageUrl(p.id)}, {"alt", p.title}});
  return boost::json::object{
      {"id", p.id},
      {"sku", p.sku},
      {"title", p.title},
      {"description", p.description},
      {"brand", p.brand},
      {"category",
       boost::json::object{{"id", p.category.id}, {"name", p.category.name}, {"path", std::move(path)}}},
      {"price", MoneyJson(p.price)},
      {"attributes", std::move(attributes)},
      {"images", std::move(images)},
      {"rating", boost::json::object{{"average", p.rating_average}, {"count", p.rating_count}}},
      {"availability", boost::json::object{{"in_stock", p.available > 0}, {"available", p.available}}},
      {"created_at", FormatRfc3339UnixMillis(p.created_at)},
      {"updated_at", FormatRfc3339UnixMillis(p.updated_at)},
      {"version", p.version},
  };
}

}  // namespace emporium::catalog
