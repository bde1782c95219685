// The identity objects built from a Runtime, shared by the module (serving) and its
// command-line commands (which need storage and keys but no HTTP server or relay).
// Thread-safety: thread-safe after Open().
#pragma once

#include <memory>
#include <string>

#include "platform/module/runtime.h"
#include "services/identity/events.h"
#include "services/identity/keys.h"
#include "services/identity/oauth.h"
#include "services/identity/service.h"
#include "services/identity/signing.h"
#include "services/identity/store.h"
#include "services/identity/throttle.h"

namespace emporium::kv {
class Store;
}

namespace emporium::identity {

// The module's configuration keys.
std::vector<config::Key> ConfigKeys();

class Core {
 public:
  Core();
  ~Core();
  // Opens storage and keys and applies migrations. `private_kv`: use a volatile KV store instead
  // of the runtime's (commands must not open the serving process's embedded store).
  Status Open(Runtime& rt, bool private_kv);

  Store& store() { return *store_; }
  Accounts& accounts() { return *accounts_; }
  OAuth& oauth() { return *oauth_; }
  KeyRing& keys() { return *keyring_; }
  Publisher& publisher() { return publisher_; }
  sql::Database& db() { return *db_; }

 private:
  sql::Database* db_ = nullptr;
  Publisher publisher_;
  std::unique_ptr<kv::Store> own_kv_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DataKeys> data_keys_;
  std::unique_ptr<Throttle> throttle_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<KeyRing> keyring_;
  std::unique_ptr<OAuth> oauth_;
};

}  // namespace emporium::identity
