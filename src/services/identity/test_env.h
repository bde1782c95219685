// Test helper: the identity module in a Runtime over a fresh temp data dir (fast argon2 cost,
// fake clock), driven through Runtime::Dispatch like HTTP requests. Single-threaded use.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/http/url.h"
#include "platform/metrics/metrics.h"
#include "platform/module/runtime.h"
#include "services/identity/api.h"
#include "services/identity/core.h"

namespace emporium::identity::testing {

inline std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    for (const std::string* s : {&k, &v}) {
      for (unsigned char c : *s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
      }
      if (s == &k) out += '=';
    }
  }
  return out;
}

inline boost::json::object ParseObject(const std::string& body) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return {};
  return v->as_object();
}

inline std::string Str(const boost::json::object& o, const char* key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

constexpr const char* kPassword = "correct horse battery";

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}, std::filesystem::path dir = {}) {
    dir_ = dir.empty() ? std::filesystem::path(::testing::TempDir()) / ("identity-" + NewUuid()) : dir;
    std::filesystem::create_directories(dir_);
    flags_ = {"--data-dir=" + dir_.string(), "--identity-password-ops=1", "--identity-password-mem-kib=64",
              "--public-url=https://shop.test", "--access-log=false"};
    flags_.insert(flags_.end(), flags.begin(), flags.end());
    schema_ = RuntimeKeys();
    for (auto& k : ConfigKeys()) schema_.push_back(k);
    auto c = config::Config::Load(schema_, flags_, {});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<config::Config>(std::move(c).value());
    rt_ = std::make_unique<Runtime>(*config_, metrics_, clock_);
    def_ = Module();
  }
  ~Env() { rt_->Stop(); }

  Status Start() { return rt_->Start({&def_}); }

  http::Response Call(http::Method method, const std::string& target, const std::string& body = "",
                      const std::string& content_type = "application/json", const std::string& bearer = "",
                      const std::string& ip = "198.51.100.7") {
    http::Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    req.remote_addr = ip;
    if (!body.empty()) req.headers.Set("Content-Type", content_type);
    if (!bearer.empty()) req.headers.Set("Authorization", "Bearer " + bearer);
    return rt_->Dispatch(req);
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
    for (const Command& cmd : def_.commands) {
      if (cmd.words != words) continue;
      std::vector<config::Key> schema = schema_;
      schema.insert(schema.end(), cmd.keys.begin(), cmd.keys.end());
      args.insert(args.end(), flags_.begin(), flags_.end());
      auto c = config::Config::Load(schema, args, {});
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      Runtime rt(*c, metrics_, clock_);
      ::testing::internal::CaptureStdout();
      int code = cmd.run(rt, {});
      std::string out = ::testing::internal::GetCapturedStdout();
      if (exit_code) *exit_code = code;
      return out;
    }
    ADD_FAILURE() << "no command " << words;
    return {};
  }

  Runtime& rt() { return *rt_; }
  FakeClock& clock() { return clock_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> flags_;
  std::vector<config::Key> schema_;
  std::unique_ptr<config::Config> config_;
  metrics::Registry metrics_;
  FakeClock clock_;
  std::unique_ptr<Runtime> rt_;
  ModuleDef def_;
};

}  // namespace emporium::identity::testing
