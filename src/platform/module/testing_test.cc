#include "platform/module/testing.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <iostream>

#include "platform/log/log.h"

namespace emporium::testing {
namespace {

// A module that records its starts and stops, with one configuration key and one command that
// prints its positional arguments and the key's value.
ModuleDef Recorder(std::string name, std::vector<std::string>& journal) {
  class Mod final : public Module {
   public:
    Mod(std::string name, std::vector<std::string>& journal) : name_(std::move(name)), journal_(journal) {}
    Status Start() override {
      journal_.push_back("start " + name_);
      return Status::Ok();
    }
    void Stop() override { journal_.push_back("stop " + name_); }

   private:
    std::string name_;
    std::vector<std::string>& journal_;
  };
  ModuleDef def;
  def.name = name;
  def.keys = {{name + "-greeting", config::Type::kString, "hello", "A greeting."}};
  def.make = [name, &journal](Runtime&) { return std::make_unique<Mod>(name, journal); };
  def.commands = {{name + " greet",
                   "Prints the greeting.",
                   {{"shout", config::Type::kBool, "false", "Loudly."}},
                   [name](Runtime& rt, const std::vector<std::string>& positional) {
                     std::cout << rt.config().Get(name + "-greeting");
                     for (const auto& p : positional) std::cout << " " << p;
                     std::cout << (rt.config().Bool("shout") ? "!" : "") << "\n";
                     return static_cast<int>(positional.size());
                   }}};
  return def;
}

TEST(ModuleTesting, ParseObjectAndStrAreEmptyForAnythingElse) {
  EXPECT_EQ(Str(ParseObject(R"({"id":"p-1","n":3})"), "id"), "p-1");
  EXPECT_EQ(Str(ParseObject(R"({"id":"p-1","n":3})"), "n"), "");
  EXPECT_EQ(Str(ParseObject(R"({"id":"p-1"})"), "missing"), "");
  EXPECT_TRUE(ParseObject("[1,2]").empty());
  EXPECT_TRUE(ParseObject("not json").empty());
}

TEST(ModuleTesting, JoinFlagsPutsTheCallersFlagsLast) {
  EXPECT_EQ(JoinFlags({"--a=1", "--b=2"}, {"--a=3"}), (std::vector<std::string>{"--a=1", "--b=2", "--a=3"}));
}

TEST(ModuleTesting, DataDirIsFreshAndRemovedOnlyWhenAsked) {
  std::filesystem::path removed, kept;
  {
    DataDir a("alpha", {}, DataDir::Cleanup::kRemove);
    DataDir b("alpha");
    removed = a.path();
    kept = b.path();
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(a.path().string().starts_with(::testing::TempDir())) << a.path();
    EXPECT_TRUE(a.path().filename().string().starts_with("alpha-"));
    EXPECT_TRUE(std::filesystem::is_directory(a.path()));
    EXPECT_TRUE(std::filesystem::is_directory(b.path()));
  }
  EXPECT_FALSE(std::filesystem::exists(removed));
  EXPECT_TRUE(std::filesystem::is_directory(kept));
  {
    DataDir again("other", kept / "nested");
    EXPECT_EQ(again.path(), kept / "nested");
    EXPECT_TRUE(std::filesystem::is_directory(again.path()));
  }
  EXPECT_TRUE(std::filesystem::is_directory(kept / "nested"));
  std::filesystem::remove_all(kept);
}

TEST(ModuleTesting, RuntimeTakesTheDataDirDefaultsAndLaterFlags) {
  DataDir dir("rt", {}, DataDir::Cleanup::kRemove);
  std::vector<std::string> journal;
  {
    TestRuntime rt(dir.path(), {Recorder("first", journal), Recorder("second", journal)},
                   JoinFlags({"--first-greeting=hi", "--log-level=error"}, {"--first-greeting=hey"}));
    EXPECT_EQ(rt.rt().data_dir(), dir.path());
    EXPECT_FALSE(rt.rt().config().Bool("access-log"));
    EXPECT_EQ(rt.rt().config().Get("first-greeting"), "hey");
    EXPECT_EQ(rt.rt().config().Get("second-greeting"), "hello");
    EXPECT_FALSE(log::Enabled(log::Level::kWarn));
    ASSERT_TRUE(rt.Start().ok());
    EXPECT_EQ(rt.rt().running(), (std::vector<std::string>{"first", "second"}));
  }
  EXPECT_EQ(journal, (std::vector<std::string>{"start first", "start second", "stop second", "stop first"}));
  TestRuntime loud(dir.path(), {}, {"--access-log=true"});
  EXPECT_TRUE(loud.rt().config().Bool("access-log"));
  EXPECT_TRUE(log::Enabled(log::Level::kInfo));
}

TEST(ModuleTesting, RunCommandPassesPositionalArgumentsAndItsOwnFlags) {
  DataDir dir("cmd", {}, DataDir::Cleanup::kRemove);
  std::vector<std::string> journal;
  TestRuntime rt(dir.path(), {Recorder("first", journal), Recorder("second", journal)},
                 {"--second-greeting=yo"});
  int code = -1;
  EXPECT_EQ(rt.RunCommand("second greet", {"a", "--shout", "b"}, &code), "yo a b!\n");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(rt.RunCommand("first greet", {}), "hello\n");
  EXPECT_TRUE(journal.empty()) << "a command does not start the modules";
  EXPECT_NONFATAL_FAILURE(rt.RunCommand("third greet", {}), "no command third greet");
}

}  // namespace
}  // namespace emporium::testing
