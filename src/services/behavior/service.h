// Behaviour logic: validating and storing batches idempotently with their outbox events, the
// caller's history, the guest → user merge and the retention sweep. No HTTP types here.
//
// A batch is one SQL transaction: the guest alias lookup, a few multi-row inserts that skip
// (origin, client_event_id) pairs already stored, and one outbox row per event actually inserted.
// So a retried batch stores and publishes nothing twice, and a guest merged into a user posts as
// that user.
// Thread-safety: thread-safe (state lives in the database; counters are atomic).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/metrics/metrics.h"
#include "services/behavior/model.h"
#include "services/behavior/store.h"

namespace emporium::behavior {

struct Options {
  Limits limits;
  int64_t retention_ms = 90LL * 24 * 3600 * 1000;
};

inline constexpr int kDefaultPageSize = 20;
inline constexpr int kMaxPageSize = 100;

class BehaviorService {
 public:
  // Registers behavior_events_total{type}, behavior_duplicates_total and
  // behavior_rejected_batches_total in `metrics`.
  BehaviorService(Store& store, Clock& clock, Options options, metrics::Registry& metrics,
                  std::function<void()> notify_relay);

  // Validates body (schema.h) and stores its events for origin. kInvalidArgument with *issues
  // when the batch is rejected (nothing stored).
  Result<IngestResult> Ingest(const Origin& origin, std::string_view body, std::vector<FieldIssue>* issues);

  // The events of subject, newest first. A guest sees only what it posted itself (after a merge
  // its events belong to the user, who sees them all). kInvalidArgument with *issues for a bad
  // type, page_size or page_token.
  Result<Page> History(const std::string& subject, const std::string& type, int page_size,
                       const std::string& page_token, std::vector<FieldIssue>* issues);

  // Inside tx (the inbox transaction): guest:<guest_id> becomes an alias of user:<user_id>, its
  // events move to the user, and behavior.guest_merged goes to the outbox.
  Status Merge(sql::Tx& tx, const std::string& guest_id, const std::string& user_id);

  // Deletes events older than the retention (and aliases recorded before it); returns how many.
  Result<int64_t> Sweep();

  Store& store() { return store_; }

 private:
  int64_t NowMs() const;

  Store& store_;
  Clock& clock_;
  const Options options_;
  std::function<void()> notify_relay_;
  std::unordered_map<std::string, metrics::Counter*> accepted_;  // by type, filled at construction
  metrics::Counter& duplicates_;
  metrics::Counter& rejected_;
};

// Page tokens: an opaque encoding of the last event of a page.
std::string EncodePageToken(const Cursor& c);
Result<Cursor> DecodePageToken(const std::string& token);

}  // namespace emporium::behavior
