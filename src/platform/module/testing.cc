#include "platform/module/testing.h"

#include <gtest/gtest.h>

#include <system_error>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/log/log.h"

namespace emporium::testing {

boost::json::object ParseObject(std::string_view body) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return {};
  return v->as_object();
}

std::string Str(const boost::json::object& o, std::string_view key) {
  return json::Str(o, key);
}

std::vector<std::string> JoinFlags(std::vector<std::string> defaults, const std::vector<std::string>& flags) {
  defaults.insert(defaults.end(), flags.begin(), flags.end());
  return defaults;
}

DataDir::DataDir(std::string_view prefix, std::filesystem::path path, Cleanup cleanup)
    : path_(path.empty()
                ? std::filesystem::path(::testing::TempDir()) / (std::string(prefix) + "-" + NewUuid())
                : std::move(path)),
      cleanup_(cleanup) {
  std::filesystem::create_directories(path_);
}

DataDir::~DataDir() {
  if (cleanup_ != Cleanup::kRemove) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestRuntime::TestRuntime(const std::filesystem::path& data_dir, std::vector<ModuleDef> modules,
                         std::vector<std::string> flags, Clock& clock)
    : modules_(std::move(modules)),
      flags_{"--data-dir=" + data_dir.string(), "--access-log=false"},
      schema_(RuntimeKeys()),
      clock_(clock) {
  flags_.insert(flags_.end(), flags.begin(), flags.end());
  for (const ModuleDef& m : modules_) schema_.insert(schema_.end(), m.keys.begin(), m.keys.end());
  auto c = config::Config::Load(schema_, flags_, {});
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  config_ = std::make_unique<config::Config>(std::move(c).value());
  log::Level level = log::Level::kInfo;
  log::ParseLevel(config_->Get("log-level"), &level);
  log::SetLevel(level);
  rt_ = std::make_unique<Runtime>(*config_, metrics_, clock_);
}

TestRuntime::~TestRuntime() {
  rt_->Stop();
}

ModuleDef FakeModule(std::string name, std::function<Status(http::Router&)> add_routes) {
  class Fake final : public Module {
   public:
    Fake(Runtime& rt, std::function<Status(http::Router&)> add_routes)
        : rt_(rt), add_routes_(std::move(add_routes)) {}
    Status Start() override { return add_routes_(rt_.router()); }

   private:
    Runtime& rt_;
    std::function<Status(http::Router&)> add_routes_;
  };
  std::string description = "fake " + name;
  return ModuleDef{.name = std::move(name),
                   .description = std::move(description),
                   .deps = {},
                   .in_all = true,
                   .keys = {},
                   .make = [add_routes = std::move(add_routes)](
                               Runtime& rt) { return std::make_unique<Fake>(rt, add_routes); },
                   .commands = {}};
}

Status TestRuntime::Start() {
  std::vector<const ModuleDef*> order;
  for (const ModuleDef& m : modules_) order.push_back(&m);
  return rt_->Start(order);
}

std::string TestRuntime::RunCommand(const std::string& words, std::vector<std::string> args, int* exit_code) {
  for (const ModuleDef& m : modules_) {
    for (const Command& cmd : m.commands) {
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
  }
  ADD_FAILURE() << "no command " << words;
  return {};
}

}  // namespace emporium::testing
