#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>

#include "platform/auth/principal.h"
#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "platform/ml/registry/registry.h"
#include "platform/module/runtime.h"
#include "services/info/api.h"

namespace emporium::info {
namespace {

class InfoModule final : public emporium::Module {
 public:
  explicit InfoModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    EMP_RETURN_IF_ERROR(rt_.router().Add(http::Method::kGet, "/v1/admin/models",
                                         [this](http::Request&) { return Models(); },
                                         {.access = auth::Access::kAdmin}));
    EMP_RETURN_IF_ERROR(rt_.router().Add(http::Method::kPost, "/v1/admin/models/{name}/promote",
                                         [this](http::Request& req) { return Promote(req); },
                                         {.access = auth::Access::kAdmin}));
    return rt_.router().Add(
        http::Method::kGet, "/v1/info",
        [this](http::Request&) {
          boost::json::array modules;
          for (const auto& m : rt_.running()) modules.emplace_back(m);
          boost::json::object body{
              {"name", "emporium"}, {"version", EMPORIUM_VERSION}, {"modules", std::move(modules)}};
          return http::Response::Json(200, boost::json::serialize(body));
        },
        http::RouteOptions{.blocking = false});
  }

 private:
  std::filesystem::path Root() const { return rt_.data_dir() / "models"; }

  // Every model in the registry (platform/ml/registry: <data-dir>/models/<name>), its versions
  // newest first with their metrics, and the current one.
  http::Response Models() const {
    boost::json::array models;
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(Root(), ec))
      if (entry.is_directory()) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      ml::ModelStore store(Root(), name);
      auto current = store.Current();
      boost::json::array versions;
      std::vector<std::string> all = store.Versions();
      for (auto v = all.rbegin(); v != all.rend(); ++v) {
        boost::json::value metrics = nullptr;
        if (auto text = store.Read(ml::Artifact{*v, store.dir() / *v}, "metrics.json"); text.ok())
          if (auto parsed = json::Parse(*text); parsed.ok()) metrics = std::move(*parsed);
        versions.push_back(boost::json::object{{"version", *v},
                                               {"current", current.ok() && current->version == *v},
                                               {"metrics", std::move(metrics)}});
      }
      models.push_back(boost::json::object{
          {"name", name},
          {"current", current.ok() ? boost::json::value(current->version) : boost::json::value(nullptr)},
          {"versions", std::move(versions)}});
    }
    return http::Response::Json(200,
                                boost::json::serialize(boost::json::object{{"models", std::move(models)}}));
  }

  // Makes a published version current (a newer candidate, or an older one: a rollback); the
  // serving modules' watchers swap it in.
  http::Response Promote(http::Request& req) const {
    const std::string name(req.PathParam("name").value_or(""));
    const bool safe = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!safe || !std::filesystem::is_directory(Root() / name))
      return http::Problem(404, "no model named " + name, req.path);
    auto body = json::Parse(req.body);
    const boost::json::object* o = body.ok() && body->is_object() ? &body->as_object() : nullptr;
    const std::string version = o ? json::Str(*o, "version") : "";
    if (version.empty())
      return http::Problem(400, "invalid promotion", req.path,
                           {{"version", "required: one of GET /v1/admin/models' versions"}});
    ml::ModelStore store(Root(), name);
    auto a = store.Promote(version);
    if (!a.ok()) {
      if (a.status().code() == Code::kNotFound)
        return http::Problem(404, "model " + name + " has no version " + version, req.path);
      log::Error("model promotion failed", {{"model", name}, {"error", a.status().ToString()}});
      return http::ProblemFrom(a.status(), req.path);
    }
    log::Info("model promoted", {{"model", name}, {"version", a->version}, {"by", req.principal->subject}});
    return http::Response::Json(
        200, boost::json::serialize(boost::json::object{{"name", name}, {"current", a->version}}));
  }

  Runtime& rt_;
};

}  // namespace

ModuleDef Module() {
  return ModuleDef{
      .name = "info",
      .description = "Deployment information (version, modules running)",
      .deps = {},
      .in_all = true,
      .keys = {},
      .make = [](Runtime& rt) { return std::make_unique<InfoModule>(rt); },
  };
}

}  // namespace emporium::info
