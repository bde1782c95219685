// Wiring of the catalog module: configuration keys, start-up (storage, event relay, demo
// catalog, routes, reservation sweeper) and the import command.
#include <chrono>

#include "platform/bus/bus.h"
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "platform/rpc/rpc.h"
#include "services/catalog/api.h"
#include "services/catalog/core.h"
#include "services/catalog/http.h"
#include "services/catalog/import.h"
#include "services/catalog/seed.h"

namespace emporium::catalog {
namespace {

class CatalogModule final : public emporium::Module {
 public:
  explicit CatalogModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    EMP_RETURN_IF_ERROR(core_.Open(rt_));
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_RETURN_IF_ERROR(core_.publisher().Start(
        core_.db(), *bus, {{std::string(kProductTopic), 8}, {std::string(kInventoryTopic), 8}}));
    EMP_RETURN_IF_ERROR(SeedIfEmpty());
    EMP_RETURN_IF_ERROR(AddProductRoutes(
        rt_.router(), core_.catalog(),
        [this](const http::Request& parent, const std::string& target) { return Similar(parent, target); }));
    EMP_RETURN_IF_ERROR(AddInventoryRoutes(rt_.router(), core_.inventory()));
    core_.inventory().StartSweeper(rt_.config().Duration("catalog-reservation-sweep"));
    return Status::Ok();
  }

  // Recommend's product placement for GET /v1/products/{id}/similar, on behalf of the caller (their
  // A/B bucket and purchases count), in-process or remote.
  Result<http::Response> Similar(const http::Request& parent, const std::string& target) {
    EMP_ASSIGN_OR_RETURN(rpc::ModuleClient * recommend, rt_.Client("recommend"));
    http::Request req = http::NewRequest(http::Method::kGet, target);
    req.principal = parent.principal;
    if (auto a = parent.headers.Get("Authorization")) req.headers.Set("Authorization", std::string(*a));
    rpc::CallOptions options;
    options.timeout = Millis(2000);
    options.idempotent = true;
    options.parent = &parent;
    return recommend->Call(std::move(req), options);
  }

  Status Migrate() override {
    EMP_ASSIGN_OR_RETURN(sql::Database * db, rt_.Database("catalog"));
    return Store(*db).Migrate();
  }

  void Stop() override {
    core_.inventory().StopSweeper();
    core_.publisher().Stop();
  }

 private:
  Status SeedIfEmpty() {
    if (!rt_.config().Bool("catalog-seed-demo")) return Status::Ok();
    int64_t count = 0;
    EMP_RETURN_IF_ERROR(core_.db().Transact([&](sql::Tx& tx) -> Status {
      EMP_ASSIGN_OR_RETURN(count, core_.catalog().store().CountProducts(tx));
      return Status::Ok();
    }));
    if (count > 0) return Status::Ok();
    const auto start = std::chrono::steady_clock::now();
    EMP_ASSIGN_OR_RETURN(
        int n, SeedDemoCatalog(core_.catalog(), static_cast<uint64_t>(rt_.config().Int("catalog-seed")),
                               static_cast<int>(rt_.config().Int("catalog-demo-size"))));
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
            .count();
    log::Info("catalog: demo catalog seeded", {{"products", n}, {"ms", static_cast<int64_t>(ms)}});
    return Status::Ok();
  }

  Runtime& rt_;
  Core core_;
};

}  // namespace

ModuleDef Module() {
  return ModuleDef{
      .name = "catalog",
      .description = "Products, categories, prices, inventory and stock reservations",
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<CatalogModule>(rt); },
      .commands = {Command{
          "import catalog",
          "Stream products from a CSV or JSON Lines file (optionally gzipped) into the catalog.",
          ImportKeys(), ImportCommand}},
  };
}

}  // namespace emporium::catalog
