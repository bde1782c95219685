// Password policy: at least kMinPasswordLength characters, at most kMaxPasswordLength bytes
// (argon2 input bound), not one of the most common passwords or a common word padded with
// digits/symbols ("Password123!"), not one repeated character. Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

namespace emporium::identity {

inline constexpr size_t kMinPasswordLength = 10;
inline constexpr size_t kMaxPasswordLength = 256;

// Empty when acceptable, otherwise the reason (for a field error; never contains the password).
std::string CheckPassword(std::string_view password, std::string_view email);

}  // namespace emporium::identity
