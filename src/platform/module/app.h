// The process entry points behind the command line: `serve`/`up` (run modules behind the HTTP
// server until SIGTERM) and `migrate` (apply the selected modules' migrations and exit).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/module/module.h"

namespace emporium {

// Returns the process exit code. args are the arguments after the sub-command; env is environ.
int Serve(const ModuleRegistry& registry, const std::vector<std::string>& args,
          const std::vector<std::string>& env);
int Migrate(const ModuleRegistry& registry, const std::vector<std::string>& args,
            const std::vector<std::string>& env);
// Runs a module command when args start with its words (e.g. "admin create-user"); nullopt
// when no module has such a command.
std::optional<int> RunCommand(const ModuleRegistry& registry, const std::vector<std::string>& args,
                              const std::vector<std::string>& env);
// Usage text of every configuration key (runtime and modules).
std::string ConfigUsage(const ModuleRegistry& registry);

}  // namespace emporium
