#include "platform/module/module.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace emporium {

Status ModuleRegistry::Add(ModuleDef def) {
  if (def.name == "all") return InvalidArgument("'all' is reserved for the group of every module");
  if (Find(def.name)) return AlreadyExists("module '" + def.name + "' is registered twice");
  defs_.push_back(std::move(def));
  return Status::Ok();
}

const ModuleDef* ModuleRegistry::Find(std::string_view name) const {
  for (const auto& d : defs_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Result<std::vector<const ModuleDef*>> ModuleRegistry::Resolve(const std::vector<std::string>& targets) const {
  std::vector<const ModuleDef*> roots;
  for (const auto& t : targets) {
    if (t == "all") {
      for (const auto& d : defs_) {
        if (d.in_all) roots.push_back(&d);
      }
      continue;
    }
    const ModuleDef* d = Find(t);
    if (!d) {
      std::string valid = "all";
      for (const auto& x : defs_) valid += ", " + x.name;
      return InvalidArgument("unknown target '" + t + "' (valid targets: " + valid + ")");
    }
    roots.push_back(d);
  }
  if (roots.empty()) return InvalidArgument("no target selected (use --target=all or a module name)");

  enum class Mark { kNone, kVisiting, kDone };
  std::map<std::string, Mark, std::less<>> marks;
  std::vector<const ModuleDef*> order;
  std::vector<std::string> path;
  std::function<Status(const ModuleDef&)> visit = [&](const ModuleDef& d) -> Status {
    Mark& m = marks[d.name];
    if (m == Mark::kDone) return Status::Ok();
    if (m == Mark::kVisiting) {
      std::string cycle;
      for (const auto& p : path) cycle += p + " -> ";
      return InvalidArgument("module dependency cycle: " + cycle + d.name);
    }
    m = Mark::kVisiting;
    path.push_back(d.name);
    for (const auto& dep : d.deps) {
      const ModuleDef* dd = Find(dep);
      if (!dd) return InvalidArgument("module '" + d.name + "' depends on unknown module '" + dep + "'");
      EMP_RETURN_IF_ERROR(visit(*dd));
    }
    path.pop_back();
    marks[d.name] = Mark::kDone;
    order.push_back(&d);
    return Status::Ok();
  };
  for (const ModuleDef* r : roots) EMP_RETURN_IF_ERROR(visit(*r));
  return order;
}

std::string ModuleRegistry::ListTargets() const {
  std::string out;
  size_t width = 3;
  for (const auto& d : defs_) width = std::max(width, d.name.size());
  for (const auto& d : defs_) {
    std::string line = d.name + std::string(width - d.name.size(), ' ');
    line += d.in_all ? " * " : "   ";
    std::string deps;
    for (const auto& x : d.deps) deps += (deps.empty() ? "" : ",") + x;
    line += "deps=[" + deps + "]  " + d.description;
    out += line + "\n";
  }
  out += "(* = part of target 'all')\n";
  return out;
}

}  // namespace emporium
