// Wiring of the identity module: configuration keys, start-up (storage, keys, event relay,
// routes, bootstrap admin) and the command-line commands.
#include <fstream>
#include <iostream>
#include <sstream>

#include "platform/log/log.h"
#include "services/identity/api.h"
#include "services/identity/core.h"
#include "services/identity/http.h"

namespace emporium::identity {
namespace {

// The first line of a password file (trailing newline and CR removed).
Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return FailedPrecondition("cannot read password file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return FailedPrecondition("password file " + path + " is empty");
  return line;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Creates the user unless the email is registered. True when created.
Result<bool> CreateUser(Accounts& accounts, NewUser in) {
  FieldErrors errors;
  auto user = accounts.Register(in, &errors);
  if (user.ok()) return true;
  if (user.status().code() == Code::kAlreadyExists) return false;
  std::string detail;
  for (const auto& e : errors) detail += "; " + e.field + " " + e.message;
  return Status(user.status().code(), user.status().message() + detail);
}

class IdentityModule final : public emporium::Module {
 public:
  explicit IdentityModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    EMP_RETURN_IF_ERROR(core_.Open(rt_, false));
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(core_.publisher().Start(core_.db(), *bus, {{std::string(kUserTopic), 8}}));
    EMP_RETURN_IF_ERROR(Bootstrap());
    // A signing key exists before the first JWKS fetch or token.
    EMP_RETURN_IF_ERROR(core_.keys().Jwks().status());
    HttpDeps deps{core_.accounts(), core_.oauth(), core_.keys(), rt_.public_url()};
    EMP_RETURN_IF_ERROR(AddRoutes(rt_.router(), deps));
    return AddAuthorizeRoutes(rt_.router(), deps);
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("identity"));
    return Store(*db, nullptr).Migrate();
  }

  void Stop() override { core_.publisher().Stop(); }

 private:
  Status Bootstrap() {
    const std::string& email = rt_.config().Get("identity-bootstrap-admin-email");
    const std::string& file = rt_.config().Get("identity-bootstrap-admin-password-file");
    if (email.empty() && file.empty()) return Status::Ok();
    if (email.empty() || file.empty()) {
      return FailedPrecondition(
          "set both identity-bootstrap-admin-email and identity-bootstrap-admin-password-file (or neither)");
    }
    EMP_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(file));
    EMP_ASSIGN_OR_RETURN(bool created,
                         CreateUser(core_.accounts(), {email, password, "Administrator", {"admin"}}));
    if (created) log::Info("bootstrap admin created");
    return Status::Ok();
  }

  Runtime& rt_;
  Core core_;
};

int CreateUserCommand(Runtime& rt, const std::vector<std::string>&) {
  const config::Config& c = rt.config();
  if (c.Get("email").empty() || c.Get("password-file").empty()) {
    std::cerr << "emporium admin create-user: --email and --password-file are required\n";
    return 2;
  }
  auto password = ReadPasswordFile(c.Get("password-file"));
  if (!password.ok()) {
    std::cerr << "emporium admin create-user: " << password.status().message() << "\n";
    return 2;
  }
  Core core;
  if (Status s = core.Open(rt, true); !s.ok()) {
    std::cerr << "emporium admin create-user: " << s.ToString() << "\n";
    return 1;
  }
  std::string name = c.Get("name").empty() ? "Administrator" : c.Get("name");
  auto created = CreateUser(core.accounts(), {c.Get("email"), *password, name, SplitList(c.Get("roles"))});
  if (!created.ok()) {
    std::cerr << "emporium admin create-user: " << created.status().ToString() << "\n";
    return 1;
  }
  std::cout << (*created ? "user created\n" : "a user with this email already exists; nothing changed\n");
  return *created ? 0 : 1;
}

int CreateClientCommand(Runtime& rt, const std::vector<std::string>&) {
  const config::Config& c = rt.config();
  Client client;
  client.client_id = c.Get("client-id");
  client.roles = SplitList(c.Get("roles"));
  client.grant_types = SplitList(c.Get("grant-types"));
  client.redirect_uris = SplitList(c.Get("redirect-uris"));
  bool confidential = !c.Bool("public");
  if (client.client_id.empty()) {
    std::cerr << "emporium identity create-client: --client-id is required\n";
    return 2;
  }
  for (const auto& g : client.grant_types) {
    if (g != "client_credentials" && g != "authorization_code" && g != "refresh_token") {
      std::cerr << "emporium identity create-client: unknown grant type '" << g << "'\n";
      return 2;
    }
    if (g == "client_credentials" && !confidential) {
      std::cerr << "emporium identity create-client: client_credentials needs a confidential client\n";
      return 2;
    }
  }
  Core core;
  if (Status s = core.Open(rt, true); !s.ok()) {
    std::cerr << "emporium identity create-client: " << s.ToString() << "\n";
    return 1;
  }
  auto secret = core.oauth().CreateClient(client, confidential);
  if (!secret.ok()) {
    std::cerr << "emporium identity create-client: " << secret.status().ToString() << "\n";
    return 1;
  }
  std::cout << "client_id=" << client.client_id << "\n";
  if (confidential) std::cout << "client_secret=" << *secret << "\n(shown once; store it now)\n";
  return 0;
}

}  // namespace

ModuleDef Module() {
  using config::Type;
  return ModuleDef{
      .name = "identity",
      .description = "Accounts, OAuth2/OIDC tokens and signing keys",
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<IdentityModule>(rt); },
      .commands =
          {
              Command{"admin create-user",
                      "Create a user (an admin by default) with a password read from a file.",
                      {{"email", Type::kString, "", "Email of the user."},
                       {"password-file", Type::kString, "", "File whose first line is the password."},
                       {"name", Type::kString, "", "Display name (default: Administrator)."},
                       {"roles", Type::kList, "admin", "Roles: customer, support, admin."}},
                      CreateUserCommand},
              Command{"identity create-client",
                      "Register an OAuth2 client; prints a confidential client's secret once.",
                      {{"client-id", Type::kString, "", "The client's id."},
                       {"roles", Type::kList, "", "Roles of its client_credentials tokens."},
                       {"grant-types", Type::kList, "client_credentials",
                        "client_credentials, authorization_code, refresh_token."},
                       {"redirect-uris", Type::kList, "", "Exact redirect URIs (authorization_code)."},
                       {"public", Type::kBool, "false", "A public client (no secret; PKCE)."}},
                      CreateClientCommand},
          },
  };
}

}  // namespace emporium::identity
