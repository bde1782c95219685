#include "services/fulfillment/sandbox/simulator.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/http/client.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "platform/sql/sql.h"

namespace emporium::fulfillment::sandbox {
namespace {

constexpr Millis kFirstRetry{100};
constexpr Millis kMaxRetry{5000};
constexpr Millis kMaxTick{50};

const sql::Migration kMigrations[] = {
    {1, "create_sandbox_parcels",
     R"sql(
CREATE TABLE sandbox_parcels (
  tracking_number TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  id TEXT NOT NULL,
  reference TEXT NOT NULL,
  service TEXT NOT NULL,
  price BIGINT NOT NULL,
  label_url TEXT NOT NULL,
  stage BIGINT NOT NULL,
  stage_ms BIGINT NOT NULL,
  acked_stage BIGINT NOT NULL
);
)sql",
     "", ""},
    {2, "remote_area", "ALTER TABLE sandbox_parcels ADD COLUMN remote_area BIGINT NOT NULL DEFAULT 0;", "",
     ""},
};

int64_t WallMillis() {
  return UnixMillis(SystemClock::Get().WallNow());
}

// Deterministic, so a webhook queued again after a restart carries the id of its first sending
// and the receiver's inbox drops the duplicate.
std::string EventId(const Parcel& p, Stage stage) {
  return "evt_" + p.id + "_" + std::to_string(static_cast<int>(stage));
}

Millis Tick(Millis step) {
  return std::clamp(step / 5, Millis(5), kMaxTick);
}

// "http://host:port/a/b" → {"http://host:port", "/a/b"}.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

int64_t IntField(const boost::json::object& o, const char* key, int64_t fallback, bool* bad) {
  auto v = o.if_contains(key);
  if (!v) return fallback;
  if (!v->is_int64() || v->as_int64() < 0) {
    *bad = true;
    return fallback;
  }
  return v->as_int64();
}

}  // namespace

std::string_view StageName(Stage s) {
  switch (s) {
    case Stage::kLabelCreated: return "label_created";
    case Stage::kInTransit: return "in_transit";
    case Stage::kOutForDelivery: return "out_for_delivery";
    case Stage::kDelivered: return "delivered";
  }
  return "unknown";
}

std::string_view StageDescription(Stage s) {
  switch (s) {
    case Stage::kLabelCreated: return "Label created, awaiting pickup";
    case Stage::kInTransit: return "Picked up, in transit";
    case Stage::kOutForDelivery: return "Out for delivery";
    case Stage::kDelivered: return "Delivered";
  }
  return "";
}

Simulator::Simulator(SimulatorOptions options, RenderWebhook render, sql::Database* db)
    : options_(std::move(options)),
      render_(std::move(render)),
      db_(db),
      http_(std::make_unique<http::HttpClient>()) {}

Simulator::~Simulator() {
  Stop();
}

Status Simulator::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return Status::Ok();
  if (db_ && !loaded_) {
    EMP_RETURN_IF_ERROR(sql::Migrate(*db_, "carrier_" + options_.carrier, kMigrations));
    EMP_RETURN_IF_ERROR(Load());
    loaded_ = true;
  }
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

Status Simulator::Load() {
  EMP_ASSIGN_OR_RETURN(
      sql::ResultSet rs,
      db_->Query("SELECT tracking_number, idempotency_key, id, reference, service, price, "
                 "label_url, stage, stage_ms, acked_stage, remote_area FROM sandbox_parcels"));
  SteadyTime now = std::chrono::steady_clock::now();
  int64_t wall = WallMillis();
  for (const sql::Row& r : rs.rows) {
    Parcel p{.id = r.Text(2),
             .tracking_number = r.Text(0),
             .reference = r.Text(3),
             .service = r.Text(4),
             .price = r.Int(5),
             .label_url = r.Text(6),
             .stage = static_cast<Stage>(std::clamp<int64_t>(r.Int(7), 0, 3)),
             .remote_area = r.Int(10) != 0};
    int64_t stage_ms = r.Int(8);
    // The parcel spends what remains of its step in its stage, as if the sandbox had kept running.
    const Millis step = StepOf(p);
    Millis left = std::clamp(step - Millis(wall - stage_ms), Millis(0), step);
    by_key_[r.Text(1)] = p.tracking_number;
    parcels_[p.tracking_number] = Tracked{p, now + left, stage_ms};
    if (r.Int(9) < static_cast<int64_t>(p.stage)) EnqueueLocked(p, stage_ms, now);
  }
  sequence_ = static_cast<int64_t>(rs.rows.size());
  return Status::Ok();
}

void Simulator::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool IsRemoteArea(std::string_view postal_code) {
  return postal_code.starts_with("99");
}

Millis Simulator::StepOf(const Parcel& p) const {
  return p.remote_area ? options_.step * kRemoteAreaFactor : options_.step;
}

Result<std::pair<Parcel, bool>> Simulator::CreateParcel(const std::string& key, const std::string& reference,
                                                        bool remote_area, const std::string& service,
                                                        int64_t price) {
  std::lock_guard lock(mu_);
  if (auto it = by_key_.find(key); it != by_key_.end())
    return std::pair{parcels_.at(it->second).parcel, false};
  Parcel p;
  p.id = "shp_" + RandomHex(8);
  std::string digits = RandomHex(5);
  for (char& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  p.tracking_number = options_.tracking_prefix + std::to_string(100000 + sequence_ + 1) + digits;
  p.reference = reference;
  p.service = service;
  p.price = price;
  p.remote_area = remote_area;
  p.label_url = public_url_ + "/labels/" + p.tracking_number + ".pdf";
  int64_t stage_ms = WallMillis();
  if (db_) {
    // Stored before it is acknowledged, as a carrier does: a retried key finds it after a restart.
    EMP_RETURN_IF_ERROR(
        db_->Query("INSERT INTO sandbox_parcels (tracking_number, idempotency_key, id, reference, "
                   "service, price, label_url, stage, stage_ms, acked_stage, remote_area) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, -1, $10)",
                   {p.tracking_number, key, p.id, p.reference, p.service, p.price, p.label_url,
                    static_cast<int64_t>(p.stage), stage_ms, int64_t{p.remote_area ? 1 : 0}})
            .status());
  }
  ++sequence_;
  SteadyTime now = std::chrono::steady_clock::now();
  by_key_[key] = p.tracking_number;
  parcels_[p.tracking_number] = Tracked{p, now + StepOf(p), stage_ms};
  EnqueueLocked(p, stage_ms, now);
  cv_.notify_all();
  return std::pair{p, true};
}

std::optional<Parcel> Simulator::Find(const std::string& tracking_number) const {
  std::lock_guard lock(mu_);
  auto it = parcels_.find(tracking_number);
  if (it == parcels_.end()) return std::nullopt;
  return it->second.parcel;
}

bool Simulator::InjectFault() {
  int64_t latency = 0;
  bool fail = false;
  {
    std::lock_guard lock(mu_);
    latency = latency_ms_;
    if (fail_next_ > 0) {
      --fail_next_;
      fail = true;
    }
  }
  if (latency > 0) std::this_thread::sleep_for(Millis(latency));
  return fail;
}

Status Simulator::Control(std::string_view json) {
  auto doc = json::Parse(json);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("control body must be a JSON object");
  const boost::json::object& o = doc->as_object();
  std::lock_guard lock(mu_);
  bool bad = false;
  int64_t fail_next = IntField(o, "fail_next", fail_next_, &bad);
  int64_t latency = IntField(o, "latency_ms", latency_ms_, &bad);
  int64_t step = IntField(o, "step_ms", options_.step.count(), &bad);
  if (bad || step < 1)
    return InvalidArgument("fail_next, latency_ms and step_ms must be non-negative integers");
  std::string mode = mode_;
  if (auto m = o.if_contains("mode")) {
    if (!m->is_string()) return InvalidArgument("mode must be a string");
    mode = std::string(m->as_string());
    if (mode != "normal" && mode != "paused" && mode != "bad_signature")
      return InvalidArgument("mode must be normal, paused or bad_signature");
  }
  if (auto u = o.if_contains("webhook_url")) {
    if (!u->is_string() || !u->as_string().starts_with("http://"))
      return InvalidArgument("webhook_url must be an http:// URL");
    options_.webhook_url = std::string(u->as_string());
  }
  fail_next_ = fail_next;
  latency_ms_ = latency;
  mode_ = mode;
  if (Millis(step) != options_.step) {
    // A new pace applies to the parcels' next step too, so a test can speed up a slow sandbox.
    SteadyTime next = std::chrono::steady_clock::now() + Millis(step);
    for (auto& [_, t] : parcels_) t.next_at = std::min(t.next_at, next);
    options_.step = Millis(step);
  }
  cv_.notify_all();
  return Status::Ok();
}

std::string Simulator::ControlState() const {
  std::lock_guard lock(mu_);
  boost::json::object o{{"carrier", options_.carrier},      {"mode", mode_},
                        {"step_ms", options_.step.count()}, {"latency_ms", latency_ms_},
                        {"fail_next", fail_next_},          {"webhook_url", options_.webhook_url},
                        {"parcels", parcels_.size()},       {"webhooks_delivered", delivered_},
                        {"webhook_failures", failures_},    {"webhooks_pending", deliveries_.size()}};
  return json::Dump(o);
}

void Simulator::set_public_url(std::string url) {
  std::lock_guard lock(mu_);
  public_url_ = std::move(url);
}

std::string Simulator::public_url() const {
  std::lock_guard lock(mu_);
  return public_url_;
}

int64_t Simulator::webhooks_delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

int64_t Simulator::webhook_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void Simulator::EnqueueLocked(const Parcel& p, int64_t stage_ms, SteadyTime now) {
  WebhookEvent e{p, p.stage, EventId(p, p.stage), FormatRfc3339(SystemTime(Millis(stage_ms)))};
  deliveries_.push_back(Delivery{std::move(e), 0, now});
}

void Simulator::Persist(const std::vector<Tracked>& advanced, const std::vector<WebhookEvent>& acked) {
  if (!db_ || (advanced.empty() && acked.empty())) return;
  Status s = db_->Transact([&](sql::Tx& tx) -> Status {
    for (const Tracked& t : advanced) {
      EMP_RETURN_IF_ERROR(
          tx.Exec("UPDATE sandbox_parcels SET stage = $1, stage_ms = $2 "
                  "WHERE tracking_number = $3 AND stage < $1",
                  {static_cast<int64_t>(t.parcel.stage), t.stage_ms, t.parcel.tracking_number}));
    }
    for (const WebhookEvent& e : acked) {
      EMP_RETURN_IF_ERROR(tx.Exec(
          "UPDATE sandbox_parcels SET acked_stage = $1 WHERE tracking_number = $2 AND acked_stage < $1",
          {static_cast<int64_t>(e.stage), e.parcel.tracking_number}));
    }
    return Status::Ok();
  });
  // Not fatal: after a restart the parcel resumes from its last stored stage, and webhooks sent
  // again carry their first ids.
  if (!s.ok())
    log::Warn("carrier sandbox could not store parcel progress",
              {{"carrier", options_.carrier}, {"error", s.message()}});
}

bool Simulator::Send(const Delivery& d, const std::string& url, const std::string& secret) {
  int64_t now_s = UnixMillis(SystemClock::Get().WallNow()) / 1000;
  http::Request req = render_(d.event, now_s, secret);
  auto [base, path] = SplitUrl(url);
  req.target = path;
  req.path = path;
  auto resp = http_->Send(base, req, std::chrono::steady_clock::now() + Millis(5000));
  return resp.ok() && resp->status >= 200 && resp->status < 300;
}

void Simulator::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, Tick(options_.step));
    if (stop_) break;
    SteadyTime now = std::chrono::steady_clock::now();
    if (mode_ == "paused") {
      // Resuming continues each parcel a full step later, not all at once.
      for (auto& [_, t] : parcels_) t.next_at = std::max(t.next_at, now + StepOf(t.parcel));
      continue;
    }
    std::vector<Tracked> advanced;
    for (auto& [_, t] : parcels_) {
      if (t.parcel.stage == Stage::kDelivered || t.next_at > now) continue;
      t.parcel.stage = static_cast<Stage>(static_cast<int>(t.parcel.stage) + 1);
      t.next_at = now + StepOf(t.parcel);
      t.stage_ms = WallMillis();
      EnqueueLocked(t.parcel, t.stage_ms, now);
      if (db_) advanced.push_back(t);
    }
    std::vector<Delivery> due;
    std::vector<Delivery> later;
    for (Delivery& d : deliveries_) (d.next_at <= now ? due : later).push_back(std::move(d));
    deliveries_ = std::move(later);
    if (due.empty() && advanced.empty()) continue;
    std::string url = options_.webhook_url;
    std::string secret = mode_ == "bad_signature" ? "not-" + options_.secret : options_.secret;
    lock.unlock();
    // A stage is stored before its webhook goes out, so no receiver sees a stage a restart forgets.
    Persist(advanced, {});
    std::vector<Delivery> retry;
    std::vector<WebhookEvent> acked;
    int64_t ok = 0;
    int64_t failed = 0;
    for (Delivery& d : due) {
      if (Send(d, url, secret)) {
        ++ok;
        if (db_) acked.push_back(d.event);
        continue;
      }
      ++failed;
      if (++d.attempts >= options_.max_attempts) {
        log::Warn("carrier sandbox gave up on a webhook",
                  {{"carrier", options_.carrier},
                   {"tracking_number", d.event.parcel.tracking_number},
                   {"status", StageName(d.event.stage)}});
        continue;
      }
      Millis backoff = std::min(kMaxRetry, kFirstRetry * (1 << std::min(d.attempts - 1, 10)));
      d.next_at = std::chrono::steady_clock::now() + backoff;
      retry.push_back(std::move(d));
    }
    Persist({}, acked);
    lock.lock();
    delivered_ += ok;
    failures_ += failed;
    for (Delivery& d : retry) deliveries_.push_back(std::move(d));
  }
}

Status AddControlRoutes(http::Router& router, Simulator& sim) {
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/control", [&sim](http::Request&) {
    return http::Response::Json(200, sim.ControlState());
  }));
  return router.Add(http::Method::kPost, "/control", [&sim](http::Request& req) {
    if (Status s = sim.Control(req.body); !s.ok()) return http::ProblemFrom(s, req.path);
    return http::Response::Json(200, sim.ControlState());
  });
}

}  // namespace emporium::fulfillment::sandbox
