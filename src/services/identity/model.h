// Domain values of the identity module: plain data, no HTTP or SQL types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::identity {

struct User {
  std::string id;  // UUIDv7
  std::string email;
  std::string name;
  std::string phone;  // empty when not set
  std::vector<std::string> roles;
  int64_t created_at = 0;  // Unix ms
  int64_t updated_at = 0;
};

struct Address {
  std::string id;
  std::string name;                                              // recipient
  std::string line1, line2, city, region, postal_code, country;  // country: ISO 3166-1 alpha-2
  int64_t created_at = 0;
};

// A validation failure of one input field (becomes a problem+json "errors" entry).
struct FieldError {
  std::string field;
  std::string message;
};
using FieldErrors = std::vector<FieldError>;

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;     // seconds
  std::string refresh_token;  // empty for guests and client_credentials
  std::string scope;
};

struct Client {
  std::string client_id;
  std::string secret_hash;  // empty: public client
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types;
  std::vector<std::string> roles;  // roles of client_credentials tokens
  bool first_party = false;
  bool Allows(std::string_view grant) const {
    for (const auto& g : grant_types) {
      if (g == grant) return true;
    }
    return false;
  }
};

}  // namespace emporium::identity
