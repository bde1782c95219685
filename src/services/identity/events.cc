#include "services/identity/events.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "platform/bus/bus.h"
#include "platform/bus/outbox.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "services/identity/api.h"

namespace emporium::identity {
namespace {

boost::json::array Strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

Outgoing UserRegistered(const std::string& user_id, const std::vector<std::string>& roles,
                        int64_t created_at_ms) {
  boost::json::object o{{"user_id", user_id},
                        {"roles", Strings(roles)},
                        {"created_at", FormatRfc3339UnixMillis(created_at_ms)}};
  return {"user.registered", user_id, json::Dump(o)};
}

Outgoing UserUpdated(const std::string& user_id, const std::vector<std::string>& fields) {
  boost::json::object o{{"user_id", user_id}, {"fields", Strings(fields)}};
  return {"user.updated", user_id, json::Dump(o)};
}

Outgoing UserLoggedIn(const std::string& user_id, const std::string& client_id, const std::string& grant_type,
                      int64_t at_ms) {
  boost::json::object o{{"user_id", user_id},
                        {"client_id", client_id},
                        {"grant_type", grant_type},
                        {"at", FormatRfc3339UnixMillis(at_ms)}};
  return {"user.logged_in", user_id, json::Dump(o)};
}

Outgoing GuestMerged(const std::string& guest_id, const std::string& user_id) {
  boost::json::object o{{"guest_id", guest_id}, {"user_id", user_id}};
  return {"identity.guest_merged", user_id, json::Dump(o)};
}

Status AddToOutbox(sql::Tx& tx, const Events& events) {
  for (const Outgoing& o : events) {
    bus::Event e = bus::MakeEvent(std::string(kEventSource), o.type, o.subject, o.data_json);
    EMP_RETURN_IF_ERROR(bus::Outbox::Add(tx, std::string(kUserTopic), o.subject, e));
  }
  return Status::Ok();
}

}  // namespace emporium::identity
