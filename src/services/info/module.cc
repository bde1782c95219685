#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "platform/module/runtime.h"
#include "services/info/api.h"

namespace emporium::info {
namespace {

class InfoModule final : public emporium::Module {
 public:
  explicit InfoModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
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
