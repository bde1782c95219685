// info's routes: /v1/info, and the model registry for admins (GET /v1/admin/models lists every
// model's versions with their metrics; POST /v1/admin/models/{name}/promote makes one current).
#include <gtest/gtest.h>

#include "platform/core/json.h"
#include "platform/ml/registry/registry.h"
#include "platform/module/testing.h"
#include "services/info/api.h"

namespace emporium::info {
namespace {

using ::emporium::testing::ParseObject;
using ::emporium::testing::Str;

class Env {
 public:
  Env() : dir_("info"), rt_(dir_.path(), {Module()}, {"--log-level=warn"}) {}
  Status Start() { return rt_.Start(); }
  const std::filesystem::path& path() const { return dir_.path(); }

  http::Response Call(http::Method method, const std::string& target, const std::string& role,
                      const std::string& body = "") {
    http::Request req = http::NewRequest(method, target, body);
    if (!role.empty()) {
      auth::Principal p;
      p.subject = "user:u-1";
      p.roles = {role};
      p.client_id = "storefront";
      req.principal = p;
    }
    return rt_.rt().Dispatch(req);
  }

 private:
  ::emporium::testing::DataDir dir_;
  ::emporium::testing::TestRuntime rt_;
};

TEST(InfoModule, AdminsListTheModelsAndPromoteAVersion) {
  Env env;
  ASSERT_TRUE(env.Start().ok());
  auto empty = env.Call(http::Method::kGet, "/v1/admin/models", "admin");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(ParseObject(empty.body).at("models").as_array().empty());

  ml::ModelStore store(env.path() / "models", "recommend");
  auto first = store.Publish({{"a.bin", "1"}}, R"({"ndcg":0.31})");
  auto second = store.Publish({{"a.bin", "2"}}, R"({"ndcg":0.35})");
  ASSERT_TRUE(first.ok() && second.ok());

  auto listed = env.Call(http::Method::kGet, "/v1/admin/models", "admin");
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto models = ParseObject(listed.body).at("models").as_array();
  ASSERT_EQ(models.size(), 1u);
  const auto& m = models[0].as_object();
  EXPECT_EQ(Str(m, "name"), "recommend");
  EXPECT_EQ(Str(m, "current"), second->version);
  const auto& versions = m.at("versions").as_array();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(Str(versions[0].as_object(), "version"), second->version) << "newest first";
  EXPECT_TRUE(versions[0].at("current").as_bool());
  EXPECT_FALSE(versions[1].at("current").as_bool());
  EXPECT_DOUBLE_EQ(versions[1].at("metrics").at("ndcg").as_double(), 0.31);

  // A rollback to the first version.
  auto promoted = env.Call(http::Method::kPost, "/v1/admin/models/recommend/promote", "admin",
                           R"({"version":")" + first->version + R"("})");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(Str(ParseObject(promoted.body), "current"), first->version);
  auto current = store.Current();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version, first->version);

  struct Case {
    std::string target, body;
    int status;
  };
  for (const Case& c :
       std::vector<Case>{{"/v1/admin/models/recommend/promote", R"({"version":"v-none"})", 404},
                         {"/v1/admin/models/nope/promote", R"({"version":"x"})", 404},
                         {"/v1/admin/models/..%2Fmodels/promote", R"({"version":"x"})", 404},
                         {"/v1/admin/models/recommend/promote", "{}", 400},
                         {"/v1/admin/models/recommend/promote", "not json", 400}}) {
    auto r = env.Call(http::Method::kPost, c.target, "admin", c.body);
    EXPECT_EQ(r.status, c.status) << c.target << " " << c.body << ": " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  }
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/admin/models", "customer").status, 403);
  EXPECT_EQ(env.Call(http::Method::kGet, "/v1/admin/models", "").status, 401);
  EXPECT_EQ(env.Call(http::Method::kPost, "/v1/admin/models/recommend/promote", "customer",
                     R"({"version":")" + second->version + R"("})")
                .status,
            403);
  EXPECT_EQ(store.Current()->version, first->version) << "a refused promotion changes nothing";
}

}  // namespace
}  // namespace emporium::info
