#include "services/search/activity.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fstream>

#include "platform/bus/loop.h"
#include "platform/core/file_util.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/log/log.h"
#include "services/behavior/api.h"
#include "services/order/api.h"
#include "services/search/api.h"

namespace emporium::search {
namespace {

using boost::json::array;
using boost::json::object;

constexpr size_t kMaxBatch = 512;

using json::Str;

std::string_view KindName(ActivityKind k) {
  switch (k) {
    case ActivityKind::kSearch: return "search";
    case ActivityKind::kSearchClick: return "search_click";
    case ActivityKind::kView: return "product_view";
    case ActivityKind::kWishlist: return "wishlist_add";
    case ActivityKind::kCart: return "add_to_cart";
    case ActivityKind::kPurchase: return "purchase";
  }
  return "product_view";
}

std::optional<ActivityKind> KindOf(std::string_view name) {
  for (ActivityKind k : {ActivityKind::kSearch, ActivityKind::kSearchClick, ActivityKind::kView,
                         ActivityKind::kWishlist, ActivityKind::kCart, ActivityKind::kPurchase}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

// A behaviour event's fields (the POST /v1/events schema) as an activity of `user` at `at_ms`;
// nullopt for a type search does not learn from.
Result<std::optional<Activity>> FromBehaviour(const object& e, const std::string& user, int64_t at_ms) {
  const std::optional<ActivityKind> kind = KindOf(Str(e, "type"));
  if (!kind || *kind == ActivityKind::kPurchase) return std::optional<Activity>();
  Activity a;
  a.at_ms = at_ms;
  a.user = user;
  a.kind = *kind;
  if (a.kind == ActivityKind::kSearch) {
    a.search_id = Str(e, "search_id");
    a.query = Str(e, "query");
    const auto* results = e.if_contains("results");
    if (results && results->is_array()) {
      std::vector<std::pair<int64_t, std::string>> by_position;
      for (const auto& r : results->as_array()) {
        if (!r.is_object()) continue;
        const auto* pos = r.as_object().if_contains("position");
        std::string id = Str(r.as_object(), "product_id");
        if (pos && pos->is_int64() && !id.empty()) by_position.emplace_back(pos->as_int64(), std::move(id));
      }
      std::sort(by_position.begin(), by_position.end());
      for (auto& [_, id] : by_position) a.results.push_back(std::move(id));
    }
    if (a.search_id.empty()) return InvalidArgument("search event without search_id");
    return std::optional<Activity>(std::move(a));
  }
  a.product_id = Str(e, "product_id");
  if (a.product_id.empty())
    return InvalidArgument(std::string(KindName(a.kind)) + " event without product_id");
  if (a.kind == ActivityKind::kSearchClick) {
    a.search_id = Str(e, "search_id");
    const auto* pos = e.if_contains("position");
    if (pos && pos->is_int64()) a.position = static_cast<int>(pos->as_int64());
  }
  return std::optional<Activity>(std::move(a));
}

// The lines of a confirmed order as purchases.
std::vector<Activity> Purchases(const object& o, const std::string& user, int64_t at_ms) {
  std::vector<Activity> out;
  const auto* items = o.if_contains("items");
  if (!items || !items->is_array()) return out;
  for (const auto& i : items->as_array()) {
    if (!i.is_object()) continue;
    Activity a;
    a.at_ms = at_ms;
    a.user = user;
    a.kind = ActivityKind::kPurchase;
    a.product_id = Str(i.as_object(), "product_id");
    if (!a.product_id.empty()) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

std::optional<Signal> SignalOf(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::kSearch: return std::nullopt;
    case ActivityKind::kSearchClick: return Signal::kClick;
    case ActivityKind::kView: return Signal::kView;
    case ActivityKind::kWishlist: return Signal::kWishlist;
    case ActivityKind::kCart: return Signal::kCart;
    case ActivityKind::kPurchase: return Signal::kPurchase;
  }
  return std::nullopt;
}

Result<std::vector<Activity>> ActivitiesOf(const bus::Event& event) {
  const bool behaviour = event.type.rfind("behavior.", 0) == 0 && event.type != "behavior.guest_merged";
  if (!behaviour && event.type != "order.confirmed") return std::vector<Activity>();
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(event.data));
  if (!v.is_object()) return InvalidArgument(event.type + " data is not an object");
  const object& o = v.as_object();
  const std::string user = Str(o, "user_id");
  if (user.empty()) return InvalidArgument(event.type + " without user_id");
  if (!behaviour) {
    const auto at = ParseRfc3339UnixMillis(Str(o, "at"));
    if (!at) return InvalidArgument("order.confirmed without at");
    return Purchases(o, "user:" + user, *at);
  }
  const auto at = ParseRfc3339UnixMillis(Str(o, "time"));
  if (!at) return InvalidArgument(event.type + " without time");
  EMP_ASSIGN_OR_RETURN(std::optional<Activity> a, FromBehaviour(o, user, *at));
  std::vector<Activity> out;
  if (a) out.push_back(std::move(*a));
  return out;
}

std::optional<std::pair<std::string, std::string>> GuestMerge(const bus::Event& event) {
  if (event.type != "behavior.guest_merged") return std::nullopt;
  auto v = json::Parse(event.data);
  if (!v.ok() || !v->is_object()) return std::nullopt;
  std::string guest = Str(v->as_object(), "guest_id"), user = Str(v->as_object(), "user_id");
  if (guest.empty() || user.empty()) return std::nullopt;
  if (guest.rfind("guest:", 0) != 0) guest = "guest:" + guest;
  if (user.rfind("user:", 0) != 0) user = "user:" + user;
  return std::make_pair(guest, user);
}

std::string ActivityLine(const Activity& a) {
  object o{{"t", a.at_ms}, {"u", a.user}, {"k", KindName(a.kind)}};
  if (!a.product_id.empty()) o["p"] = a.product_id;
  if (!a.search_id.empty()) o["s"] = a.search_id;
  if (a.kind == ActivityKind::kSearch) {
    o["q"] = a.query;
    array r;
    for (const std::string& id : a.results) r.push_back(boost::json::value(id));
    o["r"] = std::move(r);
  }
  if (a.position > 0) o["n"] = a.position;
  return json::Dump(o);
}

Result<Activity> ParseActivityLine(std::string_view line) {
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(line));
  if (!v.is_object()) return InvalidArgument("activity line is not an object");
  const object& o = v.as_object();
  const std::optional<ActivityKind> kind = KindOf(Str(o, "k"));
  const auto* t = o.if_contains("t");
  if (!kind || !t || !t->is_int64()) return InvalidArgument("activity line without kind or time");
  Activity a;
  a.at_ms = t->as_int64();
  a.user = Str(o, "u");
  a.kind = *kind;
  a.product_id = Str(o, "p");
  a.search_id = Str(o, "s");
  a.query = Str(o, "q");
  if (const auto* r = o.if_contains("r"); r && r->is_array()) {
    for (const auto& id : r->as_array())
      if (id.is_string()) a.results.emplace_back(id.as_string());
  }
  if (const auto* n = o.if_contains("n"); n && n->is_int64()) a.position = static_cast<int>(n->as_int64());
  return a;
}

Result<std::vector<Activity>> ReadActivityLog(const std::filesystem::path& file) {
  std::vector<Activity> out;
  std::ifstream in(file);
  if (!in) return out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto a = ParseActivityLine(line);
    if (!a.ok()) {
      if (in.peek() == std::char_traits<char>::eof()) break;  // torn by a crash while appending
      return InvalidArgument(file.string() + ":" + std::to_string(n) + ": " + a.status().message());
    }
    out.push_back(std::move(*a));
  }
  return out;
}

Result<std::vector<Activity>> ReadSimulatorHistory(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound("cannot read simulator history " + file.string());
  std::vector<Activity> out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto v = json::Parse(line);
    if (!v.ok() || !v->is_object())
      return InvalidArgument(file.string() + ":" + std::to_string(n) + ": not JSON");
    const object& o = v->as_object();
    const std::string record = Str(o, "record");
    if (record != "event" && record != "order") continue;
    const auto at = ParseRfc3339UnixMillis(Str(o, "time"));
    std::string user = Str(o, "user");
    if (!at || user.empty()) continue;
    if (user.rfind("guest:", 0) != 0) user = "user:" + user;
    if (record == "order") {
      if (Str(o, "status") != "CONFIRMED") continue;
      for (Activity& a : Purchases(o, user, *at)) out.push_back(std::move(a));
      continue;
    }
    const auto* e = o.if_contains("event");
    if (!e || !e->is_object()) continue;
    auto a = FromBehaviour(e->as_object(), user, *at);
    if (a.ok() && *a) out.push_back(std::move(**a));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Activity& a, const Activity& b) { return a.at_ms < b.at_ms; });
  return out;
}

Status ApplyToProfiles(Index& index, const std::vector<Activity>& activities, ProfileBook& book) {
  std::vector<std::string> ids;
  std::vector<const Activity*> signals;
  for (const Activity& a : activities) {
    if (!SignalOf(a.kind)) continue;
    ids.push_back(a.product_id);
    signals.push_back(&a);
  }
  EMP_ASSIGN_OR_RETURN(auto facts, index.Facts(ids));
  for (size_t i = 0; i < signals.size(); ++i) {
    if (!facts[i]) continue;
    book.Add(signals[i]->user, *SignalOf(signals[i]->kind), signals[i]->product_id, *facts[i],
             signals[i]->at_ms);
  }
  return Status::Ok();
}

ActivityFeed::ActivityFeed(Index& index, ProfileBook& book, std::unique_ptr<bus::Consumer> consumer,
                           std::filesystem::path log_file)
    : index_(index), book_(book), consumer_(std::move(consumer)), log_file_(std::move(log_file)) {}

ActivityFeed::~ActivityFeed() {
  Stop();
}

Result<std::unique_ptr<ActivityFeed>> ActivityFeed::Open(bus::Bus& bus, Index& index, ProfileBook& book,
                                                         std::filesystem::path log_file) {
  EMP_ASSIGN_OR_RETURN(std::vector<Activity> past, ReadActivityLog(log_file));
  EMP_RETURN_IF_ERROR(ApplyToProfiles(index, past, book));
  if (!past.empty()) {
    log::Info("search: shopper profiles replayed", {{"activities", static_cast<int64_t>(past.size())},
                                                    {"profiles", static_cast<int64_t>(book.size())}});
  }
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(behavior::kBehaviorTopic), behavior::kPartitions));
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(order::kOrderTopic), 8));
  EMP_ASSIGN_OR_RETURN(
      auto consumer, bus.Subscribe("search-activity-" + index.generation(),
                                   {std::string(behavior::kBehaviorTopic), std::string(order::kOrderTopic)}));
  return std::unique_ptr<ActivityFeed>(
      new ActivityFeed(index, book, std::move(consumer), std::move(log_file)));
}

Result<bool> ActivityFeed::RunOnce(Millis poll_timeout) {
  if (pending_.empty()) {
    EMP_ASSIGN_OR_RETURN(pending_, consumer_->Poll(poll_timeout, kMaxBatch));
    if (pending_.empty()) return false;
  }
  // On failure the batch stays pending and is tried again (its lines may then be appended twice).
  const std::vector<bus::Record>& records = pending_;
  std::vector<Activity> batch;
  std::vector<std::pair<std::string, std::string>> merges;
  for (const bus::Record& r : records) {
    if (auto m = GuestMerge(r.event)) merges.push_back(std::move(*m));
    auto got = ActivitiesOf(r.event);
    if (!got.ok()) {
      log::Warn("search: skipping malformed activity event",
                {{"type", r.event.type}, {"id", r.event.id}, {"error", got.status().message()}});
      continue;
    }
    for (Activity& a : *got) batch.push_back(std::move(a));
  }
  std::string text;
  for (const Activity& a : batch) text += ActivityLine(a) + "\n";
  EMP_RETURN_IF_ERROR(fileutil::AppendFileSynced(log_file_.string(), text));
  EMP_RETURN_IF_ERROR(ApplyToProfiles(index_, batch, book_));
  for (const auto& [guest, user] : merges) book_.Merge(guest, user);
  EMP_RETURN_IF_ERROR(bus::CommitLast(*consumer_, records));
  pending_.clear();
  return true;
}

void ActivityFeed::Start() {
  thread_ = std::thread([this] {
    bus::RunWithBackoff(stop_, "search: activity feed", [this] { return RunOnce(Millis(100)); });
  });
}

void ActivityFeed::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace emporium::search
