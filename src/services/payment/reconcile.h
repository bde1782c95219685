// Reconciliation: each provider's ledger (GET <provider>/admin/ledger on the sandboxes) against
// our payments table. `emporium payment reconcile` prints every mismatch and exits 1 when there is
// any (2 when a ledger or the database cannot be read). Pure comparison + a fetch; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "platform/core/status.h"
#include "services/payment/store.h"

namespace emporium {
class Runtime;
}
namespace emporium::http {
class HttpClient;
}

namespace emporium::payment {

struct LedgerItem {
  std::string provider;
  std::string id;
  std::string reference;  // our order id
  int64_t amount = 0;
  std::string currency;
  std::string status;  // the sandbox ledger status (authorized, captured, voided, refused, ...)
  int64_t captured = 0;
  int64_t refunded = 0;
};

struct Mismatch {
  std::string provider;
  std::string order_id;
  std::string what;
};

// Money the provider holds (authorized or captured) must belong to our payment of that order at
// that provider, with the same amounts; every payment we hold as authorized/captured/refunded must
// be held by its provider. Pending payments (in flight) are skipped.
std::vector<Mismatch> Reconcile(const std::vector<Payment>& ours, const std::vector<LedgerItem>& theirs);

Result<std::vector<LedgerItem>> FetchLedger(http::HttpClient& client, const std::string& provider,
                                            const std::string& base_url);

int ReconcileCommand(Runtime& rt, const std::vector<std::string>& positional);

}  // namespace emporium::payment
