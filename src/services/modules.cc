#include "services/modules.h"

#include <cstdlib>
#include <iostream>

#include "services/info/api.h"

namespace emporium {

ModuleRegistry AllModules() {
  ModuleRegistry registry;
  for (ModuleDef def : {info::Module()}) {
    if (Status s = registry.Add(std::move(def)); !s.ok()) {
      std::cerr << "BUG: " << s.ToString() << "\n";
      std::abort();
    }
  }
  return registry;
}

}  // namespace emporium
