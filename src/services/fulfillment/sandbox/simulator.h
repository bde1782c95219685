// The protocol-independent core of a carrier sandbox: parcels that move through
// label_created → in_transit → out_for_delivery → delivered one step every `step`, signed tracking
// webhooks POSTed to the configured URL (retried with backoff until a 2xx or max_attempts), and
// the chaos controls of POST /control.
//
// Persistence (optional): given a database, parcels and their idempotency keys are stored in
// table sandbox_parcels when created and when they advance, and loaded by the first Start(), so a
// restart loses no parcel: each keeps advancing from its stored stage (the rest of its step), and
// the webhook of its current stage is queued again unless it was acknowledged (2xx) before.
// Event ids are derived from parcel and stage, so a re-sent webhook carries the id of the first.
// Without a database, parcels live in memory only.
//
// Thread-safety: every method is thread-safe; a background thread (Start/Stop) advances parcels
// and delivers webhooks.
#pragma once

#include <condition_variable>
#include <cstdint>
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

namespace emporium::http {
class HttpClient;
}
namespace emporium::sql {
class Database;
}

namespace emporium::fulfillment::sandbox {

enum class Stage { kLabelCreated = 0, kInTransit, kOutForDelivery, kDelivered };
std::string_view StageName(Stage s);
std::string_view StageDescription(Stage s);

struct Parcel {
  std::string id;
  std::string tracking_number;
  std::string reference;  // the client's reference (order)
  std::string service;
  int64_t price = 0;  // minor units, USD
  std::string label_url;
  Stage stage = Stage::kLabelCreated;
  // A remote-area destination (postal codes starting "99", as Alaska's 995-999): each stage takes
  // kRemoteAreaFactor steps, so a sandbox shop has parcels in transit for hours.
  bool remote_area = false;
};

inline constexpr int kRemoteAreaFactor = 1200;
bool IsRemoteArea(std::string_view postal_code);

// One webhook delivery to render: the protocol builds method, target, headers and body, signed
// with `secret` at `unix_seconds` (re-rendered for every attempt, so retries carry a fresh
// timestamp).
struct WebhookEvent {
  Parcel parcel;
  Stage stage;
  std::string event_id;
  std::string occurred_at;  // RFC 3339
};
using RenderWebhook =
    std::function<http::Request(const WebhookEvent& event, int64_t unix_seconds, const std::string& secret)>;

struct SimulatorOptions {
  std::string carrier;          // "rapidship"
  std::string tracking_prefix;  // "RS"
  Millis step{3000};
  std::string webhook_url;  // "http://127.0.0.1:8080/v1/webhooks/carriers/rapidship"
  std::string secret;
  int max_attempts = 10;
};

class Simulator {
 public:
  // `db` (optional, must outlive the simulator) makes parcels persistent.
  Simulator(SimulatorOptions options, RenderWebhook render, sql::Database* db = nullptr);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Starts the background thread; the first Start() of a persistent simulator migrates its
  // database and loads the stored parcels (an error when the database fails).
  Status Start();
  void Stop();

  // The parcel created for idempotency `key`, creating it (and its label_created webhook) when
  // new; second is true when it was created now. An error when the parcel cannot be stored.
  Result<std::pair<Parcel, bool>> CreateParcel(const std::string& key, const std::string& reference,
                                               bool remote_area, const std::string& service, int64_t price);
  std::optional<Parcel> Find(const std::string& tracking_number) const;

  // Chaos for API calls: sleeps the configured latency, then returns true when this call must
  // fail (one of the `fail_next` failures).
  bool InjectFault();
  // Applies {"fail_next","latency_ms","step_ms","mode":"normal"|"paused"|"bad_signature",
  // "webhook_url"}; kInvalidArgument for a malformed document.
  Status Control(std::string_view json);
  // {"carrier","mode","step_ms","latency_ms","fail_next","webhook_url","parcels",
  //  "webhooks_delivered","webhook_failures","webhooks_pending"}
  std::string ControlState() const;

  void set_public_url(std::string url);
  std::string public_url() const;
  int64_t webhooks_delivered() const;
  int64_t webhook_failures() const;

 private:
  struct Delivery {
    WebhookEvent event;
    int attempts = 0;
    SteadyTime next_at;
  };
  struct Tracked {
    Parcel parcel;
    SteadyTime next_at;
    int64_t stage_ms = 0;  // wall clock (Unix ms) when the parcel reached its stage
  };
  void Loop();
  Status Load();
  Millis StepOf(const Parcel& p) const;
  void EnqueueLocked(const Parcel& p, int64_t stage_ms, SteadyTime now);
  // Stores the stages reached (advanced) or acknowledged by a 2xx (acked); logs a failure.
  void Persist(const std::vector<Tracked>& advanced, const std::vector<WebhookEvent>& acked);
  bool Send(const Delivery& d, const std::string& url, const std::string& secret);

  SimulatorOptions options_;
  RenderWebhook render_;
  sql::Database* db_;
  bool loaded_ = false;
  std::unique_ptr<http::HttpClient> http_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> by_key_;  // idempotency key → tracking number
  std::map<std::string, Tracked> parcels_;     // tracking number → parcel
  std::vector<Delivery> deliveries_;
  std::string mode_ = "normal";
  int64_t fail_next_ = 0;
  int64_t latency_ms_ = 0;
  std::string public_url_;
  int64_t delivered_ = 0;
  int64_t failures_ = 0;
  int64_t sequence_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// POST /control and GET /control on router.
Status AddControlRoutes(http::Router& router, Simulator& sim);

}  // namespace emporium::fulfillment::sandbox
