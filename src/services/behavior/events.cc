#include "services/behavior/events.h"

#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "services/behavior/api.h"

namespace emporium::behavior {
namespace {

boost::json::value OrNull(const std::string& s) {
  return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

}  // namespace

std::string EventData(const std::string& subject, const StoredEvent& e, const Origin& origin) {
  boost::json::object o;
  o.reserve(10 + e.event.fields.size());
  o.emplace("user_id", subject);
  o.emplace("client_event_id", e.event.client_event_id);
  o.emplace("type", e.event.type);
  o.emplace("time", FormatRfc3339UnixMillis(e.event.time_ms));
  o.emplace("received_at", FormatRfc3339UnixMillis(e.received_ms));
  if (!e.event.session_id.empty()) o.emplace("session_id", e.event.session_id);
  if (!e.event.device_id.empty()) o.emplace("device_id", e.event.device_id);
  o.emplace("ip", OrNull(origin.ip));
  o.emplace("user_agent", OrNull(origin.user_agent));
  for (const auto& kv : e.event.fields) o.emplace(kv.key(), kv.value());
  return json::Dump(o);
}

Status AddBehaviorEvent(sql::Tx& tx, const std::string& subject, const StoredEvent& e, const Origin& origin) {
  bus::Event ev = bus::MakeEvent(std::string(kEventSource), "behavior." + e.event.type, subject,
                                 EventData(subject, e, origin));
  ev.id = e.id;
  return bus::Outbox::Add(tx, std::string(kBehaviorTopic), subject, ev);
}

Status AddGuestMerged(sql::Tx& tx, const std::string& guest, const std::string& user, int64_t events) {
  boost::json::object o{{"guest_id", guest}, {"user_id", user}, {"events", events}};
  bus::Event ev = bus::MakeEvent(std::string(kEventSource), "behavior.guest_merged", user, json::Dump(o));
  return bus::Outbox::Add(tx, std::string(kBehaviorTopic), user, ev);
}

}  // namespace emporium::behavior
