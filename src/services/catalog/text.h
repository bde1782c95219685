// Small text helpers: UTF-8 checks, Latin-1 conversion, XML escaping, trimming. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace emporium::catalog {

bool IsValidUtf8(std::string_view s);
// Each byte as the Unicode code point of the same value (ISO-8859-1 → UTF-8).
std::string Latin1ToUtf8(std::string_view s);
// s when it is valid UTF-8, otherwise its Latin-1 reading.
std::string ToUtf8(std::string_view s);
std::string Trim(std::string_view s);
// Number of code points (s must be valid UTF-8).
size_t Utf8Length(std::string_view s);

}  // namespace emporium::catalog
