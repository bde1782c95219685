#include "services/modules.h"

#include <cstdlib>
#include <iostream>

#include "services/behavior/api.h"
#include "services/cart/api.h"
#include "services/catalog/api.h"
#include "services/fulfillment/api.h"
#include "services/gateway/api.h"
#include "services/identity/api.h"
#include "services/info/api.h"
#include "services/order/api.h"
#include "services/payment/api.h"
#include "services/payment/sandbox/api.h"
#include "services/recommend/api.h"
#include "services/search/api.h"
#include "sim/api.h"

namespace emporium {

ModuleRegistry AllModules() {
  ModuleRegistry registry;
  // The gateway reads the route table at start (preflight routes), so it stays last here.
  for (ModuleDef def :
       {info::Module(), identity::Module(), catalog::Module(), cart::Module(), search::Module(),
        order::Module(), fulfillment::RapidshipSandboxModule(), fulfillment::CargolineSandboxModule(),
        fulfillment::Module(), paysim::IntentsModule(), paysim::AcquirerModule(), paysim::WalletModule(),
        payment::Module(), behavior::Module(), recommend::Module(), sim::Module(), gateway::Module()}) {
    if (Status s = registry.Add(std::move(def)); !s.ok()) {
      std::cerr << "BUG: " << s.ToString() << "\n";
      std::abort();
    }
  }
  return registry;
}

}  // namespace emporium
