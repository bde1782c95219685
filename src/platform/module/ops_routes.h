// Operational endpoints every process serves: /livez, /readyz, /metrics, /openapi.json, /docs.
#pragma once

#include "platform/core/status.h"

namespace emporium {

class Runtime;

Status AddOpsRoutes(Runtime& runtime);

}  // namespace emporium
