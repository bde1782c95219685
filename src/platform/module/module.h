// Modules and their registry, in the style of Grafana Loki/Mimir's module manager.
//
// Each module declares its dependencies. `--target=a,b` (default "all") selects modules; the
// registry expands the selection to its dependency closure and orders it so dependencies start
// first (and stop last). Modules are listed explicitly in src/services/modules.cc — no static
// initialiser tricks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "platform/config/config.h"
#include "platform/core/status.h"

namespace emporium {

class Runtime;

// A running module. Start() opens its storage, applies its migrations, registers its routes
// on the runtime's router and starts its workers; it is called after every dependency started.
// Stop() is called in reverse start order and must not fail.
class Module {
 public:
  virtual ~Module() = default;
  virtual Status Start() = 0;
  // Applies the module's schema migrations (called by Start() and by `emporium migrate`).
  virtual Status Migrate() { return Status::Ok(); }
  virtual void Stop() {}
  // Whether the module can serve traffic now (readiness probe).
  virtual bool Ready() const { return true; }
};

// A command-line command a module provides, e.g. `emporium admin create-user --email=...`.
// run() gets a Runtime with configuration loaded (storage opens lazily) and the arguments after
// the command's words that are not configuration flags; it returns the exit code.
struct Command {
  std::string words;  // "admin create-user"
  std::string help;
  std::vector<config::Key> keys;  // the command's own flags (--email, ...)
  std::function<int(Runtime&, const std::vector<std::string>& positional)> run;
};

struct ModuleDef {
  std::string name;
  std::string description;
  std::vector<std::string> deps;
  bool in_all = true;             // part of the "all" target
  std::vector<config::Key> keys;  // the module's own configuration keys
  std::function<std::unique_ptr<Module>(Runtime&)> make;
  std::vector<Command> commands;
};

class ModuleRegistry {
 public:
  // kAlreadyExists for a duplicate name; kInvalidArgument for a reserved name ("all").
  Status Add(ModuleDef def);
  // Expands targets ("all" and module names) to the dependency closure, dependencies first.
  // kInvalidArgument naming the unknown target (and listing the valid ones), or the cycle.
  Result<std::vector<const ModuleDef*>> Resolve(const std::vector<std::string>& targets) const;
  const std::vector<ModuleDef>& defs() const { return defs_; }
  const ModuleDef* Find(std::string_view name) const;
  // One line per module: name, "*" when in all, dependencies, description.
  std::string ListTargets() const;

 private:
  std::vector<ModuleDef> defs_;
};

}  // namespace emporium
