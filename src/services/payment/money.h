// Money as decimal strings for protocols that carry them ("12.34"), from and to integer minor
// units. Currencies without a minor unit (JPY, KRW, ...) have no decimals. Pure functions.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::payment {

inline int MinorDigits(std::string_view currency) {
  for (std::string_view c : {"JPY", "KRW", "VND", "CLP", "ISK", "HUF"}) {
    if (c == currency) return 0;
  }
  return 2;
}

inline std::string DecimalAmount(int64_t minor, std::string_view currency) {
  int digits = MinorDigits(currency);
  std::string sign = minor < 0 ? "-" : "";
  uint64_t v = minor < 0 ? static_cast<uint64_t>(-minor) : static_cast<uint64_t>(minor);
  if (digits == 0) return sign + std::to_string(v);
  std::string frac = std::to_string(v % 100);
  if (frac.size() < 2) frac = "0" + frac;
  return sign + std::to_string(v / 100) + "." + frac;
}

// kInvalidArgument for anything but digits with at most the currency's decimals.
inline Result<int64_t> MinorAmount(std::string_view decimal, std::string_view currency) {
  int digits = MinorDigits(currency);
  size_t dot = decimal.find('.');
  std::string_view whole = decimal.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : decimal.substr(dot + 1);
  if (whole.empty() || static_cast<int>(frac.size()) > digits) return InvalidArgument("malformed amount");
  std::string all(whole);
  all += frac;
  for (int i = static_cast<int>(frac.size()); i < digits; ++i) all += '0';
  int64_t v = 0;
  auto [p, ec] = std::from_chars(all.data(), all.data() + all.size(), v);
  if (ec != std::errc() || p != all.data() + all.size() || v < 0) return InvalidArgument("malformed amount");
  return v;
}

}  // namespace emporium::payment
