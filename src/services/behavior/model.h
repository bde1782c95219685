// The behaviour module's plain data: a validated event, a stored event as the history shows it,
// and the limits validation applies. Plain values.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace emporium::behavior {

// One validated event of a batch. `fields` holds the type's own fields (e.g.
// {"product_id":"p-1","quantity":2}), exactly as validated.
struct Event {
  std::string client_event_id;
  std::string type;
  int64_t time_ms = 0;  // the client's time, or the received time when it sent none
  std::string session_id;
  std::string device_id;
  boost::json::object fields;
};

// An event as the owner's history returns it.
struct StoredEvent {
  std::string id;  // the server's id, also the CloudEvents id on the bus
  Event event;
  int64_t received_ms = 0;
};

// A bad field of a rejected batch: "events[3].product_id" and what is wrong with it.
struct FieldIssue {
  std::string field;
  std::string message;
};

struct Limits {
  int64_t max_clock_skew_ms = 5 * 60 * 1000;
  int64_t max_event_age_ms = 30LL * 24 * 3600 * 1000;
};

// Who posted and from where: the token's subject and what the request says about the client.
struct Origin {
  std::string subject;  // "user:<id>" or "guest:<id>"
  std::string ip;
  std::string user_agent;
};

struct IngestResult {
  int accepted = 0;
  int duplicates = 0;
};

struct Page {
  std::vector<StoredEvent> events;
  std::string next_page_token;  // empty on the last page
};

}  // namespace emporium::behavior
