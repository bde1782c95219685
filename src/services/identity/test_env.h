// Test helper: the identity module in a Runtime over a fresh temp data dir (fast argon2 cost,
// fake clock), driven through Runtime::Dispatch like HTTP requests. Single-threaded use.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "platform/core/json.h"
#include "platform/http/url.h"
#include "platform/module/testing.h"
#include "services/identity/api.h"
#include "services/identity/core.h"

namespace emporium::identity::testing {

using ::emporium::http::FormEncode;
using ::emporium::testing::DataDir;
using ::emporium::testing::JoinFlags;
using ::emporium::testing::ParseObject;
using ::emporium::testing::Str;
using ::emporium::testing::TestRuntime;

constexpr const char* kPassword = "correct horse battery";

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}, std::filesystem::path dir = {})
      : dir_("identity", std::move(dir)),
        rt_(dir_.path(), {Module()},
            JoinFlags({"--identity-password-ops=1", "--identity-password-mem-kib=64",
                       "--public-url=https://shop.test"},
                      flags),
            clock_) {}

  Status Start() { return rt_.Start(); }

  http::Response Call(http::Method method, const std::string& target, const std::string& body = "",
                      const std::string& content_type = "application/json", const std::string& bearer = "",
                      const std::string& ip = "198.51.100.7") {
    http::Request req = http::NewRequest(method, target, body, content_type);
    req.remote_addr = ip;
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    return rt_.rt().Dispatch(req);
  }
  http::Response Get(const std::string& target, const std::string& bearer = "") {
    return Call(http::Method::kGet, target, "", "", bearer);
  }
  http::Response PostForm(const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& f,
                          const std::string& ip = "198.51.100.7") {
    return Call(http::Method::kPost, target, FormEncode(f), "application/x-www-form-urlencoded", "", ip);
  }

  http::Response RegisterUser(const std::string& email, const std::string& password = kPassword,
                              const std::string& name = "Ada Lovelace") {
    boost::json::object o{{"email", email}, {"password", password}, {"name", name}};
    return Call(http::Method::kPost, "/v1/users", json::Dump(o));
  }
  http::Response PasswordGrant(const std::string& email, const std::string& password = kPassword,
                               const std::string& ip = "198.51.100.7") {
    return PostForm("/oauth2/token",
                    {{"grant_type", "password"},
                     {"client_id", "storefront"},
                     {"username", email},
                     {"password", password}},
                    ip);
  }
  // Registers and signs in; returns the token response object.
  boost::json::object SignUp(const std::string& email) {
    auto r = RegisterUser(email);
    EXPECT_EQ(r.status, 201) << r.body;
    auto t = PasswordGrant(email);
    EXPECT_EQ(t.status, 200) << t.body;
    return ParseObject(t.body);
  }

  // Runs a module command (e.g. "identity create-client") on this data dir; returns stdout.
  std::string RunCommand(const std::string& words, std::vector<std::string> args, int* exit_code = nullptr) {
    return rt_.RunCommand(words, std::move(args), exit_code);
  }

  Runtime& rt() { return rt_.rt(); }
  FakeClock& clock() { return clock_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  DataDir dir_;
  FakeClock clock_;
  TestRuntime rt_;
};

}  // namespace emporium::identity::testing
