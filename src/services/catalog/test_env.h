// Test helper: the catalog module in a Runtime over a fresh temp data dir (fake clock, no demo
// seeding unless asked), driven through Runtime::Dispatch like HTTP requests. Requests carry
// an admin, service or no principal, set directly as an in-process caller would.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "platform/core/json.h"
#include "platform/module/testing.h"
#include "services/catalog/api.h"
#include "services/catalog/core.h"

namespace emporium::catalog::testing {

using ::emporium::testing::DataDir;
using ::emporium::testing::JoinFlags;
using ::emporium::testing::ParseObject;
using ::emporium::testing::TestRuntime;

enum class As { kAnonymous, kAdmin, kCustomer, kService };

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}, std::filesystem::path dir = {})
      : dir_("catalog", std::move(dir)),
        rt_(dir_.path(), {Module()}, JoinFlags({"--catalog-seed-demo=false"}, flags), clock_) {}

  Status Start() { return rt_.Start(); }

  http::Response Call(http::Method method, const std::string& target, const std::string& body = "",
                      As as = As::kAnonymous, const std::string& if_match = "") {
    http::Request req = http::NewRequest(method, target, body);
    req.remote_addr = "198.51.100.7";
    if (!if_match.empty()) req.headers.Set("If-Match", if_match);
    if (as == As::kAdmin)
      req.principal = auth::Principal{"user:admin-1", {"admin"}, "storefront", "t1", "", false};
    if (as == As::kCustomer)
      req.principal = auth::Principal{"user:c-1", {"customer"}, "storefront", "t2", "", false};
    if (as == As::kService) req.principal = auth::Principal{"client:order", {}, "order", "t3", "", false};
    return rt_.rt().Dispatch(req);
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

}  // namespace emporium::catalog::testing
