// info: what this deployment is — version, build and the modules each process runs.
//
// GET /v1/info → {"name":"emporium","version":"0.1.0","modules":["info",...]}
// GET /v1/admin/models, POST /v1/admin/models/{name}/promote {"version":…} (admin): the model
// registry of <data-dir>/models (platform/ml/registry); serving modules swap a promoted version in.
// The smallest real module: the HTTP and module-call benchmarks use it, and it shows how a
// module is shaped (api.h for other modules, module.cc for wiring).
#pragma once

#include "platform/module/module.h"

namespace emporium::info {

ModuleDef Module();

}  // namespace emporium::info
