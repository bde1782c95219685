// emporium: one binary, every module. Parses the command line and hands over; nothing else.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "platform/module/app.h"
#include "services/modules.h"

extern char** environ;

namespace {

constexpr const char* kUsage = R"(emporium — AI-native commerce platform

Usage:
  emporium up [flags]                 all modules in one process (embedded storage in --data-dir)
  emporium serve [--target=a,b] [flags]
                                      the selected modules and their dependencies
  emporium migrate [--target=a,b] [flags]
                                      apply the modules' schema migrations and exit
  emporium --list-targets             list modules and their dependencies
  emporium version
  emporium help                       this text and every configuration key
  emporium <module command> [flags]   e.g. `emporium admin create-user --email=... --password-file=...`

Flags override EMPORIUM_* environment variables, which override defaults.
)";

std::vector<std::string> Environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  emporium::ModuleRegistry registry = emporium::AllModules();
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--list-targets" || cmd == "list-targets") {
    std::cout << registry.ListTargets();
    return 0;
  }
  if (cmd == "version" || cmd == "--version") {
    std::cout << "emporium " << EMPORIUM_VERSION << "\n";
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::cout << kUsage << "\nConfiguration keys:\n" << emporium::ConfigUsage(registry);
    return 0;
  }
  if (cmd == "serve") return emporium::Serve(registry, rest, Environment());
  if (cmd == "up") {
    rest.insert(rest.begin(), "--target=all");
    return emporium::Serve(registry, rest, Environment());
  }
  if (cmd == "migrate") return emporium::Migrate(registry, rest, Environment());
  if (auto code = emporium::RunCommand(registry, args, Environment())) return *code;
  std::cerr << "emporium: unknown command '" << cmd << "'\n\n" << kUsage;
  return 2;
}
