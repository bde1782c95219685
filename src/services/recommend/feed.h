// The recommend module's event feed: topics behavior (what shoppers do), order (order.confirmed:
// purchases), catalog.product and catalog.inventory (what may be shown) into the Graph.
//
// What it learns goes first to the module's own log (<data-dir>/recommend/log.jsonl, appended
// with fdatasync), then into the Graph, then the offsets are committed: a crash replays at most
// the last batch (a line may then be logged twice; a repeated view only weighs a little more).
// At start the log is replayed, so a restart needs neither the topics' history nor catalog.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/status.h"
#include "services/recommend/graph.h"

namespace emporium::recommend {

// What one event tells the graph.
struct Merge {
  std::string guest, user;
};
struct Stock {
  std::string product_id;
  bool in_stock = true;
};
using Fact = std::variant<LiveInteraction, ItemFacts, Stock, Merge>;

// The facts in one bus event: none for the events recommend does not learn from;
// kInvalidArgument for a malformed one.
Result<std::vector<Fact>> FactsOf(const bus::Event& event);
std::string FactLine(const Fact& fact);
Result<Fact> ParseFactLine(std::string_view line);
void Apply(Graph& graph, const Fact& fact);
// Replays a log into the graph (a torn last line is skipped); the lines applied. A missing file
// is an empty log.
Result<size_t> Replay(const std::filesystem::path& log_file, Graph& graph);

class Feed {
 public:
  ~Feed();
  // Replays the log into `graph`, then subscribes to the topics (group "recommend").
  static Result<std::unique_ptr<Feed>> Open(bus::Bus& bus, Graph& graph, std::filesystem::path log_file);
  void Start();
  void Stop();
  // One poll → log → apply → commit round; false when nothing was polled.
  Result<bool> RunOnce(Millis poll_timeout);
  size_t replayed() const { return replayed_; }

 private:
  Feed(Graph& graph, std::unique_ptr<bus::Consumer> consumer, std::filesystem::path log_file);
  Graph& graph_;
  std::unique_ptr<bus::Consumer> consumer_;
  std::filesystem::path log_file_;
  std::vector<bus::Record> pending_;
  size_t replayed_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace emporium::recommend
