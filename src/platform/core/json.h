// Small helpers over Boost.JSON used across modules: parse with a Status, escape a string.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::json {

// kInvalidArgument with the parser's message for malformed input.
Result<boost::json::value> Parse(std::string_view text);
// The string as a JSON string literal, quotes included.
std::string Quote(std::string_view s);
// Serialize a value compactly.
std::string Dump(const boost::json::value& v);
// The string member `key` of o; "" when it is missing or not a string.
std::string Str(const boost::json::object& o, std::string_view key);

}  // namespace emporium::json
