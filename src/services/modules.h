// The table of every module in the binary (the one place a new service is added).
#pragma once

#include "platform/module/module.h"

namespace emporium {

// Registers every service module; aborts on a duplicate (a programming error).
ModuleRegistry AllModules();

}  // namespace emporium
