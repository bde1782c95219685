// Escaping text for HTML and XML (element content and quoted attribute values).
#pragma once

#include <string>
#include <string_view>

namespace emporium {

// Replaces & < > " ' with their character references; every other byte is kept.
std::string EscapeMarkup(std::string_view s);

}  // namespace emporium
