// recommend: recommendations from behaviour (docs/recommend.md).
//
// Other modules include only this header. So far the module offers its offline commands:
//   emporium eval recommend --interactions FILE [--k 10 --seed 42 --generators a,b --json]
#pragma once

#include "platform/module/module.h"

namespace emporium::recommend {

ModuleDef Module();

}  // namespace emporium::recommend
