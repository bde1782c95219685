// Trivially copyable values to and from bytes in host order, for the binary formats of saved
// models and snapshots (each format says its byte order: every target Emporium builds for is
// little-endian).
#pragma once

#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace emporium::bytes {

template <typename T>
void Put(std::string& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// The next value of `in` (consumed); false, with `in` unchanged, when too few bytes are left.
template <typename T>
bool Take(std::string_view& in, T* v) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (in.size() < sizeof(T)) return false;
  std::memcpy(v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

}  // namespace emporium::bytes
