// What shoppers did that search learns from: the searches they saw, what they clicked, viewed,
// wished for, put in the cart and bought. Search keeps its own record of it, from the behavior
// topic (behavior.search, .search_click, .product_view, .wishlist_add, .add_to_cart) and the
// order topic (order.confirmed: one purchase per line), so it reads no other module's tables.
//
// The ActivityFeed consumes both topics under group "search-activity-<index generation>",
// appends each polled batch to <index dir>/activity.jsonl (fsynced before the bus offsets are
// committed, so a crash re-appends at most a batch), and keeps the ProfileBook of personal.h
// current. At start it replays the file into the book, so profiles survive a restart.
// `emporium train search` learns from the same file, or from a simulator history
// (ReadSimulatorHistory: the same events as the shop would have received them).
//
// Thread-safety: the parsers are pure; ActivityFeed Start/Stop from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/status.h"
#include "services/search/index.h"
#include "services/search/personal.h"

namespace emporium::search {

enum class ActivityKind { kSearch, kSearchClick, kView, kWishlist, kCart, kPurchase };

struct Activity {
  int64_t at_ms = 0;
  std::string user;  // subject: "user:<id>" or "guest:<id>"
  ActivityKind kind = ActivityKind::kView;
  std::string product_id;            // every kind but kSearch
  std::string search_id;             // kSearch, kSearchClick
  std::string query;                 // kSearch
  std::vector<std::string> results;  // kSearch: product ids in the order shown (position = index + 1)
  int position = 0;                  // kSearchClick
};

// The signal a kind gives a profile (nullopt: kSearch gives none).
std::optional<Signal> SignalOf(ActivityKind kind);

// The activities in one bus record: none for the events search does not learn from;
// kInvalidArgument for a malformed one. behavior.guest_merged gives none (see GuestMerge).
Result<std::vector<Activity>> ActivitiesOf(const bus::Event& event);
// behavior.guest_merged: (guest subject, user subject).
std::optional<std::pair<std::string, std::string>> GuestMerge(const bus::Event& event);

// One JSON object per line and back.
std::string ActivityLine(const Activity& a);
Result<Activity> ParseActivityLine(std::string_view line);
// Every activity of the file in file order; a torn last line (a crash while appending) is
// skipped. A missing file is empty.
Result<std::vector<Activity>> ReadActivityLog(const std::filesystem::path& file);

// A simulator history (history.jsonl of `emporium simulate offline`): its behaviour events and
// confirmed orders as activities, in time order. Signed-in shoppers are "user:<key>".
Result<std::vector<Activity>> ReadSimulatorHistory(const std::filesystem::path& file);

// Applies activities in order to the profiles; products not in the index are skipped.
Status ApplyToProfiles(Index& index, const std::vector<Activity>& activities, ProfileBook& book);

class ActivityFeed {
 public:
  ~ActivityFeed();
  // Replays the log into `book`, then subscribes to the topics.
  static Result<std::unique_ptr<ActivityFeed>> Open(bus::Bus& bus, Index& index, ProfileBook& book,
                                                    std::filesystem::path log_file);
  void Start();
  void Stop();
  // One poll → append → apply → commit round; false when nothing was polled.
  Result<bool> RunOnce(Millis poll_timeout);
  const std::filesystem::path& log_file() const { return log_file_; }

 private:
  ActivityFeed(Index& index, ProfileBook& book, std::unique_ptr<bus::Consumer> consumer,
               std::filesystem::path log_file);
  Index& index_;
  ProfileBook& book_;
  std::unique_ptr<bus::Consumer> consumer_;
  std::filesystem::path log_file_;
  std::vector<bus::Record> pending_;  // polled but not yet applied and committed
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace emporium::search
