// Placeholder product images: a deterministic SVG per product (colours from a hash of the id,
// the initials of the title, the brand and title as escaped text). Pure function; thread-safe.
#pragma once

#include <string>

#include "services/catalog/model.h"

namespace emporium::catalog {

std::string PlaceholderSvg(const Product& p);

}  // namespace emporium::catalog
