// The strict schema of a POST /v1/events body (docs/behavior.md): `{"events":[...]}` with 1..100
// events, each with the common fields and exactly its type's fields. Validation is all or nothing:
// every bad field of every event is reported, and a batch with any is rejected whole.
// Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "services/behavior/model.h"

namespace emporium::behavior {

inline constexpr size_t kMaxBatch = 100;
inline constexpr size_t kMaxItems = 100;
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxPageLength = 512;
inline constexpr size_t kMaxQueryLength = 256;
inline constexpr size_t kMaxFilters = 50;
inline constexpr int64_t kMaxPosition = 10'000;
inline constexpr int64_t kMaxQuantity = 999;

// The events of `body`, each stamped with `now_ms` when it has no time. When anything is wrong,
// returns nothing and fills *issues (field paths such as "events[3].results[0].position"; "body"
// when the body is not a JSON object).
std::vector<Event> ParseBatch(std::string_view body, const Limits& limits, int64_t now_ms,
                              std::vector<FieldIssue>* issues);

// True for the kinds a client may report. Purchases, carts and payments are not among them: the
// server records those itself (the order, cart and payment modules publish them).
bool IsEventType(std::string_view type);
std::vector<std::string_view> EventTypes();

// 1..64 characters of [A-Za-z0-9._:-]: client event ids, product, search and recommendation ids.
bool IsId(std::string_view s);

}  // namespace emporium::behavior
