// The product JSON of the API and of catalog.product.* events (one shape, docs/catalog.md).
// Pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "services/catalog/model.h"

namespace emporium::catalog {

boost::json::object MoneyJson(const Money& m);
boost::json::object ProductJson(const Product& p);
std::string ImageUrl(const std::string& product_id);

}  // namespace emporium::catalog
