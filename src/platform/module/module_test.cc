#include "platform/module/module.h"

#include <gtest/gtest.h>

#include "platform/metrics/metrics.h"
#include "platform/module/runtime.h"

namespace emporium {
namespace {

struct Journal {
  std::vector<std::string> events;
};

class Recording final : public Module {
 public:
  Recording(std::string name, Journal& j, bool fail) : name_(std::move(name)), j_(j), fail_(fail) {}
  Status Start() override {
    j_.events.push_back("start " + name_);
    return fail_ ? Unavailable("disk on fire") : Status::Ok();
  }
  void Stop() override { j_.events.push_back("stop " + name_); }

 private:
  std::string name_;
  Journal& j_;
  bool fail_;
};

ModuleDef Def(std::string name, std::vector<std::string> deps, Journal& j, bool fail = false,
              bool in_all = true) {
  return ModuleDef{name, "test module", std::move(deps), in_all, {}, [name, &j, fail](Runtime&) {
                     return std::make_unique<Recording>(name, j, fail);
                   }};
}

std::vector<std::string> Names(const std::vector<const ModuleDef*>& defs) {
  std::vector<std::string> out;
  for (auto* d : defs) out.push_back(d->name);
  return out;
}

TEST(ModuleRegistry, ResolvesDependenciesFirst) {
  Journal j;
  ModuleRegistry r;
  ASSERT_TRUE(r.Add(Def("order", {"catalog", "payment"}, j)).ok());
  ASSERT_TRUE(r.Add(Def("catalog", {}, j)).ok());
  ASSERT_TRUE(r.Add(Def("payment", {"catalog"}, j)).ok());
  ASSERT_TRUE(r.Add(Def("sandbox", {}, j, false, /*in_all=*/false)).ok());
  auto one = r.Resolve({"order"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Names(*one), (std::vector<std::string>{"catalog", "payment", "order"}));
  auto all = r.Resolve({"all"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"catalog", "payment", "order"}));
  auto with_sandbox = r.Resolve({"all", "sandbox"});
  ASSERT_TRUE(with_sandbox.ok());
  EXPECT_EQ(with_sandbox->size(), 4u);
  EXPECT_EQ(Names(*r.Resolve({"catalog"})), std::vector<std::string>{"catalog"});
}

TEST(ModuleRegistry, RejectsUnknownTargetsCyclesAndDuplicates) {
  Journal j;
  ModuleRegistry r;
  ASSERT_TRUE(r.Add(Def("a", {"b"}, j)).ok());
  ASSERT_TRUE(r.Add(Def("b", {"a"}, j)).ok());
  auto unknown = r.Resolve({"nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown target 'nope'"), std::string::npos);
  auto cycle = r.Resolve({"a"});
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("cycle"), std::string::npos);
  EXPECT_EQ(r.Add(Def("a", {}, j)).code(), Code::kAlreadyExists);
  EXPECT_EQ(r.Add(Def("all", {}, j)).code(), Code::kInvalidArgument);
  EXPECT_FALSE(r.Resolve({}).ok());
}

TEST(ModuleRegistry, ListTargets) {
  Journal j;
  ModuleRegistry r;
  ASSERT_TRUE(r.Add(Def("catalog", {}, j)).ok());
  ASSERT_TRUE(r.Add(Def("order", {"catalog"}, j)).ok());
  std::string text = r.ListTargets();
  EXPECT_NE(text.find("catalog"), std::string::npos);
  EXPECT_NE(text.find("deps=[catalog]"), std::string::npos);
}

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeTest() {
    keys_ = RuntimeKeys();
    auto c = config::Config::Load(keys_, {"--data-dir=" + ::testing::TempDir() + "/rt"}, {});
    EXPECT_TRUE(c.ok());
    config_ = std::make_unique<config::Config>(std::move(c).value());
  }
  std::vector<config::Key> keys_;
  std::unique_ptr<config::Config> config_;
  metrics::Registry metrics_;
};

TEST_F(RuntimeTest, StartsInOrderAndStopsInReverse) {
  Journal j;
  ModuleRegistry r;
  ASSERT_TRUE(r.Add(Def("a", {}, j)).ok());
  ASSERT_TRUE(r.Add(Def("b", {"a"}, j)).ok());
  ASSERT_TRUE(r.Add(Def("c", {"b"}, j)).ok());
  Runtime rt(*config_, metrics_);
  ASSERT_TRUE(rt.Start(*r.Resolve({"all"})).ok());
  EXPECT_EQ(rt.running(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(rt.Ready());
  rt.Stop();
  rt.Stop();
  EXPECT_EQ(j.events,
            (std::vector<std::string>{"start a", "start b", "start c", "stop c", "stop b", "stop a"}));
}

TEST_F(RuntimeTest, FailedModuleStopsTheStartedOnesAndNamesItself) {
  Journal j;
  ModuleRegistry r;
  ASSERT_TRUE(r.Add(Def("a", {}, j)).ok());
  ASSERT_TRUE(r.Add(Def("b", {"a"}, j, /*fail=*/true)).ok());
  ASSERT_TRUE(r.Add(Def("c", {"b"}, j)).ok());
  Runtime rt(*config_, metrics_);
  Status s = rt.Start(*r.Resolve({"c"}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("module 'b' failed to start: disk on fire"), std::string::npos);
  EXPECT_EQ(j.events, (std::vector<std::string>{"start a", "start b", "stop a"}));
  EXPECT_TRUE(rt.running().empty());
}

TEST_F(RuntimeTest, ClientForAModuleNeitherLocalNorRemoteFails) {
  Runtime rt(*config_, metrics_);
  auto c = rt.Client("catalog");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
}

TEST_F(RuntimeTest, ModuleDatabasesAreSeparateFiles) {
  Runtime rt(*config_, metrics_);
  auto a = rt.Database("alpha");
  auto b = rt.Database("beta");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(*a, *b);
  EXPECT_EQ(*rt.Database("alpha"), *a);
  EXPECT_TRUE(std::filesystem::exists(rt.data_dir() / "alpha.db"));
}

}  // namespace
}  // namespace emporium
