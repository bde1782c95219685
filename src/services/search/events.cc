#include "services/search/events.h"

#include <boost/json/object.hpp>
#include <chrono>
#include <iterator>

#include "platform/bus/loop.h"
#include "platform/core/json.h"
#include "platform/log/log.h"
#include "services/search/api.h"

namespace emporium::search {
namespace {

constexpr size_t kMaxBatch = 512;
constexpr Millis kRefreshInterval{100};

}  // namespace

Status Apply(Index& index, const bus::Record& record) {
  const bus::Event& e = record.event;
  if (e.type == "catalog.product.created" || e.type == "catalog.product.updated") {
    EMP_ASSIGN_OR_RETURN(ProductDoc p, ParseProduct(e.data));
    return index.Upsert(p);
  }
  if (e.type != "catalog.product.deleted" && e.type != "inventory.changed") return Status::Ok();
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(e.data));
  if (!v.is_object()) return InvalidArgument(e.type + " data is not an object");
  const boost::json::object& o = v.as_object();
  if (e.type == "catalog.product.deleted") {
    const auto* id = o.if_contains("id");
    if (!id || !id->is_string()) return InvalidArgument("catalog.product.deleted without id");
    return index.Remove(std::string(id->as_string()));
  }
  const auto* id = o.if_contains("product_id");
  const auto* in_stock = o.if_contains("in_stock");
  const auto* available = o.if_contains("available");
  if (!id || !id->is_string() || !in_stock || !in_stock->is_bool()) {
    return InvalidArgument("inventory.changed without product_id/in_stock");
  }
  int64_t n = available && available->is_int64() ? available->as_int64() : 0;
  return index.SetAvailability(std::string(id->as_string()), in_stock->as_bool(), n);
}

std::string ConsumerGroup(const Index& index) {
  return "search-" + index.generation();
}

Indexer::Indexer(Index& index, std::unique_ptr<bus::Consumer> consumer)
    : index_(index), consumer_(std::move(consumer)) {}

Indexer::~Indexer() {
  Stop();
}

Result<std::unique_ptr<Indexer>> Indexer::Subscribe(bus::Bus& bus, Index& index) {
  for (std::string_view topic : {kProductTopic, kInventoryTopic}) {
    EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(topic), kTopicPartitions));
  }
  EMP_ASSIGN_OR_RETURN(auto consumer, bus.Subscribe(ConsumerGroup(index), {std::string(kProductTopic),
                                                                           std::string(kInventoryTopic)}));
  return std::make_unique<Indexer>(index, std::move(consumer));
}

Status Indexer::ApplyAndCommit(const std::vector<bus::Record>& records) {
  for (const bus::Record& r : records) {
    Status s = Apply(index_, r);
    if (s.code() == Code::kInvalidArgument) {
      log::Warn("search: skipping malformed event",
                {{"type", r.event.type}, {"id", r.event.id}, {"error", s.message()}});
      continue;
    }
    EMP_RETURN_IF_ERROR(s);
  }
  EMP_RETURN_IF_ERROR(index_.Commit());
  EMP_RETURN_IF_ERROR(bus::CommitLast(*consumer_, records));
  applied_.fetch_add(static_cast<int64_t>(records.size()));
  return Status::Ok();
}

Result<bool> Indexer::RunOnce(Millis poll_timeout) {
  if (pending_.empty()) {
    EMP_ASSIGN_OR_RETURN(pending_, consumer_->Poll(poll_timeout, kMaxBatch));
    if (pending_.empty()) return false;
    // What arrives within the refresh interval joins the same commit (a Xapian commit syncs
    // every table file): changes are searchable within about that interval, as in other engines.
    const SteadyTime until = std::chrono::steady_clock::now() + kRefreshInterval;
    for (auto now = std::chrono::steady_clock::now(); pending_.size() < kMaxBatch && now < until;
         now = std::chrono::steady_clock::now()) {
      EMP_ASSIGN_OR_RETURN(auto more, consumer_->Poll(std::chrono::duration_cast<Millis>(until - now),
                                                      kMaxBatch - pending_.size()));
      std::move(more.begin(), more.end(), std::back_inserter(pending_));
    }
  }
  // On failure the batch stays pending and is applied again (idempotent) on the next round.
  EMP_RETURN_IF_ERROR(ApplyAndCommit(pending_));
  pending_.clear();
  return true;
}

void Indexer::Start() {
  thread_ = std::thread(
      [this] { bus::RunWithBackoff(stop_, "search: indexing", [this] { return RunOnce(Millis(100)); }); });
}

void Indexer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

}  // namespace emporium::search
