// Test helper: the catalog module in a Runtime over a fresh temp data dir (fake clock, no demo
// seeding unless asked), driven through Runtime::Dispatch like HTTP requests. Requests carry
// an admin, service or no principal, set directly as an in-process caller would.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/metrics/metrics.h"
#include "platform/module/runtime.h"
#include "services/catalog/api.h"
#include "services/catalog/core.h"

namespace emporium::catalog::testing {

enum class As { kAnonymous, kAdmin, kCustomer, kService };

inline boost::json::object ParseObject(const std::string& body) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return {};
  return v->as_object();
}

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}, std::filesystem::path dir = {}) {
    dir_ = dir.empty() ? std::filesystem::path(::testing::TempDir()) / ("catalog-" + NewUuid()) : dir;
    std::filesystem::create_directories(dir_);
    flags_ = {"--data-dir=" + dir_.string(), "--access-log=false", "--catalog-seed-demo=false"};
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
                      As as = As::kAnonymous, const std::string& if_match = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    req.remote_addr = "198.51.100.7";
    if (!body.empty()) req.headers.Set("Content-Type", "application/json");
    if (!if_match.empty()) req.headers.Set("If-Match", if_match);
    if (as == As::kAdmin)
      req.principal = auth::Principal{"user:admin-1", {"admin"}, "storefront", "t1", "", false};
    if (as == As::kCustomer)
      req.principal = auth::Principal{"user:c-1", {"customer"}, "storefront", "t2", "", false};
    if (as == As::kService) req.principal = auth::Principal{"client:order", {}, "order", "t3", "", false};
    return rt_->Dispatch(req);
  }
  http::Response Get(const std::string& target, As as = As::kAnonymous) {
    return Call(http::Method::kGet, target, "", as);
  }
  http::Response Post(const std::string& target, const boost::json::value& body, As as) {
    return Call(http::Method::kPost, target, json::Dump(body), as);
  }

  // Creates a category path and returns the leaf id.
  std::string Category(const std::vector<std::string>& path) {
    std::string parent;
    for (const auto& name : path) {
      boost::json::object o{{"name", name}};
      if (!parent.empty()) o["parent_id"] = parent;
      auto r = Post("/v1/admin/categories", o, As::kAdmin);
      EXPECT_EQ(r.status, 201) << r.body;
      parent = std::string(ParseObject(r.body)["id"].as_string());
    }
    return parent;
  }
  // Creates a product (201 expected) and returns its JSON.
  boost::json::object Product(const std::string& category_id, const std::string& title, int64_t price,
                              const std::string& brand = "Acme") {
    boost::json::object o{{"title", title},
                          {"brand", brand},
                          {"category_id", category_id},
                          {"price", boost::json::object{{"amount", price}, {"currency", "USD"}}}};
    auto r = Post("/v1/admin/products", o, As::kAdmin);
    EXPECT_EQ(r.status, 201) << r.body;
    return ParseObject(r.body);
  }
  http::Response PutStock(const std::string& product_id, int64_t wh1, int64_t wh2) {
    boost::json::array whs{boost::json::object{{"warehouse_id", "wh-1"}, {"on_hand", wh1}},
                           boost::json::object{{"warehouse_id", "wh-2"}, {"on_hand", wh2}}};
    return Call(http::Method::kPut, "/v1/admin/inventory/" + product_id,
                json::Dump(boost::json::object{{"warehouses", whs}}), As::kAdmin);
  }

  // Runs a module command (e.g. "import catalog") on this data dir; returns stdout.
  std::string RunCommand(const std::string& words, std::vector<std::string> args, int* exit_code = nullptr) {
    for (const Command& cmd : def_.commands) {
      if (cmd.words != words) continue;
      std::vector<config::Key> schema = schema_;
      schema.insert(schema.end(), cmd.keys.begin(), cmd.keys.end());
      args.insert(args.end(), flags_.begin(), flags_.end());
      std::vector<std::string> positional;
      auto c = config::Config::Load(schema, args, {}, &positional);
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      Runtime rt(*c, metrics_, clock_);
      ::testing::internal::CaptureStdout();
      int code = cmd.run(rt, positional);
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

}  // namespace emporium::catalog::testing
