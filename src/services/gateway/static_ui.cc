#include "services/gateway/static_ui.h"

#include <string_view>

namespace emporium::gateway {
namespace {

constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Emporium</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:720px;padding:2rem;color:#222}
h1{margin-bottom:.2rem}p.sub{color:#666;margin-top:0}ul{padding-left:1.2rem}
a{color:#1565c0}code{background:#f4f4f4;padding:0 .3rem}
</style></head><body>
<h1>Emporium</h1>
<p class="sub">The storefront web UI is not built yet; this placeholder is served by the gateway.</p>
<ul>
<li><a href="/docs">API documentation</a> (<a href="/openapi.json">OpenAPI</a>)</li>
<li><a href="/v1/info">/v1/info</a>: version and the modules this process runs</li>
<li><a href="/readyz">/readyz</a> and <a href="/metrics">/metrics</a></li>
</ul>
</body></html>
)html";

}  // namespace

http::Response StaticUiPage() {
  http::Response resp = http::Response::Text(200, std::string(kPage), "text/html; charset=utf-8");
  // The page has no scripts; forbid any, and framing, so it cannot be abused for clickjacking.
  resp.headers.Set("Content-Security-Policy",
                   "default-src 'self'; script-src 'none'; frame-ancestors 'none'");
  resp.headers.Set("X-Content-Type-Options", "nosniff");
  return resp;
}

}  // namespace emporium::gateway
