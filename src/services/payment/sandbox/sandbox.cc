#include "services/payment/sandbox/sandbox.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <ctime>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/http/client.h"
#include "platform/http/problem.h"
#include "platform/http/server.h"
#include "platform/http/url.h"
#include "platform/log/log.h"
#include "platform/metrics/metrics.h"
#include "platform/sql/sql.h"

namespace emporium::paysim {
namespace {

const sql::Migration kMigrations[] = {
    {1, "create_sandbox",
     R"sql(
CREATE TABLE paysim_cards (
  token TEXT PRIMARY KEY,
  brand TEXT NOT NULL,
  last4 TEXT NOT NULL,
  exp_month BIGINT NOT NULL,
  exp_year BIGINT NOT NULL,
  behaviour BIGINT NOT NULL
);
CREATE TABLE paysim_ledger (
  id TEXT PRIMARY KEY,
  reference TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  captured BIGINT NOT NULL,
  refunded BIGINT NOT NULL,
  token TEXT NOT NULL,
  return_url TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE paysim_replays (
  k TEXT PRIMARY KEY,
  status BIGINT NOT NULL,
  body TEXT NOT NULL
);
)sql",
     "", ""},
    {2, "ledger_disputes",
     R"sql(
ALTER TABLE paysim_ledger ADD COLUMN disputed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE paysim_ledger ADD COLUMN dispute_id TEXT NOT NULL DEFAULT '';
ALTER TABLE paysim_ledger ADD COLUMN dispute_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE paysim_ledger ADD COLUMN dispute_due_ms BIGINT NOT NULL DEFAULT 0;
)sql",
     "", ""},
};

constexpr int kMaxWebhookAttempts = 5;

// What an API call under Sandbox::Handle changed: the ledger entries it put and the webhooks it
// sent. They are written in one transaction with the call's idempotent replay, and the webhooks
// queued only then, so a crash never keeps an effect that a retry with the same key would apply
// a second time (a provider records an idempotency key atomically with its effect).
struct Deferred {
  std::vector<std::string> entry_ids;
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> webhooks;
};
thread_local Deferred* tl_deferred = nullptr;

Status WriteEntry(sql::Tx& tx, const LedgerEntry& e) {
  EMP_RETURN_IF_ERROR(tx.Exec("DELETE FROM paysim_ledger WHERE id = $1", {e.id}));
  return tx.Exec(
      "INSERT INTO paysim_ledger (id, reference, amount, currency, status, captured, refunded, token, "
      "return_url, created_ms, updated_ms, disputed, dispute_id, dispute_reason, dispute_due_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
      {e.id, e.reference, e.amount, e.currency, e.status, e.captured, e.refunded, e.token, e.return_url,
       e.created_ms, e.updated_ms, e.disputed, e.dispute_id, e.dispute_reason, e.dispute_due_ms});
}

}  // namespace

std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i <= body.size()) {
    size_t amp = body.find('&', i);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(i, amp - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string k = http::PercentDecode(pair.substr(0, eq), true);
      std::string v = eq == std::string_view::npos ? "" : http::PercentDecode(pair.substr(eq + 1), true);
      out[k] = v;
    }
    i = amp + 1;
  }
  return out;
}

Sandbox::Sandbox(SandboxOptions options, sql::Database& db, Clock& clock)
    : options_(std::move(options)),
      db_(db),
      clock_(clock),
      metrics_(std::make_unique<metrics::Registry>()),
      router_(std::make_unique<http::Router>()),
      client_(std::make_unique<http::HttpClient>()),
      slow_card_ms_(options_.slow_card_delay.count()),
      webhook_url_(options_.webhook_url) {}

Sandbox::~Sandbox() {
  Stop();
}

Status Sandbox::Start() {
  EMP_RETURN_IF_ERROR(sql::Migrate(db_, "paysim", kMigrations));
  EMP_RETURN_IF_ERROR(Load());
  EMP_RETURN_IF_ERROR(AddProtocolRoutes(*router_));
  EMP_RETURN_IF_ERROR(
      router_->Add(http::Method::kPost, "/control", [this](http::Request& r) { return Control(r); }));
  EMP_RETURN_IF_ERROR(
      router_->Add(http::Method::kGet, "/admin/ledger", [this](http::Request& r) { return AdminLedger(r); }));
  http::ServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  so.threads = 1;
  so.blocking_threads = 8;
  so.access_log = options_.access_log;
  so.service_name = "paysim-" + options_.name;
  so.shutdown_grace = Millis(1000);
  server_ = std::make_unique<http::Server>(so, *router_, *metrics_);
  EMP_RETURN_IF_ERROR(server_->Start());
  {
    std::lock_guard lock(wmu_);
    stopping_ = false;
  }
  sender_ = std::thread([this] { DeliverLoop(); });
  {
    std::lock_guard lock(mu_);
    disputes_stopping_ = false;
  }
  disputer_ = std::thread([this] { DisputeLoop(); });
  log::Info("payment sandbox listening", {{"provider", options_.name}, {"port", int64_t{server_->port()}}});
  return Status::Ok();
}

void Sandbox::Stop() {
  {
    std::lock_guard lock(wmu_);
    stopping_ = true;
  }
  wcv_.notify_all();
  {
    std::lock_guard lock(mu_);
    disputes_stopping_ = true;
  }
  dcv_.notify_all();
  if (disputer_.joinable()) disputer_.join();
  if (sender_.joinable()) sender_.join();
  if (server_) server_->Shutdown();
}

uint16_t Sandbox::port() const {
  return server_ ? server_->port() : 0;
}

std::string Sandbox::base_url() const {
  return "http://" + options_.host + ":" + std::to_string(port());
}

void Sandbox::set_webhook_url(std::string url) {
  std::lock_guard lock(wmu_);
  webhook_url_ = std::move(url);
}

Status Sandbox::Load() {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet cards,
      db_.Query("SELECT token, brand, last4, exp_month, exp_year, behaviour FROM paysim_cards"));
  EMP_ASSIGN_OR_RETURN(sql::ResultSet rows,
                       db_.Query("SELECT id, reference, amount, currency, status, captured, refunded, token, "
                                 "return_url, created_ms, updated_ms, disputed, dispute_id, dispute_reason, "
                                 "dispute_due_ms FROM paysim_ledger"));
  EMP_ASSIGN_OR_RETURN(sql::ResultSet replays, db_.Query("SELECT k, status, body FROM paysim_replays"));
  std::lock_guard lock(mu_);
  for (const sql::Row& r : cards.rows) {
    cards_[r.Text(0)] =
        StoredCard{r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Int(4), static_cast<CardBehaviour>(r.Int(5))};
  }
  for (const sql::Row& r : rows.rows) {
    LedgerEntry e{r.Text(0), r.Text(1), r.Int(2),  r.Text(3), r.Text(4),  r.Int(5),   r.Int(6), r.Text(7),
                  r.Text(8), r.Int(9),  r.Int(10), r.Int(11), r.Text(12), r.Text(13), r.Int(14)};
    // A dispute still due when the sandbox stopped is filed late rather than never.
    if (e.dispute_due_ms > 0 && e.dispute_id.empty()) due_disputes_.emplace(e.dispute_due_ms, e.id);
    ledger_[e.id] = std::move(e);
  }
  for (const sql::Row& r : replays.rows) replays_[r.Text(0)] = {static_cast<int>(r.Int(1)), r.Text(2)};
  return Status::Ok();
}

http::Response Sandbox::Handle(http::Request& req, const std::function<http::Response(http::Request&)>& fn) {
  std::string key;
  if (auto h = req.headers.Get(IdempotencyHeader()); h && !h->empty()) {
    key = std::string(http::MethodName(req.method)) + " " + req.path + " " + std::string(*h);
  }
  auto late = [this](http::Response r) {
    if (int64_t ms = latency_ms_.load(); ms > 0) std::this_thread::sleep_for(Millis(ms));
    return r;
  };
  bool inject = false;
  for (int n = fail_next_.load(); n > 0;) {
    if (fail_next_.compare_exchange_weak(n, n - 1)) {
      inject = true;
      break;
    }
  }
  if (inject && !fail_after_.load()) return late(InjectedFailure());
  if (!key.empty()) {
    std::lock_guard lock(mu_);
    if (auto it = replays_.find(key); it != replays_.end()) {
      http::Response r = http::Response::Json(it->second.first, it->second.second);
      r.headers.Set("Idempotent-Replayed", "true");
      return late(inject ? InjectedFailure() : std::move(r));
    }
  }
  Deferred deferred;
  tl_deferred = &deferred;
  http::Response resp = fn(req);
  tl_deferred = nullptr;
  const bool replay = !key.empty() && resp.status < 500;
  if (replay || !deferred.entry_ids.empty()) {
    std::lock_guard lock(mu_);
    // The entries as they are now: a concurrent call may have changed one since fn put it.
    Status s = db_.Transact([&](sql::Tx& tx) -> Status {
      for (const std::string& id : deferred.entry_ids) EMP_RETURN_IF_ERROR(WriteEntry(tx, ledger_.at(id)));
      if (!replay) return Status::Ok();
      return tx.Exec(
          "INSERT INTO paysim_replays (k, status, body) VALUES ($1, $2, $3) ON CONFLICT (k) DO NOTHING",
          {key, int64_t{resp.status}, resp.body});
    });
    if (!s.ok()) {
      log::Warn("sandbox ledger not stored", {{"provider", options_.name}, {"error", s.ToString()}});
      return late(InjectedFailure());
    }
    if (replay) replays_[key] = {resp.status, resp.body};
  }
  for (auto& [body, headers] : deferred.webhooks) SendWebhook(std::move(body), std::move(headers));
  return late(inject ? InjectedFailure() : std::move(resp));
}

bool Sandbox::Authorized(const http::Request& req, std::string_view header, std::string_view prefix) const {
  auto h = req.headers.Get(header);
  if (!h) return false;
  return *h == std::string(prefix) + options_.api_key;
}

Result<StoredCard> Sandbox::Tokenize(std::string_view number, int64_t exp_month, int64_t exp_year,
                                     std::string_view token_prefix) {
  if (!LuhnValid(number)) return InvalidArgument("the card number is invalid");
  std::time_t t = std::chrono::system_clock::to_time_t(clock_.WallNow());
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (!ExpiryValid(exp_month, exp_year, tm.tm_year + 1900, tm.tm_mon + 1)) {
    return InvalidArgument("the card has expired or its expiry is invalid");
  }
  StoredCard card{NewId(token_prefix), BrandOf(number), std::string(number.substr(number.size() - 4)),
                  exp_month,           exp_year,        BehaviourOf(number)};
  EMP_RETURN_IF_ERROR(
      db_.Query("INSERT INTO paysim_cards (token, brand, last4, exp_month, exp_year, behaviour) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                {card.token, card.brand, card.last4, card.exp_month, card.exp_year,
                 static_cast<int64_t>(card.behaviour)})
          .status());
  cards_[card.token] = card;
  return card;
}

std::optional<StoredCard> Sandbox::Card(const std::string& token) const {
  auto it = cards_.find(token);
  if (it == cards_.end()) return std::nullopt;
  return it->second;
}

std::optional<LedgerEntry> Sandbox::Find(const std::string& id) const {
  auto it = ledger_.find(id);
  if (it == ledger_.end()) return std::nullopt;
  return it->second;
}

std::vector<LedgerEntry> Sandbox::ByReference(const std::string& reference) const {
  std::vector<LedgerEntry> out;
  for (const auto& [id, e] : ledger_) {
    if (e.reference == reference) out.push_back(e);
  }
  return out;
}

Status Sandbox::Put(LedgerEntry& e) {
  e.updated_ms = NowUnixMs();
  if (e.created_ms == 0) e.created_ms = e.updated_ms;
  if (tl_deferred) {
    tl_deferred->entry_ids.push_back(e.id);
  } else {
    EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) { return WriteEntry(tx, e); }));
  }
  ledger_[e.id] = e;
  return Status::Ok();
}

void Sandbox::SlowDelay() {
  std::this_thread::sleep_for(Millis(slow_card_ms_.load()));
}

std::vector<LedgerEntry> Sandbox::Ledger() const {
  std::lock_guard lock(mu_);
  std::vector<LedgerEntry> out;
  for (const auto& [id, e] : ledger_) out.push_back(e);
  return out;
}

int64_t Sandbox::NowUnixMs() const {
  return UnixMillis(clock_.WallNow());
}

std::string Sandbox::NewId(std::string_view prefix) const {
  return std::string(prefix) + RandomHex(12);
}

http::Response Sandbox::Control(http::Request& req) {
  auto doc = json::Parse(req.body.empty() ? "{}" : req.body);
  if (!doc.ok() || !doc->is_object()) return http::Problem(400, "control expects a JSON object", req.path);
  const boost::json::object& o = doc->as_object();
  if (auto v = o.if_contains("dispute")) {
    if (!v->is_object()) return http::Problem(400, "dispute must be an object", req.path);
    const boost::json::object& d = v->as_object();
    auto text = [&](std::string_view k, std::string fallback) {
      auto f = d.if_contains(k);
      return f && f->is_string() ? std::string(f->as_string()) : fallback;
    };
    std::optional<int64_t> amount;
    if (auto a = d.if_contains("amount")) {
      if (!a->is_int64()) return http::Problem(400, "dispute.amount must be an integer", req.path);
      amount = a->as_int64();
    }
    return ControlDispute(text("reference", ""), text("reason", "fraudulent"), amount, req.path);
  }
  if (auto v = o.if_contains("reset"); v && v->is_bool() && v->as_bool()) {
    fail_next_ = 0;
    fail_after_ = false;
    latency_ms_ = 0;
    slow_card_ms_ = options_.slow_card_delay.count();
  }
  if (auto v = o.if_contains("fail_next"); v && v->is_int64()) fail_next_ = static_cast<int>(v->as_int64());
  if (auto v = o.if_contains("fail_mode"); v && v->is_string()) fail_after_ = v->as_string() == "after";
  if (auto v = o.if_contains("latency_ms"); v && v->is_int64()) latency_ms_ = v->as_int64();
  if (auto v = o.if_contains("slow_card_ms"); v && v->is_int64()) slow_card_ms_ = v->as_int64();
  boost::json::object out{{"provider", options_.name},
                          {"fail_next", fail_next_.load()},
                          {"fail_mode", fail_after_.load() ? "after" : "before"},
                          {"latency_ms", latency_ms_.load()},
                          {"slow_card_ms", slow_card_ms_.load()}};
  return http::Response::Json(200, json::Dump(out));
}

http::Response Sandbox::AdminLedger(http::Request& /*req*/) {
  boost::json::array items;
  for (const LedgerEntry& e : Ledger()) {
    items.push_back(boost::json::object{{"id", e.id},
                                        {"reference", e.reference},
                                        {"amount", e.amount},
                                        {"currency", e.currency},
                                        {"status", e.status},
                                        {"captured", e.captured},
                                        {"refunded", e.refunded},
                                        {"disputed", e.disputed},
                                        {"updated_at", e.updated_ms}});
    if (!e.dispute_id.empty()) items.back().as_object()["dispute_id"] = e.dispute_id;
  }
  return http::Response::Json(200,
                              json::Dump(boost::json::object{{"provider", options_.name}, {"items", items}}));
}

void Sandbox::SendWebhook(std::string body, std::vector<std::pair<std::string, std::string>> headers) {
  if (tl_deferred) {
    tl_deferred->webhooks.emplace_back(std::move(body), std::move(headers));
    return;
  }
  {
    std::lock_guard lock(wmu_);
    if (webhook_url_.empty()) return;
    queue_.push_back(Webhook{std::move(body), std::move(headers), 0});
  }
  wcv_.notify_all();
}

void Sandbox::DeliverLoop() {
  std::unique_lock lock(wmu_);
  for (;;) {
    wcv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Webhook w = std::move(queue_.front());
    queue_.pop_front();
    std::string url = webhook_url_;
    lock.unlock();
    // webhook_url is "http://host:port/path": split the base from the target.
    size_t slash = url.find('/', url.find("//") == std::string::npos ? 0 : url.find("//") + 2);
    http::Request req;
    req.method = http::Method::kPost;
    req.target = slash == std::string::npos ? "/" : url.substr(slash);
    req.body = w.body;
    req.headers.Set("Content-Type", "application/json");
    for (auto& [k, v] : w.headers) req.headers.Set(k, v);
    auto resp = client_->Send(url.substr(0, slash), req, SystemClock::Get().Now() + Millis(3000));
    bool ok = resp.ok() && resp->status >= 200 && resp->status < 300;
    if (ok) ++delivered_;
    if (!ok) {
      log::Warn("sandbox webhook not delivered", {{"provider", options_.name},
                                                  {"status", resp.ok() ? int64_t{resp->status} : int64_t{0}},
                                                  {"attempt", w.attempts + 1}});
    }
    lock.lock();
    if (!ok && ++w.attempts < kMaxWebhookAttempts && !stopping_) {
      wcv_.wait_for(lock, Millis(100 << w.attempts), [&] { return stopping_; });
      queue_.push_back(std::move(w));
    }
  }
}

}  // namespace emporium::paysim
