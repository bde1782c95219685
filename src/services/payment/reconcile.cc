#include "services/payment/reconcile.h"

#include <iostream>
#include <map>

#include "platform/http/client.h"
#include "platform/module/runtime.h"
#include "services/payment/providers/transport.h"

namespace emporium::payment {
namespace {

bool Held(const std::string& ledger_status) {
  return ledger_status == "authorized" || ledger_status == "captured";
}

std::string Expected(const Payment& p) {
  if (p.status == "authorized") return "authorized";
  if (p.status == "captured" || p.status == "refunded") return "captured";
  return "";
}

}  // namespace

std::vector<Mismatch> Reconcile(const std::vector<Payment>& ours, const std::vector<LedgerItem>& theirs) {
  std::map<std::string, const Payment*> by_order;
  for (const Payment& p : ours) by_order[p.order_id] = &p;
  std::vector<Mismatch> out;
  std::map<std::string, const LedgerItem*> held_at_our_provider;
  for (const LedgerItem& l : theirs) {
    if (!Held(l.status) || l.reference.empty()) continue;
    auto it = by_order.find(l.reference);
    if (it == by_order.end()) {
      out.push_back({l.provider, l.reference,
                     "provider holds " + l.status + " " + std::to_string(l.amount) + " " + l.currency + " (" +
                         l.id + ") for an order we have no payment for"});
      continue;
    }
    const Payment& p = *it->second;
    if (p.status == "pending") continue;
    if (p.provider != l.provider) {
      out.push_back({l.provider, l.reference,
                     "second authorization: provider holds " + l.status + " (" + l.id +
                         ") but our payment is " + p.status + " at '" + p.provider + "'"});
      continue;
    }
    held_at_our_provider[p.order_id] = &l;
    std::string expected = Expected(p);
    if (expected != l.status) {
      out.push_back({l.provider, l.reference, "provider holds " + l.status + ", our payment is " + p.status});
    } else if (l.amount != p.amount ||
               (expected == "captured" && (l.captured != p.captured || l.refunded != p.refunded))) {
      out.push_back({l.provider, l.reference,
                     "amounts differ: provider amount/captured/refunded " + std::to_string(l.amount) + "/" +
                         std::to_string(l.captured) + "/" + std::to_string(l.refunded) + ", ours " +
                         std::to_string(p.amount) + "/" + std::to_string(p.captured) + "/" +
                         std::to_string(p.refunded)});
    }
  }
  for (const Payment& p : ours) {
    if (Expected(p).empty() || held_at_our_provider.count(p.order_id)) continue;
    std::string seen = "nothing";
    for (const LedgerItem& l : theirs) {
      if (l.provider == p.provider && l.reference == p.order_id) seen = l.status;
    }
    out.push_back({p.provider, p.order_id, "our payment is " + p.status + ", provider shows " + seen});
  }
  return out;
}

Result<std::vector<LedgerItem>> FetchLedger(http::HttpClient& client, const std::string& provider,
                                            const std::string& base_url) {
  http::Request req;
  req.method = http::Method::kGet;
  req.target = "/admin/ledger";
  EMP_ASSIGN_OR_RETURN(http::Response r,
                       client.Send(base_url, req, SystemClock::Get().Now() + Millis(10'000)));
  if (r.status != 200) return Unavailable(provider + " ledger answered " + std::to_string(r.status));
  boost::json::object o = BodyObject(r);
  auto items = o.if_contains("items");
  if (!items || !items->is_array()) return Internal(provider + " ledger is malformed");
  std::vector<LedgerItem> out;
  for (const auto& v : items->as_array()) {
    if (!v.is_object()) continue;
    const auto& i = v.as_object();
    out.push_back(LedgerItem{provider, Str(i, "id"), Str(i, "reference"), Int(i, "amount"),
                             Str(i, "currency"), Str(i, "status"), Int(i, "captured"), Int(i, "refunded")});
  }
  return out;
}

int ReconcileCommand(Runtime& rt, const std::vector<std::string>& /*positional*/) {
  auto db = rt.Database("payment");
  if (!db.ok()) {
    std::cerr << "payment reconcile: " << db.status().ToString() << "\n";
    return 2;
  }
  if (Status s = Migrate(**db); !s.ok()) {
    std::cerr << "payment reconcile: " << s.ToString() << "\n";
    return 2;
  }
  auto ours = AllPayments(**db);
  if (!ours.ok()) {
    std::cerr << "payment reconcile: " << ours.status().ToString() << "\n";
    return 2;
  }
  http::HttpClient client;
  std::vector<LedgerItem> theirs;
  for (const std::string& name : rt.config().List("payment-providers")) {
    auto ledger = FetchLedger(client, name, rt.config().Get("payment-" + name + "-url"));
    if (!ledger.ok()) {
      std::cerr << "payment reconcile: " << ledger.status().ToString() << "\n";
      return 2;
    }
    std::cout << name << ": " << ledger->size() << " ledger entries\n";
    theirs.insert(theirs.end(), ledger->begin(), ledger->end());
  }
  std::vector<Mismatch> mismatches = Reconcile(*ours, theirs);
  for (const Mismatch& m : mismatches) {
    std::cout << "MISMATCH provider=" << m.provider << " order=" << m.order_id << ": " << m.what << "\n";
  }
  std::cout << ours->size() << " payments, " << theirs.size() << " ledger entries, " << mismatches.size()
            << " mismatches\n";
  return mismatches.empty() ? 0 : 1;
}

}  // namespace emporium::payment
