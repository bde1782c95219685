#include "services/behavior/schema.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <unordered_set>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"

namespace emporium::behavior {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::string_view kNotReported =
    "purchases, carts and payments are recorded by the server, never reported by clients";

enum class Kind { kId, kPage, kQuery, kFilters, kResults, kItems, kPosition, kPlacement, kQuantity };

struct FieldSpec {
  std::string_view name;
  Kind kind;
  bool required;
};

struct TypeSpec {
  std::string_view type;
  std::span<const FieldSpec> fields;
};

constexpr FieldSpec kPageView[] = {{"page", Kind::kPage, true}, {"referrer", Kind::kPage, false}};
constexpr FieldSpec kProductView[] = {{"product_id", Kind::kId, true}};
constexpr FieldSpec kSearch[] = {{"search_id", Kind::kId, true},
                                 {"query", Kind::kQuery, true},
                                 {"filters", Kind::kFilters, false},
                                 {"results", Kind::kResults, true}};
constexpr FieldSpec kSearchClick[] = {
    {"search_id", Kind::kId, true}, {"product_id", Kind::kId, true}, {"position", Kind::kPosition, true}};
constexpr FieldSpec kRecommendationView[] = {{"recommendation_id", Kind::kId, true},
                                             {"placement", Kind::kPlacement, true},
                                             {"model_version", Kind::kId, true},
                                             {"items", Kind::kItems, true}};
constexpr FieldSpec kRecommendationClick[] = {{"recommendation_id", Kind::kId, true},
                                              {"placement", Kind::kPlacement, true},
                                              {"model_version", Kind::kId, true},
                                              {"product_id", Kind::kId, true},
                                              {"position", Kind::kPosition, true}};
constexpr FieldSpec kAddToCart[] = {{"product_id", Kind::kId, true}, {"quantity", Kind::kQuantity, true}};
constexpr FieldSpec kRemoveFromCart[] = {{"product_id", Kind::kId, true},
                                         {"quantity", Kind::kQuantity, false}};
constexpr FieldSpec kWishlistAdd[] = {{"product_id", Kind::kId, true}};

constexpr TypeSpec kTypes[] = {
    {"page_view", kPageView},
    {"product_view", kProductView},
    {"search", kSearch},
    {"search_click", kSearchClick},
    {"recommendation_view", kRecommendationView},
    {"recommendation_click", kRecommendationClick},
    {"add_to_cart", kAddToCart},
    {"remove_from_cart", kRemoveFromCart},
    {"wishlist_add", kWishlistAdd},
};

constexpr std::string_view kCommon[] = {"id", "type", "time", "session_id", "device_id"};
constexpr std::string_view kPlacements[] = {"home", "product", "cart", "email"};

const TypeSpec* FindType(std::string_view type) {
  for (const TypeSpec& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

// Characters as JSON Schema counts them (code points), for valid UTF-8.
size_t Length(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string Duration(int64_t ms) {
  constexpr int64_t kDay = 24 * 3600 * 1000;
  if (ms % kDay == 0) return std::to_string(ms / kDay) + " days";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  return std::to_string(ms / 1000) + "s";
}

// Collects the issues of one batch; field paths are built from a prefix.
class Checker {
 public:
  Checker(const Limits& limits, int64_t now_ms, std::vector<FieldIssue>* issues)
      : limits_(limits), now_ms_(now_ms), issues_(issues) {}

  void Fail(std::string field, std::string message) {
    issues_->push_back({std::move(field), std::move(message)});
  }

  // The string at v when it is one of [min, max] characters; reports and returns null otherwise.
  const boost::json::string* String(const value& v, const std::string& field, size_t min, size_t max) {
    if (!v.is_string()) {
      Fail(field, "must be a string");
      return nullptr;
    }
    const size_t n = Length(v.as_string());
    if (n < min || n > max) {
      Fail(field, min == 0 ? "must be at most " + std::to_string(max) + " characters"
                           : "must be " + std::to_string(min) + " to " + std::to_string(max) + " characters");
      return nullptr;
    }
    return &v.as_string();
  }

  bool Id(const value& v, const std::string& field) {
    if (!v.is_string()) {
      Fail(field, "must be a string");
      return false;
    }
    if (!IsId(v.as_string())) {
      Fail(field, "must be 1 to 64 characters of A-Z a-z 0-9 . _ : -");
      return false;
    }
    return true;
  }

  bool Integer(const value& v, const std::string& field, int64_t min, int64_t max) {
    if (!v.is_int64() || v.as_int64() < min || v.as_int64() > max) {
      // uint64 beyond int64 and fractions land here too: neither is a count or a rank.
      Fail(field, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return false;
    }
    return true;
  }

  void Field(Kind kind, const value& v, const std::string& field) {
    switch (kind) {
      case Kind::kId: Id(v, field); return;
      case Kind::kPage:
        if (auto s = String(v, field, 1, kMaxPageLength)) {
          std::string_view p(*s);
          if (!p.starts_with('/') && !p.starts_with("http://") && !p.starts_with("https://"))
            Fail(field, "must be a path (/...) or an http(s) URL");
        }
        return;
      case Kind::kQuery: String(v, field, 0, kMaxQueryLength); return;
      case Kind::kFilters: Filters(v, field); return;
      case Kind::kResults: Positions(v, field, 0); return;
      case Kind::kItems: Positions(v, field, 1); return;
      case Kind::kPosition: Integer(v, field, 1, kMaxPosition); return;
      case Kind::kPlacement:
        if (!v.is_string() || std::find(std::begin(kPlacements), std::end(kPlacements),
                                        std::string_view(v.as_string())) == std::end(kPlacements)) {
          Fail(field, "must be one of home, product, cart, email");
        }
        return;
      case Kind::kQuantity: Integer(v, field, 1, kMaxQuantity); return;
    }
  }

  void Filters(const value& v, const std::string& field) {
    if (!v.is_object()) {
      Fail(field, "must be an object");
      return;
    }
    const object& o = v.as_object();
    if (o.size() > kMaxFilters) Fail(field, "must have at most " + std::to_string(kMaxFilters) + " filters");
    for (const auto& kv : o) {
      const std::string key = field + "." + std::string(kv.key());
      const size_t n = Length(kv.key());
      if (n < 1 || n > kMaxIdLength) {
        Fail(key, "filter names must be 1 to 64 characters");
      } else if (kv.value().is_string()) {
        String(kv.value(), key, 0, kMaxQueryLength);
      } else if (!kv.value().is_number() && !kv.value().is_bool()) {
        Fail(key, "must be a string, a number or a boolean");
      }
    }
  }

  // [{"product_id","position"}], min_items..kMaxItems entries.
  void Positions(const value& v, const std::string& field, size_t min_items) {
    if (!v.is_array()) {
      Fail(field, "must be an array");
      return;
    }
    const array& a = v.as_array();
    if (a.size() < min_items || a.size() > kMaxItems) {
      Fail(field, "must have " + std::to_string(min_items) + " to " + std::to_string(kMaxItems) + " entries");
      return;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string item = field + "[" + std::to_string(i) + "]";
      if (!a[i].is_object()) {
        Fail(item, "must be an object with product_id and position");
        continue;
      }
      const object& o = a[i].as_object();
      for (const auto& kv : o) {
        if (kv.key() != "product_id" && kv.key() != "position")
          Fail(item + "." + std::string(kv.key()), "unknown field");
      }
      if (auto p = o.if_contains("product_id")) {
        Id(*p, item + ".product_id");
      } else {
        Fail(item + ".product_id", "is required");
      }
      if (auto p = o.if_contains("position")) {
        Integer(*p, item + ".position", 1, kMaxPosition);
      } else {
        Fail(item + ".position", "is required");
      }
    }
  }

  // The event at index i; its fields are validated even when its type is bad, so that one
  // answer names everything to fix.
  std::optional<Event> Check(const value& v, size_t i) {
    const std::string prefix = "events[" + std::to_string(i) + "]";
    if (!v.is_object()) {
      Fail(prefix, "must be an object");
      return std::nullopt;
    }
    const size_t before = issues_->size();
    const object& o = v.as_object();
    Event e;
    const TypeSpec* spec = nullptr;
    if (auto id = o.if_contains("id")) {
      if (Id(*id, prefix + ".id")) e.client_event_id = std::string(id->as_string());
    } else {
      Fail(prefix + ".id", "is required");
    }
    if (auto type = o.if_contains("type")) {
      if (!type->is_string()) {
        Fail(prefix + ".type", "must be a string");
      } else if (spec = FindType(type->as_string()); !spec) {
        Fail(prefix + ".type", "'" + std::string(type->as_string()) +
                                   "' is not an event type clients report (page_view, product_view, search, "
                                   "search_click, recommendation_view, recommendation_click, add_to_cart, "
                                   "remove_from_cart, wishlist_add); " +
                                   std::string(kNotReported));
      } else {
        e.type = spec->type;
      }
    } else {
      Fail(prefix + ".type", "is required");
    }
    e.time_ms = now_ms_;
    if (auto t = o.if_contains("time")) Time(*t, prefix + ".time", &e.time_ms);
    if (auto s = o.if_contains("session_id")) {
      if (auto str = String(*s, prefix + ".session_id", 1, kMaxIdLength)) e.session_id = std::string(*str);
    }
    if (auto d = o.if_contains("device_id")) {
      if (auto str = String(*d, prefix + ".device_id", 1, kMaxIdLength)) e.device_id = std::string(*str);
    }
    if (spec) {
      for (const FieldSpec& f : spec->fields) {
        const value* fv = o.if_contains(f.name);
        if (!fv) {
          if (f.required)
            Fail(prefix + "." + std::string(f.name), "is required for " + std::string(spec->type));
          continue;
        }
        Field(f.kind, *fv, prefix + "." + std::string(f.name));
        e.fields.emplace(f.name, *fv);
      }
      for (const auto& kv : o) {
        const bool common = std::find(std::begin(kCommon), std::end(kCommon), kv.key()) != std::end(kCommon);
        const bool own = std::any_of(spec->fields.begin(), spec->fields.end(),
                                     [&](const FieldSpec& f) { return f.name == kv.key(); });
        if (!common && !own)
          Fail(prefix + "." + std::string(kv.key()), "unknown field for " + std::string(spec->type));
      }
    }
    if (issues_->size() != before) return std::nullopt;
    return e;
  }

 private:
  void Time(const value& v, const std::string& field, int64_t* out) {
    std::optional<int64_t> t;
    if (v.is_string()) t = ParseRfc3339UnixMillis(v.as_string());
    if (!t) {
      Fail(field, "must be an RFC 3339 date-time with an offset, e.g. 2026-03-01T12:00:00.250Z");
    } else if (*t > now_ms_ + limits_.max_clock_skew_ms) {
      Fail(field, "is more than " + Duration(limits_.max_clock_skew_ms) + " in the future");
    } else if (*t < now_ms_ - limits_.max_event_age_ms) {
      Fail(field, "is older than " + Duration(limits_.max_event_age_ms) + "; older events are not accepted");
    } else {
      *out = *t;
    }
  }

  const Limits& limits_;
  int64_t now_ms_;
  std::vector<FieldIssue>* issues_;
};

}  // namespace

std::vector<Event> ParseBatch(std::string_view body, const Limits& limits, int64_t now_ms,
                              std::vector<FieldIssue>* issues) {
  auto doc = json::Parse(body);
  if (!doc.ok()) {
    issues->push_back({"body", "is not valid JSON: " + doc.status().message()});
    return {};
  }
  if (!doc->is_object()) {
    issues->push_back({"body", "must be a JSON object {\"events\": [...]}"});
    return {};
  }
  const object& top = doc->as_object();
  for (const auto& kv : top) {
    if (kv.key() != "events") issues->push_back({std::string(kv.key()), "unknown field"});
  }
  const value* events = top.if_contains("events");
  if (!events) {
    issues->push_back({"events", "is required"});
    return {};
  }
  if (!events->is_array()) {
    issues->push_back({"events", "must be an array"});
    return {};
  }
  const array& a = events->as_array();
  if (a.empty() || a.size() > kMaxBatch) {
    issues->push_back({"events", "must have 1 to " + std::to_string(kMaxBatch) + " events, not " +
                                     std::to_string(a.size())});
    return {};
  }
  Checker check(limits, now_ms, issues);
  std::vector<Event> out;
  out.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (auto e = check.Check(a[i], i)) out.push_back(std::move(*e));
  }
  if (!issues->empty()) return {};
  return out;
}

bool IsEventType(std::string_view type) {
  return FindType(type) != nullptr;
}

std::vector<std::string_view> EventTypes() {
  std::vector<std::string_view> out;
  for (const TypeSpec& t : kTypes) out.push_back(t.type);
  return out;
}

bool IsId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

}  // namespace emporium::behavior
