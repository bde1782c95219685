// Test support for modules (library emporium_module_testing, for tests only): modules in a
// Runtime over a test data directory, configured from flags as `emporium` configures them, to be
// driven through Runtime::Dispatch (requests from http::NewRequest).
//
// Configuration errors and unknown commands are test failures (gtest), not returned statuses.
// Not thread-safe: one test thread builds, starts and tears down a TestRuntime; the Runtime it
// holds is as thread-safe as any Runtime.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/core/clock.h"
#include "platform/metrics/metrics.h"
#include "platform/module/module.h"
#include "platform/module/runtime.h"

namespace emporium::testing {

// `body` as a JSON object; an empty object when it is not one.
boost::json::object ParseObject(std::string_view body);
// The string member `key` of `o`; empty when it is missing or not a string.
std::string Str(const boost::json::object& o, std::string_view key);

// `defaults` followed by `flags`, so that a caller's flag overrides a default.
std::vector<std::string> JoinFlags(std::vector<std::string> defaults, const std::vector<std::string>& flags);

// A stand-in for the module `name` (no keys, no dependencies) whose Start adds routes with
// `add_routes`; what the routes capture must outlive the runtime.
ModuleDef FakeModule(std::string name, std::function<Status(http::Router&)> add_routes);

// A test's data directory: `path` when given, else a fresh <gtest TempDir>/<prefix>-<uuid>;
// created when missing. With Cleanup::kRemove it is removed, with everything in it, on
// destruction; with kKeep it stays (a later runtime may reopen it, as after a restart).
class DataDir {
 public:
  enum class Cleanup { kKeep, kRemove };

  explicit DataDir(std::string_view prefix, std::filesystem::path path = {},
                   Cleanup cleanup = Cleanup::kKeep);
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  Cleanup cleanup_;
};

// `modules` in a Runtime over `data_dir`, on `clock`. The configuration is the flags
// `--data-dir=<data_dir> --access-log=false` followed by `flags` (a later flag wins), against
// the runtime's keys and the modules' keys; --log-level is applied process-wide, as `emporium`
// applies it. Whatever the modules capture (fakes, the clock) must outlive the TestRuntime.
class TestRuntime {
 public:
  TestRuntime(const std::filesystem::path& data_dir, std::vector<ModuleDef> modules,
              std::vector<std::string> flags = {}, Clock& clock = SystemClock::Get());
  // Stops the runtime.
  ~TestRuntime();
  TestRuntime(const TestRuntime&) = delete;
  TestRuntime& operator=(const TestRuntime&) = delete;

  // Starts the modules in the order given to the constructor.
  Status Start();

  // Runs the modules' command `words` (e.g. "import catalog") in a runtime of its own over the
  // same data dir and flags, `args` (its flags and positional arguments) coming first. Returns
  // what it printed on stdout and stores its exit code in *exit_code when given.
  std::string RunCommand(const std::string& words, std::vector<std::string> args, int* exit_code = nullptr);

  Runtime& rt() { return *rt_; }

 private:
  std::vector<ModuleDef> modules_;
  std::vector<std::string> flags_;
  std::vector<config::Key> schema_;
  Clock& clock_;
  metrics::Registry metrics_;
  std::unique_ptr<config::Config> config_;
  std::unique_ptr<Runtime> rt_;
};

}  // namespace emporium::testing
