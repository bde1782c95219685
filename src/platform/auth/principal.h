// Who is calling: the verified identity a request carries after the auth middleware checked
// its bearer token. Plain data; included by http.h.
#pragma once

#include <string>
#include <vector>

namespace emporium::auth {

struct Principal {
  std::string subject;             // "user:<id>", "guest:<id>" or "client:<client_id>"
  std::vector<std::string> roles;  // "customer", "support", "admin"
  std::string client_id;           // the OAuth2 client the token was issued to
  std::string token_id;            // jti
  std::string scope;               // space-separated scopes
  bool guest = false;

  bool HasRole(std::string_view role) const {
    for (const auto& r : roles) {
      if (r == role) return true;
    }
    return false;
  }
  // The user id for "user:<id>" subjects, empty otherwise.
  std::string UserId() const { return subject.rfind("user:", 0) == 0 ? subject.substr(5) : std::string(); }
};

// What a route demands of its caller (checked by the auth middleware before the handler runs).
enum class Access {
  kPublic,    // no token needed (a valid token is still verified and attached)
  kAnyToken,  // a valid token: guest, user or client
  kUser,      // a signed-in user (not a guest)
  kAdmin,     // a user with role admin
  kSupport,   // a user with role support or admin
  kService,   // a client_credentials token (module-to-module or back-office)
};

}  // namespace emporium::auth
