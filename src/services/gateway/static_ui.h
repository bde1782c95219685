// The web UI placeholder served at GET / until the web UI issue replaces it with real static
// files. Self-contained (no external assets). Thread-safe (constant data).
#pragma once

#include "platform/http/router.h"

namespace emporium::gateway {

http::Response StaticUiPage();

}  // namespace emporium::gateway
