// The common core of the payment provider simulators: an HTTP server of its own on its own
// port, a ledger (in memory, written through to the sandbox's own SQL database so it survives
// restarts), stored cards (token, brand, last4, expiry and test behaviour — never the number),
// idempotent replays by the protocol's idempotency header, asynchronous signed webhooks, the
// control endpoint for failure injection and the admin ledger used by reconciliation.
//
// A protocol (intents, acquirer, wallet) derives from Sandbox and adds its routes in
// AddProtocolRoutes(); its handlers run through Handle(), which applies the control state.
//
// Control (POST /control, JSON, any field optional):
//   {"fail_next":N}        the next N API calls fail with the protocol's 5xx error, no effect;
//   {"fail_mode":"after"}  ...or take effect and then fail (the answer is lost on the way back);
//   {"latency_ms":N}       every API call answers N ms late (after taking effect);
//   {"slow_card_ms":N}     how long the slow test card takes before it is processed;
//   {"reset":true}         back to normal;
//   {"dispute":{"reference","reason"?,"amount"?}}  the card issuer, for the cardholder, disputes
//                          the captured payment with that merchant reference (reason fraudulent by
//                          default, amount the captured one) → 201 {"dispute":{...}}; 404 when no
//                          captured payment has the reference, 409 when it is already disputed.
// GET /admin/ledger → {"provider","items":[{"id","reference","amount","currency","status",
//   "captured","refunded","disputed","dispute_id"?,"updated_at"}]}.
//
// Disputes (from the control or the fraud test card, whose dispute is filed the dispute delay
// after its capture) are ledger state: written to the database and, when still due, rescheduled
// after a restart. Each protocol reports one in its own webhook dialect (EmitDispute).
//
// Thread-safety: handlers may run concurrently; ledger and card state sit behind one mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/http.h"
#include "platform/http/router.h"
#include "services/payment/sandbox/cards.h"

namespace emporium::sql {
class Database;
}
namespace emporium::http {
class Server;
class HttpClient;
}  // namespace emporium::http
namespace emporium::metrics {
class Registry;
}

namespace emporium::paysim {

struct SandboxOptions {
  std::string name;  // "intents", "acquirer", "wallet"
  std::string host = "127.0.0.1";
  uint16_t port = 0;        // 0: any free port
  std::string api_key;      // what API callers must present
  std::string webhook_url;  // where notifications go; empty: none are sent
  std::string webhook_secret;
  Millis slow_card_delay{5000};
  Millis dispute_delay{60000};  // capture → dispute, for the fraud test card
  bool access_log = false;
};

struct StoredCard {
  std::string token;
  std::string brand;
  std::string last4;
  int64_t exp_month = 0;
  int64_t exp_year = 0;
  CardBehaviour behaviour = CardBehaviour::kApprove;
};

// Ledger statuses: "created" (wallet order not yet approved), "approved" (wallet order approved,
// not authorized), "requires_action", "authorized", "captured", "voided", "refused".
struct LedgerEntry {
  std::string id;
  std::string reference;  // the merchant's reference (Emporium's order id)
  int64_t amount = 0;
  std::string currency;
  std::string status;
  int64_t captured = 0;
  int64_t refunded = 0;
  std::string token;
  std::string return_url;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t disputed = 0;        // the disputed amount (0: none)
  std::string dispute_id;      // the provider's id of the dispute, once filed
  std::string dispute_reason;  // one of kDisputeReasons
  int64_t dispute_due_ms = 0;  // unix ms a scheduled dispute is filed at (0: none scheduled)
};

// The dispute reasons the control accepts (each protocol says them in its own vocabulary).
inline constexpr std::string_view kDisputeReasons[] = {"fraudulent", "unrecognized", "product_not_received",
                                                       "duplicate", "other"};

class Sandbox {
 public:
  Sandbox(SandboxOptions options, sql::Database& db, Clock& clock = SystemClock::Get());
  virtual ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Migrates and loads the ledger, adds the routes, starts the webhook sender and the server.
  Status Start();
  void Stop();
  uint16_t port() const;
  std::string base_url() const;
  const std::string& name() const { return options_.name; }
  void set_webhook_url(std::string url);
  // Ledger entries, by id (tests and the admin endpoint).
  std::vector<LedgerEntry> Ledger() const;
  // Webhooks delivered (2xx) and given up, since start.
  int64_t webhooks_delivered() const { return delivered_.load(); }

 protected:
  // The protocol's routes.
  virtual Status AddProtocolRoutes(http::Router& router) = 0;
  // The protocol's idempotency header ("Idempotency-Key", "PayPal-Request-Id").
  virtual std::string_view IdempotencyHeader() const = 0;
  // The protocol's answer to an injected failure.
  virtual http::Response InjectedFailure() const = 0;
  // The prefix of the protocol's dispute ids ("dp_", "PP-D-").
  virtual std::string_view DisputeIdPrefix() const = 0;
  // Sends the protocol's webhook for a dispute just filed on `e` (captured, with dispute_id,
  // disputed and dispute_reason set). Called with mu_ held.
  virtual void EmitDispute(const LedgerEntry& e) = 0;

  // Runs an API handler under the control state and idempotent replay (by IdempotencyHeader(),
  // answers < 500 are replayed). `fn` runs without mu_: it locks mu_ around ledger/card access
  // and calls SlowDelay() unlocked. Concurrent first requests with the same key are not
  // serialised (callers in Emporium never send those concurrently: the order lease prevents it).
  // The ledger entries fn puts are written with the replay in one transaction after fn returns,
  // and the webhooks it sends are queued only then: a crash keeps the effect and its replay, or
  // neither.
  http::Response Handle(http::Request& req, const std::function<http::Response(http::Request&)>& fn);
  // True when the request carries the API key (the header and scheme are the protocol's).
  bool Authorized(const http::Request& req, std::string_view header, std::string_view prefix) const;

  // The helpers below expect mu_ held by the caller.
  Result<StoredCard> Tokenize(std::string_view number, int64_t exp_month, int64_t exp_year,
                              std::string_view token_prefix);
  std::optional<StoredCard> Card(const std::string& token) const;
  std::optional<LedgerEntry> Find(const std::string& id) const;
  std::vector<LedgerEntry> ByReference(const std::string& reference) const;
  // Inserts or replaces the entry (memory and SQL; under Handle the SQL write comes with the
  // replay); sets updated_ms (and created_ms when new).
  Status Put(LedgerEntry& entry);
  // Sleeps the slow-card delay (without holding the lock).
  void SlowDelay();
  // For an entry being captured: when its card is the fraud test card, schedules its dispute the
  // dispute delay from now (the caller then Puts the entry).
  void ScheduleFraudDispute(LedgerEntry& entry);

  // Queues a webhook for asynchronous delivery (retried a few times).
  void SendWebhook(std::string body, std::vector<std::pair<std::string, std::string>> headers);
  int64_t NowUnixMs() const;
  std::string NewId(std::string_view prefix) const;
  const SandboxOptions& options() const { return options_; }

  mutable std::mutex mu_;  // the ledger, cards and replay store

 private:
  http::Response Control(http::Request& req);
  http::Response AdminLedger(http::Request& req);
  // The control's dispute: finds the captured entry by reference and files its dispute.
  http::Response ControlDispute(const std::string& reference, const std::string& reason,
                                std::optional<int64_t> amount, const std::string& instance);
  // Records the dispute on `e` and emits its webhook. Expects mu_ held.
  Status FileDispute(LedgerEntry& e, const std::string& reason, int64_t amount);
  Status Load();
  void DeliverLoop();
  // Files scheduled disputes when they fall due.
  void DisputeLoop();

  SandboxOptions options_;
  sql::Database& db_;
  Clock& clock_;
  std::unique_ptr<metrics::Registry> metrics_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::HttpClient> client_;

  std::map<std::string, StoredCard> cards_;
  std::map<std::string, LedgerEntry> ledger_;
  std::map<std::string, std::pair<int, std::string>> replays_;  // key → status, body

  std::atomic<int> fail_next_{0};
  std::atomic<bool> fail_after_{false};
  std::atomic<int64_t> latency_ms_{0};
  std::atomic<int64_t> slow_card_ms_{0};

  std::multimap<int64_t, std::string> due_disputes_;  // due unix ms → entry id; under mu_
  std::condition_variable dcv_;                       // waits with mu_
  bool disputes_stopping_ = false;                    // under mu_
  std::thread disputer_;

  struct Webhook {
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int attempts = 0;
  };
  std::mutex wmu_;
  std::condition_variable wcv_;
  std::deque<Webhook> queue_;
  std::string webhook_url_;
  bool stopping_ = false;
  std::thread sender_;
  std::atomic<int64_t> delivered_{0};
};

// application/x-www-form-urlencoded body → key/value map (decoded; last value wins).
std::map<std::string, std::string> ParseForm(std::string_view body);

}  // namespace emporium::paysim
