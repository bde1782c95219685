// CloudEvents 1.0 envelope (JSON structured mode) for every event Emporium publishes.
// Plain values and free functions: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "platform/core/status.h"

namespace emporium::bus {

struct Event {
  std::string id;           // unique per source; consumers de-duplicate on it (inbox)
  std::string source;       // "/emporium/order"
  std::string type;         // "order.created"
  std::string subject;      // aggregate id, e.g. the order id; also the partition key
  std::string time;         // RFC 3339 UTC
  std::string data;         // JSON document (datacontenttype application/json)
  std::string traceparent;  // W3C trace context extension, may be empty

  bool operator==(const Event&) const = default;
};

// Builds an event with a fresh random id and the current time.
Event MakeEvent(std::string source, std::string type, std::string subject, std::string data_json);

// {"specversion":"1.0","id":..,"source":..,"type":..,"subject":..,"time":..,
//  "datacontenttype":"application/json","data":{..},"traceparent":..}
std::string ToJson(const Event& e);
// kInvalidArgument when a required attribute is missing or specversion is not 1.0.
Result<Event> FromJson(std::string_view json);
// kInvalidArgument unless id, source and type are set and data is empty or a JSON document.
// Producers call it before publishing so that ToJson never has to guess.
Status Validate(const Event& e);

}  // namespace emporium::bus
