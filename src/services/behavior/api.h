// behavior: behaviour events (page and product views, searches, recommendation impressions and
// clicks, cart and wishlist actions) reported by storefronts and apps, for every model that learns
// from what shoppers do.
//
// Other modules include only this header. Routes (docs/behavior.md, docs/openapi.yaml):
//   POST /v1/events   a batch of 1..100 events of the caller (a user or a guest)
//   GET  /v1/events   the caller's own events, newest first
// Publishes on topic kBehaviorTopic (kPartitions partitions, key = the user subject, CloudEvents
// source kEventSource, event id = the stored event's id, stable across relay retries):
//   behavior.<type>          {"user_id","client_event_id","type","time","received_at",
//                             "session_id"?,"device_id"?,"ip","user_agent", ...type fields}
//   behavior.guest_merged    {"guest_id","user_id","events"}
// Consumes identity.guest_merged on topic "identity.user" (group "behavior").
#pragma once

#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/module/module.h"

namespace emporium::behavior {

inline constexpr std::string_view kBehaviorTopic = "behavior";
inline constexpr std::string_view kEventSource = "/emporium/behavior";
inline constexpr int kPartitions = 16;

std::vector<config::Key> ConfigKeys();
ModuleDef Module();

}  // namespace emporium::behavior
