// Percent-encoding and -decoding of URL paths and form/query values (RFC 3986,
// application/x-www-form-urlencoded).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace emporium::http {

// Decodes %XX escapes; with plus_as_space, '+' becomes ' ' (query strings and forms).
// Malformed escapes are kept literally.
std::string PercentDecode(std::string_view s, bool plus_as_space);
// Strict variant for paths: nullopt on a malformed escape or a decoded NUL.
std::optional<std::string> DecodePath(std::string_view s);

// Escapes every byte outside RFC 3986's unreserved set (ASCII letters, digits, '-', '.', '_', '~')
// as %XX with upper-case hex, so the result is safe in a path segment, a query value or a form field.
std::string PercentEncode(std::string_view s);
// "a=1&b=x%20y": each name and value PercentEncoded, pairs joined by '&' (a form body or a query).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace emporium::http
