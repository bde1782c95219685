#include "services/behavior/service.h"

#include <charconv>
#include <cstdio>
#include <unordered_set>

#include "platform/core/random.h"
#include "platform/crypto/crypto.h"
#include "services/behavior/events.h"
#include "services/behavior/schema.h"

namespace emporium::behavior {
namespace {

std::string WithPrefix(const std::string& prefix, const std::string& id) {
  return id.starts_with(prefix) ? id : prefix + id;
}

}  // namespace

std::string EncodePageToken(const Cursor& c) {
  return crypto::Base64UrlEncode(std::to_string(c.time_ms) + ":" + c.id);
}

Result<Cursor> DecodePageToken(const std::string& token) {
  auto raw = crypto::Base64UrlDecode(token);
  if (!raw.ok()) return InvalidArgument("page_token is not valid");
  const size_t colon = raw->find(':');
  Cursor c;
  if (colon == std::string::npos) return InvalidArgument("page_token is not valid");
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + colon, c.time_ms);
  c.id = raw->substr(colon + 1);
  if (ec != std::errc() || end != raw->data() + colon || c.id.empty() || c.id.size() > 64) {
    return InvalidArgument("page_token is not valid");
  }
  return c;
}

BehaviorService::BehaviorService(Store& store, Clock& clock, Options options, metrics::Registry& metrics,
                                 std::function<void()> notify_relay)
    : store_(store),
      clock_(clock),
      options_(options),
      notify_relay_(std::move(notify_relay)),
      duplicates_(metrics
                      .AddCounter("behavior_duplicates_total",
                                  "Events of accepted batches already stored (client retries).")
                      .With({})),
      rejected_(metrics
                    .AddCounter("behavior_rejected_batches_total",
                                "Batches rejected whole because an event failed validation.")
                    .With({})) {
  auto& accepted = metrics.AddCounter("behavior_events_total", "Behaviour events stored, by type.", {"type"});
  for (std::string_view type : EventTypes())
    accepted_[std::string(type)] = &accepted.With({std::string(type)});
}

int64_t BehaviorService::NowMs() const {
  return UnixMillis(clock_.WallNow());
}

Result<IngestResult> BehaviorService::Ingest(const Origin& origin, std::string_view body,
                                             std::vector<FieldIssue>* issues) {
  const int64_t now = NowMs();
  std::vector<Event> events = ParseBatch(body, options_.limits, now, issues);
  if (!issues->empty()) {
    rejected_.Inc();
    return InvalidArgument("the batch was rejected; nothing was stored");
  }

  // A client that repeats an id within one batch gets the first one stored, the rest counted as
  // duplicates, as a retry would.
  // Ids are the batch's UUIDv7 and the event's place in it, so that events of one batch without
  // a time of their own (same time) still list newest first in the order they were posted.
  std::vector<StoredEvent> stored;
  stored.reserve(events.size());
  std::unordered_set<std::string> seen;
  const std::string batch_id = NewUuidV7();
  for (Event& e : events) {
    if (!seen.insert(e.client_event_id).second) continue;
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, ".%03zu", stored.size());
    stored.push_back(StoredEvent{batch_id + suffix, std::move(e), now});
  }

  IngestResult result;
  std::vector<const StoredEvent*> published;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    published.clear();
    EMP_ASSIGN_OR_RETURN(std::string subject, Store::Attributed(tx, origin.subject));
    std::vector<NewRow> rows;
    rows.reserve(stored.size());
    for (const StoredEvent& e : stored) rows.push_back({&e, &origin.subject, &subject});
    EMP_ASSIGN_OR_RETURN(auto inserted, Store::Insert(tx, rows));
    for (const StoredEvent& e : stored) {
      if (!inserted.count(e.event.client_event_id)) continue;
      EMP_RETURN_IF_ERROR(AddBehaviorEvent(tx, subject, e, origin));
      published.push_back(&e);
    }
    return Status::Ok();
  });
  EMP_RETURN_IF_ERROR(s);
  if (!published.empty()) notify_relay_();
  result.accepted = static_cast<int>(published.size());
  result.duplicates = static_cast<int>(events.size()) - result.accepted;
  for (const StoredEvent* e : published) accepted_.at(e->event.type)->Inc();
  if (result.duplicates > 0) duplicates_.Inc(result.duplicates);
  return result;
}

Result<Page> BehaviorService::History(const std::string& subject, const std::string& type, int page_size,
                                      const std::string& page_token, std::vector<FieldIssue>* issues) {
  HistoryQuery q;
  if (!type.empty() && !IsEventType(type)) issues->push_back({"type", "is not an event type"});
  if (page_size < 1 || page_size > kMaxPageSize) issues->push_back({"page_size", "must be from 1 to 100"});
  if (!page_token.empty()) {
    auto cursor = DecodePageToken(page_token);
    if (cursor.ok()) {
      q.after = std::move(cursor).value();
    } else {
      issues->push_back({"page_token", cursor.status().message()});
    }
  }
  if (!issues->empty()) return InvalidArgument("invalid query parameters");

  std::string attributed;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(attributed, Store::Attributed(tx, subject));
    return Status::Ok();
  }));
  q.subject = attributed;
  // A guest token merged into a user still reads only what it posted, never the user's other
  // devices' history.
  if (attributed != subject) q.origin = subject;
  q.type = type;
  q.page_size = page_size;
  EMP_ASSIGN_OR_RETURN(std::vector<StoredEvent> rows, store_.History(q));
  Page page;
  if (rows.size() > static_cast<size_t>(page_size)) {
    rows.resize(page_size);
    page.next_page_token = EncodePageToken({rows.back().event.time_ms, rows.back().id});
  }
  page.events = std::move(rows);
  return page;
}

Status BehaviorService::Merge(sql::Tx& tx, const std::string& guest_id, const std::string& user_id) {
  const std::string guest = WithPrefix("guest:", guest_id);
  const std::string user = WithPrefix("user:", user_id);
  EMP_ASSIGN_OR_RETURN(int64_t moved, Store::Reattribute(tx, guest, user, NowMs()));
  EMP_RETURN_IF_ERROR(AddGuestMerged(tx, guest, user, moved));
  notify_relay_();
  return Status::Ok();
}

Result<int64_t> BehaviorService::Sweep() {
  return store_.DeleteOlderThan(NowMs() - options_.retention_ms);
}

}  // namespace emporium::behavior
