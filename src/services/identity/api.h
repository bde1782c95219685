// identity: accounts, OAuth2/OIDC token issuing and the signing keys other modules verify with.
//
// Other modules include only this header. They never call identity directly for a token check:
// the platform auth middleware verifies bearer tokens against GET /.well-known/jwks.json.
// Events go to topic kUserTopic (CloudEvents, source "/emporium/identity", keyed by user id):
//   user.registered        {"user_id","roles","created_at"}
//   user.updated           {"user_id","fields":[...]}        (names of changed fields, no values)
//   user.logged_in         {"user_id","client_id","grant_type","at"}
//   identity.guest_merged  {"guest_id","user_id"}            (cart merges the guest cart)
// Event payloads carry ids, never PII.
#pragma once

#include <string_view>

#include "platform/module/module.h"

namespace emporium::identity {

inline constexpr std::string_view kUserTopic = "identity.user";
inline constexpr std::string_view kEventSource = "/emporium/identity";
inline constexpr std::string_view kAudience = "emporium";

ModuleDef Module();

}  // namespace emporium::identity
