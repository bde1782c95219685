// simulator: shoppers with known tastes and fraudsters, driving Emporium offline (into files),
// online (an open-loop load through the public API) or as a shop's demo history, with the
// ground truth of what every shopper wants and which orders were fraud. See docs/simulator.md.
//
// Commands: `emporium simulate offline|online|history|truth`. The module (in `all`) does nothing
// unless --simulator-demo is set; then, on a data directory without a demo history, it fills the
// shop in the background through the shop's own public API.
#pragma once

#include "platform/module/module.h"

namespace emporium::sim {

ModuleDef Module();

}  // namespace emporium::sim
