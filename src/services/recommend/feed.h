// The recommend module's event feed: topics behavior (what shoppers do), order (order.confirmed:
// purchases), catalog.product and catalog.inventory (what may be shown) and cart (what each
// shopper's cart holds) into the Graph.
//
// What it learns goes first to the module's own log (<data-dir>/recommend/log.jsonl, appended
// with fdatasync), then into the Graph, then the offsets are committed: a crash replays at most
// the last batch (a line may then be logged twice; a repeated view only weighs a little more).
// At start the graph's snapshot (graph.snapshot beside the log, snapshot.h) is loaded and only the
// log after the offset it covers is replayed, so a restart needs neither the topics' history nor
// catalog, nor the time to replay the whole log. The feed writes a new snapshot every
// FeedOptions::snapshot_every logged lines and when it stops.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
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
// How many of a product a cart holds now (cart.item_added/updated/removed); 0 takes it out.
struct CartLine {
  std::string subject, product_id;
  int32_t quantity = 0;
};
using Fact = std::variant<LiveInteraction, ItemFacts, Stock, Merge, CartLine>;

// The facts in one bus event: none for the events recommend does not learn from;
// kInvalidArgument for a malformed one.
Result<std::vector<Fact>> FactsOf(const bus::Event& event);
std::string FactLine(const Fact& fact);
Result<Fact> ParseFactLine(std::string_view line);
void Apply(Graph& graph, const Fact& fact);
// Replays a log into the graph (a torn last line is skipped: one without its newline, or a
// malformed one at the end); the lines applied. A missing file is an empty log.
Result<size_t> Replay(const std::filesystem::path& log_file, Graph& graph);
// The snapshot file of a log: graph.snapshot in the log's directory.
std::filesystem::path SnapshotPath(const std::filesystem::path& log_file);
// Loads the log's snapshot into an empty graph, then replays the log after the offset it covers;
// the lines replayed from that tail. A snapshot that is corrupt, truncated, of another version or
// covering more than the log holds is ignored with a warning and the whole log replayed.
Result<size_t> Restore(const std::filesystem::path& log_file, Graph& graph);

struct FeedOptions {
  // A snapshot after this many logged lines (0: only when the feed stops).
  size_t snapshot_every = 50000;
  // Called on the feed thread with every polled record's event (learned from or not; never the
  // replayed log) after its batch is applied and committed.
  std::function<void(const bus::Event&)> observer;
};

class Feed {
 public:
  ~Feed();
  // Restores `graph` (empty) from the log's snapshot and tail, cuts a torn last line off the log
  // so appends start on a line of their own, then subscribes to the topics (group "recommend").
  static Result<std::unique_ptr<Feed>> Open(bus::Bus& bus, Graph& graph, std::filesystem::path log_file,
                                            FeedOptions options = {});
  void Start();
  // Stops the thread and snapshots what the graph learned since the last snapshot.
  void Stop();
  // One poll → log → apply → commit round; false when nothing was polled.
  Result<bool> RunOnce(Millis poll_timeout);
  // The lines replayed at Open: the log's tail after the snapshot, or all of it.
  size_t replayed() const { return replayed_; }

 private:
  Feed(Graph& graph, std::unique_ptr<bus::Consumer> consumer, std::filesystem::path log_file,
       FeedOptions options);
  // A snapshot of the graph unless the last one covers the whole log; a failure is only warned
  // of (the log still has everything).
  void WriteSnapshotNow();
  Graph& graph_;
  std::unique_ptr<bus::Consumer> consumer_;
  std::filesystem::path log_file_;
  FeedOptions options_;
  std::vector<bus::Record> pending_;
  size_t replayed_ = 0;
  uint64_t log_offset_ = 0;                  // the bytes of the log the graph holds
  std::optional<uint64_t> snapshot_offset_;  // what the newest snapshot covers
  size_t since_snapshot_ = 0;                // lines logged or replayed after it
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace emporium::recommend
