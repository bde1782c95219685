// Access rules for routes and the handler-side helpers built on them.
#include "platform/auth/middleware.h"

namespace emporium::auth {
namespace {

// A signed-in person: guest and client_credentials principals are not users.
bool IsUser(const Principal& p) {
  return !p.guest && p.subject.rfind("user:", 0) == 0;
}

}  // namespace

Status CheckAccess(const std::optional<Principal>& principal, Access access) {
  if (access == Access::kPublic) return Status::Ok();
  if (!principal) return Unauthenticated("this resource needs an access token");
  const Principal& p = *principal;
  switch (access) {
    case Access::kPublic:
    case Access::kAnyToken: return Status::Ok();
    case Access::kUser:
      if (IsUser(p)) return Status::Ok();
      return PermissionDenied("this resource needs a signed-in user");
    case Access::kAdmin:
      if (IsUser(p) && p.HasRole("admin")) return Status::Ok();
      return PermissionDenied("this resource needs the admin role");
    case Access::kSupport:
      if (IsUser(p) && (p.HasRole("support") || p.HasRole("admin"))) return Status::Ok();
      return PermissionDenied("this resource needs the support role");
    case Access::kService:
      if (!p.guest && p.subject.rfind("client:", 0) == 0) return Status::Ok();
      return PermissionDenied("this resource needs a service client token");
  }
  return PermissionDenied("access denied");
}

Result<Principal> RequireUser(const http::Request& req) {
  EMP_RETURN_IF_ERROR(CheckAccess(req.principal, Access::kUser));
  return *req.principal;
}

Result<Principal> RequireAdmin(const http::Request& req) {
  EMP_RETURN_IF_ERROR(CheckAccess(req.principal, Access::kAdmin));
  return *req.principal;
}

}  // namespace emporium::auth
