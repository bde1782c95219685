#include "services/catalog/image.h"

#include <cctype>
#include <cstdint>
#include <cstdio>

#include "platform/core/markup.h"
#include "services/catalog/text.h"

namespace emporium::catalog {
namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Hsl(uint64_t hue, int saturation, int lightness) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "hsl(%d,%d%%,%d%%)", static_cast<int>(hue % 360), saturation, lightness);
  return buf;
}

// The first letter (a whole UTF-8 sequence) of the first two words of the title, upper-cased
// when ASCII.
std::string Initials(const std::string& title) {
  std::string out;
  bool at_word = true;
  for (size_t i = 0; i < title.size() && Utf8Length(out) < 2;) {
    auto c = static_cast<unsigned char>(title[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (c == ' ') {
      at_word = true;
    } else if (at_word && (c >= 0x80 || std::isalnum(c))) {
      if (c < 0x80) {
        out += static_cast<char>(std::toupper(c));
      } else {
        out += title.substr(i, len);
      }
      at_word = false;
    } else {
      at_word = false;
    }
    i += len;
  }
  return out.empty() ? "?" : out;
}

std::string Shorten(const std::string& s, size_t max_chars) {
  if (Utf8Length(s) <= max_chars) return s;
  std::string out;
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && ++n > max_chars - 1) break;
    out += c;
  }
  return out + "\u2026";
}

}  // namespace

std::string PlaceholderSvg(const Product& p) {
  const uint64_t h = Fnv1a(p.id);
  const std::string bg = Hsl(h, 55, 82);
  const std::string fg = Hsl(h, 60, 28);
  const std::string accent = Hsl(h >> 16, 65, 60);
  const std::string title = ToUtf8(p.title);
  std::string svg;
  svg.reserve(1024);
  svg +=
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"400\" viewBox=\"0 0 400 400\" "
      "role=\"img\" aria-label=\"";
  svg += EscapeMarkup(title);
  svg += "\"><title>" + EscapeMarkup(title) + "</title>";
  svg += "<rect width=\"400\" height=\"400\" fill=\"" + bg + "\"/>";
  svg += "<circle cx=\"200\" cy=\"170\" r=\"" + std::to_string(90 + h % 30) + "\" fill=\"" + accent +
         "\" opacity=\"0.55\"/>";
  svg +=
      "<text x=\"200\" y=\"200\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"96\" "
      "font-weight=\"700\" fill=\"" +
      fg + "\">" + EscapeMarkup(Initials(title)) + "</text>";
  svg +=
      "<text x=\"200\" y=\"320\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"22\" fill=\"" +
      fg + "\">" + EscapeMarkup(Shorten(ToUtf8(p.brand), 28)) + "</text>";
  svg +=
      "<text x=\"200\" y=\"352\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"16\" fill=\"" +
      fg + "\">" + EscapeMarkup(Shorten(title, 40)) + "</text>";
  svg += "</svg>";
  return svg;
}

}  // namespace emporium::catalog
