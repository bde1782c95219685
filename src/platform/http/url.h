// Percent-decoding of URL paths and form/query values (RFC 3986, application/x-www-form-urlencoded).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace emporium::http {

// Decodes %XX escapes; with plus_as_space, '+' becomes ' ' (query strings and forms).
// Malformed escapes are kept literally.
std::string PercentDecode(std::string_view s, bool plus_as_space);
// Strict variant for paths: nullopt on a malformed escape or a decoded NUL.
std::optional<std::string> DecodePath(std::string_view s);

}  // namespace emporium::http
