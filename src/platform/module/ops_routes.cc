#include "platform/module/ops_routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "platform/metrics/metrics.h"
#include "platform/module/openapi_doc.h"
#include "platform/module/runtime.h"

namespace emporium {
namespace {

constexpr std::string_view kDocsPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Emporium API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 2rem;color:#222}
h1{margin-bottom:0}.op{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:600;font-family:monospace}
.get{color:#1565c0}.post{color:#2e7d32}.put,.patch{color:#ef6c00}.delete{color:#c62828}
code{background:#f4f4f4;padding:0 .3rem}details pre{background:#f8f8f8;padding:.5rem;overflow:auto}
</style></head><body>
<h1 id="title">Emporium API</h1><p id="desc"></p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<div id="ops"></div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('desc').textContent = doc.info.description || '';
  const ops = document.getElementById('ops');
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get','post','put','patch','delete','head','options'].includes(method)) continue;
      const d = document.createElement('details'); d.className = 'op';
      const s = document.createElement('summary');
      const m = document.createElement('span'); m.className = 'm ' + method; m.textContent = method.toUpperCase();
      const p = document.createElement('code'); p.textContent = path;
      s.append(m, p, document.createTextNode(' ' + (op.summary || '')));
      const pre = document.createElement('pre'); pre.textContent = JSON.stringify(op, null, 2);
      d.append(s, pre); ops.append(d);
    }
  }
});
</script></body></html>
)html";

}  // namespace

Status AddOpsRoutes(Runtime& rt) {
  http::Router& r = rt.router();
  http::RouteOptions inline_route{.blocking = false};
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/livez",
      [](http::Request&) { return http::Response::Json(200, R"({"status":"ok"})"); }, inline_route));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/readyz",
      [&rt](http::Request&) {
        boost::json::array modules;
        for (const auto& m : rt.running()) modules.emplace_back(m);
        bool ready = rt.Ready();
        boost::json::object body{{"status", ready ? "ready" : "not ready"}, {"modules", std::move(modules)}};
        http::Response resp = http::Response::Json(ready ? 200 : 503, boost::json::serialize(body));
        if (!ready) resp.headers.Set("Retry-After", "1");
        return resp;
      },
      inline_route));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/metrics",
      [&rt](http::Request&) {
        return http::Response::Text(200, rt.metrics().Render(), "text/plain; version=0.0.4; charset=utf-8");
      },
      inline_route));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/openapi.json",
      [](http::Request&) { return http::Response::Json(200, std::string(OpenApiJson())); }, inline_route));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/docs",
      [](http::Request&) {
        return http::Response::Text(200, std::string(kDocsPage), "text/html; charset=utf-8");
      },
      inline_route));
  return Status::Ok();
}

}  // namespace emporium
