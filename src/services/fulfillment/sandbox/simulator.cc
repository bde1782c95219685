#include "services/fulfillment/sandbox/simulator.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>

#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/http/client.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"

namespace emporium::fulfillment::sandbox {
namespace {

constexpr Millis kFirstRetry{100};
constexpr Millis kMaxRetry{5000};
constexpr Millis kMaxTick{50};

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

Simulator::Simulator(SimulatorOptions options, RenderWebhook render)
    : options_(std::move(options)), render_(std::move(render)), http_(std::make_unique<http::HttpClient>()) {}

Simulator::~Simulator() {
  Stop();
}

void Simulator::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Simulator::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::pair<Parcel, bool> Simulator::CreateParcel(const std::string& key, const std::string& reference,
                                                const std::string& service, int64_t price) {
  std::lock_guard lock(mu_);
  if (auto it = by_key_.find(key); it != by_key_.end()) return {parcels_.at(it->second).parcel, false};
  Parcel p;
  p.id = "shp_" + RandomHex(8);
  std::string digits = RandomHex(5);
  for (char& c : digits) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  p.tracking_number = options_.tracking_prefix + std::to_string(100000 + ++sequence_) + digits;
  p.reference = reference;
  p.service = service;
  p.price = price;
  p.label_url = public_url_ + "/labels/" + p.tracking_number + ".pdf";
  SteadyTime now = std::chrono::steady_clock::now();
  by_key_[key] = p.tracking_number;
  parcels_[p.tracking_number] = Tracked{p, now + options_.step};
  EnqueueLocked(p, now);
  cv_.notify_all();
  return {p, true};
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

void Simulator::EnqueueLocked(const Parcel& p, SteadyTime now) {
  WebhookEvent e{p, p.stage, "evt_" + RandomHex(12), FormatRfc3339(SystemClock::Get().WallNow())};
  deliveries_.push_back(Delivery{std::move(e), 0, now});
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
      for (auto& [_, t] : parcels_) t.next_at = std::max(t.next_at, now + options_.step);
      continue;
    }
    for (auto& [_, t] : parcels_) {
      if (t.parcel.stage == Stage::kDelivered || t.next_at > now) continue;
      t.parcel.stage = static_cast<Stage>(static_cast<int>(t.parcel.stage) + 1);
      t.next_at = now + options_.step;
      EnqueueLocked(t.parcel, now);
    }
    std::vector<Delivery> due;
    std::vector<Delivery> later;
    for (Delivery& d : deliveries_) (d.next_at <= now ? due : later).push_back(std::move(d));
    deliveries_ = std::move(later);
    if (due.empty()) continue;
    std::string url = options_.webhook_url;
    std::string secret = mode_ == "bad_signature" ? "not-" + options_.secret : options_.secret;
    lock.unlock();
    std::vector<Delivery> retry;
    int64_t ok = 0;
    int64_t failed = 0;
    for (Delivery& d : due) {
      if (Send(d, url, secret)) {
        ++ok;
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
