// docs/openapi.yaml converted to JSON at build time (tools/yaml2json) and compiled in.
#pragma once

#include <string_view>

namespace emporium {

std::string_view OpenApiJson();

}  // namespace emporium
