#include "services/recommend/feed.h"

#include <boost/json.hpp>
#include <chrono>
#include <fstream>

#include "platform/bus/loop.h"
#include "platform/core/file_util.h"
#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/log/log.h"
#include "services/behavior/api.h"
#include "services/cart/api.h"
#include "services/catalog/api.h"
#include "services/order/api.h"
#include "services/recommend/snapshot.h"

namespace emporium::recommend {
namespace {

using boost::json::object;
using json::Str;

constexpr size_t kMaxBatch = 512;
constexpr int kTopicPartitions = 8;

const object* Obj(const object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::optional<Signal> BehaviourSignal(std::string_view type) {
  if (type == "product_view") return Signal::kView;
  if (type == "search_click" || type == "recommendation_click") return Signal::kClick;
  if (type == "wishlist_add") return Signal::kWishlist;
  if (type == "add_to_cart") return Signal::kCart;
  return std::nullopt;
}

Result<ItemFacts> ProductFacts(const object& o) {
  ItemFacts f;
  f.id = Str(o, "id");
  if (f.id.empty()) return InvalidArgument("product without id");
  f.title = Str(o, "title");
  f.brand = Str(o, "brand");
  if (const object* c = Obj(o, "category")) f.category = Str(*c, "name");
  if (const object* p = Obj(o, "price"); p && p->if_contains("amount") && p->at("amount").is_int64())
    f.price = p->at("amount").as_int64();
  if (const object* a = Obj(o, "availability");
      a && a->if_contains("in_stock") && a->at("in_stock").is_bool())
    f.in_stock = a->at("in_stock").as_bool();
  if (Str(o, "status") == "archived") f.deleted = true;
  return f;
}

// A cart line's subject is the cart's owner as behaviour names shoppers: "user:<id>", "guest:<id>".
Result<CartLine> CartLineOf(const bus::Event& e, const object& o) {
  CartLine line{Str(o, "subject"), Str(o, "product_id"), 0};
  const auto* q = o.if_contains("quantity");
  if (line.subject.empty() || line.product_id.empty() || !q || !q->is_int64() || q->as_int64() < 0 ||
      q->as_int64() > INT32_MAX)
    return InvalidArgument(e.type + " without subject, product_id or quantity");
  line.quantity = static_cast<int32_t>(q->as_int64());
  return line;
}

struct Tail {
  size_t lines = 0;
  uint64_t end = 0;  // just after the last line applied
};

// The log's lines from byte `offset` on, applied. Every line was appended whole with its newline,
// so one without it is torn (a crash mid-append; its events were not committed and come again).
Result<Tail> ReplayFrom(const std::filesystem::path& log_file, uint64_t offset, Graph& graph) {
  Tail tail{0, offset};
  std::ifstream in(log_file, std::ios::binary);
  if (!in) return tail;
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: torn
    auto f = ParseFactLine(line);
    if (!f.ok()) {
      if (in.peek() == EOF) break;  // a torn last line from a crash mid-append
      return Status(f.status().code(), log_file.string() + ": " + f.status().message());
    }
    Apply(graph, *f);
    ++tail.lines;
    tail.end += line.size() + 1;
  }
  return tail;
}

struct Restored {
  Tail tail;
  uint64_t log_size = 0;
  std::optional<uint64_t> snapshot;  // the offset the loaded snapshot covers
};

Result<Restored> RestoreGraph(const std::filesystem::path& log_file, Graph& graph) {
  Restored r;
  std::error_code ec;
  const auto size = std::filesystem::file_size(log_file, ec);
  r.log_size = ec ? 0 : size;
  const std::filesystem::path snapshot = SnapshotPath(log_file);
  auto loaded = ReadSnapshot(snapshot, graph);
  Status rejected = loaded.ok() ? Status::Ok() : loaded.status();
  if (loaded.ok() && *loaded > r.log_size) {
    rejected = FailedPrecondition("it covers " + std::to_string(*loaded) + " bytes of a log of " +
                                  std::to_string(r.log_size));
  } else if (loaded.ok() && *loaded > 0) {
    // A snapshot ends after a whole line of its log; anything else is another log's.
    std::ifstream in(log_file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(*loaded - 1));
    if (in.get() != '\n') rejected = FailedPrecondition("its offset is not at the end of a line of the log");
  }
  if (loaded.ok() && rejected.ok()) {
    r.snapshot = *loaded;
  } else {
    graph.Clear();
    if (rejected.code() != Code::kNotFound) {
      log::Warn("recommend: graph snapshot ignored, replaying the whole log",
                {{"file", snapshot.string()}, {"error", rejected.message()}});
    }
  }
  EMP_ASSIGN_OR_RETURN(r.tail, ReplayFrom(log_file, r.snapshot.value_or(0), graph));
  return r;
}

}  // namespace

Result<std::vector<Fact>> FactsOf(const bus::Event& e) {
  std::vector<Fact> out;
  const bool behaviour = e.type.rfind("behavior.", 0) == 0;
  const bool product = e.type == "catalog.product.created" || e.type == "catalog.product.updated" ||
                       e.type == "catalog.product.deleted";
  // Only what a cart holds: adding to it is already behaviour's add_to_cart interaction.
  const bool cart =
      e.type == "cart.item_added" || e.type == "cart.item_updated" || e.type == "cart.item_removed";
  if (!behaviour && !product && !cart && e.type != "inventory.changed" && e.type != "order.confirmed")
    return out;
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(e.data));
  if (!v.is_object()) return InvalidArgument(e.type + " data is not an object");
  const object& o = v.as_object();
  if (cart) {
    EMP_ASSIGN_OR_RETURN(CartLine line, CartLineOf(e, o));
    out.push_back(std::move(line));
    return out;
  }
  if (e.type == "behavior.guest_merged") {
    Merge m{Str(o, "guest_id"), Str(o, "user_id")};
    if (m.guest.empty() || m.user.empty()) return InvalidArgument("guest_merged without guest_id/user_id");
    if (m.guest.rfind("guest:", 0) != 0) m.guest = "guest:" + m.guest;
    if (m.user.rfind("user:", 0) != 0) m.user = "user:" + m.user;
    out.push_back(std::move(m));
    return out;
  }
  if (behaviour) {
    const auto signal = BehaviourSignal(Str(o, "type"));
    if (!signal) return out;
    LiveInteraction x{Str(o, "user_id"), Str(o, "product_id"), *signal, 0};
    const auto at = ParseRfc3339UnixMillis(Str(o, "time"));
    if (x.subject.empty() || x.product_id.empty() || !at)
      return InvalidArgument(e.type + " without user_id, product_id or time");
    x.at_ms = *at;
    out.push_back(std::move(x));
    return out;
  }
  if (e.type == "order.confirmed") {
    const std::string user = Str(o, "user_id");
    const auto at = ParseRfc3339UnixMillis(Str(o, "at"));
    if (user.empty() || !at) return InvalidArgument("order.confirmed without user_id or at");
    if (const auto* items = o.if_contains("items"); items && items->is_array()) {
      for (const auto& i : items->as_array()) {
        if (!i.is_object()) continue;
        std::string id = Str(i.as_object(), "product_id");
        if (!id.empty())
          out.push_back(LiveInteraction{"user:" + user, std::move(id), Signal::kPurchase, *at});
      }
    }
    return out;
  }
  if (e.type == "catalog.product.deleted") {
    ItemFacts f;
    f.id = Str(o, "id");
    if (f.id.empty()) return InvalidArgument("catalog.product.deleted without id");
    f.deleted = true;
    out.push_back(std::move(f));
    return out;
  }
  if (product) {
    EMP_ASSIGN_OR_RETURN(ItemFacts f, ProductFacts(o));
    out.push_back(std::move(f));
    return out;
  }
  const auto* in_stock = o.if_contains("in_stock");
  Stock s{Str(o, "product_id"), true};
  if (s.product_id.empty() || !in_stock || !in_stock->is_bool())
    return InvalidArgument("inventory.changed without product_id/in_stock");
  s.in_stock = in_stock->as_bool();
  out.push_back(std::move(s));
  return out;
}

std::string FactLine(const Fact& fact) {
  object o;
  if (const auto* x = std::get_if<LiveInteraction>(&fact)) {
    o = {{"t", x->at_ms}, {"u", x->subject}, {"p", x->product_id}, {"s", SignalName(x->signal)}};
  } else if (const auto* f = std::get_if<ItemFacts>(&fact)) {
    o = {{"item", f->id},     {"title", f->title},       {"category", f->category}, {"brand", f->brand},
         {"price", f->price}, {"in_stock", f->in_stock}, {"deleted", f->deleted}};
  } else if (const auto* s = std::get_if<Stock>(&fact)) {
    o = {{"stock", s->product_id}, {"in_stock", s->in_stock}};
  } else if (const auto* m = std::get_if<Merge>(&fact)) {
    o = {{"merge", m->guest}, {"into", m->user}};
  } else if (const auto* c = std::get_if<CartLine>(&fact)) {
    o = {{"cart", c->subject}, {"p", c->product_id}, {"q", c->quantity}};
  }
  return json::Dump(o);
}

Result<Fact> ParseFactLine(std::string_view line) {
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(line));
  if (!v.is_object()) return InvalidArgument("log line is not an object");
  const object& o = v.as_object();
  const auto flag = [&](std::string_view key) {
    const auto* b = o.if_contains(key);
    return b && b->is_bool() && b->as_bool();
  };
  if (o.contains("u")) {
    const auto* t = o.if_contains("t");
    const auto signal = SignalOf(Str(o, "s"));
    if (!t || !t->is_int64() || !signal) return InvalidArgument("interaction line without time or signal");
    return Fact(LiveInteraction{Str(o, "u"), Str(o, "p"), *signal, t->as_int64()});
  }
  if (o.contains("item")) {
    ItemFacts f{Str(o, "item"),   Str(o, "title"), Str(o, "category"), Str(o, "brand"), 0,
                flag("in_stock"), flag("deleted")};
    if (const auto* p = o.if_contains("price"); p && p->is_int64()) f.price = p->as_int64();
    return Fact(std::move(f));
  }
  if (o.contains("stock")) return Fact(Stock{Str(o, "stock"), flag("in_stock")});
  if (o.contains("merge")) return Fact(Merge{Str(o, "merge"), Str(o, "into")});
  if (o.contains("cart")) {
    const auto* q = o.if_contains("q");
    if (!q || !q->is_int64() || q->as_int64() < 0 || q->as_int64() > INT32_MAX)
      return InvalidArgument("cart line without quantity");
    return Fact(CartLine{Str(o, "cart"), Str(o, "p"), static_cast<int32_t>(q->as_int64())});
  }
  return InvalidArgument("unknown log line");
}

void Apply(Graph& graph, const Fact& fact) {
  if (const auto* x = std::get_if<LiveInteraction>(&fact)) {
    graph.Add({*x});
  } else if (const auto* f = std::get_if<ItemFacts>(&fact)) {
    graph.SetFacts(*f);
  } else if (const auto* s = std::get_if<Stock>(&fact)) {
    graph.SetStock(s->product_id, s->in_stock);
  } else if (const auto* m = std::get_if<Merge>(&fact)) {
    graph.Merge(m->guest, m->user);
  } else if (const auto* c = std::get_if<CartLine>(&fact)) {
    graph.SetCartQuantity(c->subject, c->product_id, c->quantity);
  }
}

Feed::Feed(Graph& graph, std::unique_ptr<bus::Consumer> consumer, std::filesystem::path log_file,
           FeedOptions options)
    : graph_(graph),
      consumer_(std::move(consumer)),
      log_file_(std::move(log_file)),
      options_(std::move(options)) {}

Feed::~Feed() {
  Stop();
}

Result<size_t> Replay(const std::filesystem::path& log_file, Graph& graph) {
  EMP_ASSIGN_OR_RETURN(const Tail tail, ReplayFrom(log_file, 0, graph));
  return tail.lines;
}

std::filesystem::path SnapshotPath(const std::filesystem::path& log_file) {
  return log_file.parent_path() / "graph.snapshot";
}

Result<size_t> Restore(const std::filesystem::path& log_file, Graph& graph) {
  EMP_ASSIGN_OR_RETURN(const Restored r, RestoreGraph(log_file, graph));
  return r.tail.lines;
}

Result<std::unique_ptr<Feed>> Feed::Open(bus::Bus& bus, Graph& graph, std::filesystem::path log_file,
                                         FeedOptions options) {
  const auto start = std::chrono::steady_clock::now();
  EMP_ASSIGN_OR_RETURN(const Restored restored, RestoreGraph(log_file, graph));
  if (restored.log_size > restored.tail.end) {
    // Left as it is, the next append would continue the torn line and make it a malformed line in
    // the middle of the log.
    log::Warn("recommend: cutting a torn last line off the log",
              {{"file", log_file.string()},
               {"bytes", static_cast<int64_t>(restored.log_size - restored.tail.end)}});
    std::error_code ec;
    std::filesystem::resize_file(log_file, restored.tail.end, ec);
    if (ec) return Internal("truncate " + log_file.string() + ": " + ec.message());
  }
  if (restored.snapshot || restored.tail.lines > 0) {
    log::Info("recommend: graph restored",
              {{"snapshot", restored.snapshot.has_value()},
               {"lines", static_cast<int64_t>(restored.tail.lines)},
               {"users", static_cast<int64_t>(graph.users())},
               {"interactions", static_cast<int64_t>(graph.interactions())},
               {"ms", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count())}});
  }
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(behavior::kBehaviorTopic), behavior::kPartitions));
  for (std::string_view topic :
       {order::kOrderTopic, catalog::kProductTopic, catalog::kInventoryTopic, cart::kCartTopic})
    EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(topic), kTopicPartitions));
  EMP_ASSIGN_OR_RETURN(
      auto consumer,
      bus.Subscribe("recommend", {std::string(behavior::kBehaviorTopic), std::string(order::kOrderTopic),
                                  std::string(catalog::kProductTopic), std::string(catalog::kInventoryTopic),
                                  std::string(cart::kCartTopic)}));
  std::filesystem::create_directories(log_file.parent_path());
  auto feed =
      std::unique_ptr<Feed>(new Feed(graph, std::move(consumer), std::move(log_file), std::move(options)));
  feed->replayed_ = restored.tail.lines;
  feed->log_offset_ = restored.tail.end;
  feed->snapshot_offset_ = restored.snapshot;
  feed->since_snapshot_ = restored.tail.lines;
  return feed;
}

Result<bool> Feed::RunOnce(Millis poll_timeout) {
  if (pending_.empty()) {
    EMP_ASSIGN_OR_RETURN(pending_, consumer_->Poll(poll_timeout, kMaxBatch));
    if (pending_.empty()) return false;
  }
  std::vector<Fact> batch;
  for (const bus::Record& r : pending_) {
    auto got = FactsOf(r.event);
    if (!got.ok()) {
      log::Warn("recommend: skipping a malformed event",
                {{"type", r.event.type}, {"id", r.event.id}, {"error", got.status().message()}});
      continue;
    }
    for (Fact& f : *got) batch.push_back(std::move(f));
  }
  std::string text;
  for (const Fact& f : batch) text += FactLine(f) + "\n";
  if (!text.empty()) {
    if (Status st = fileutil::AppendFileSynced(log_file_.string(), text); !st.ok()) {
      // What part of the batch got there would be a torn line under the next batch's first.
      std::error_code ec;
      std::filesystem::resize_file(log_file_, log_offset_, ec);
      return st;
    }
    log_offset_ += text.size();
    since_snapshot_ += batch.size();
  }
  for (const Fact& f : batch) Apply(graph_, f);
  EMP_RETURN_IF_ERROR(bus::CommitLast(*consumer_, pending_));
  if (options_.observer)
    for (const bus::Record& r : pending_) options_.observer(r.event);
  pending_.clear();
  if (options_.snapshot_every > 0 && since_snapshot_ >= options_.snapshot_every) WriteSnapshotNow();
  return true;
}

void Feed::WriteSnapshotNow() {
  if (snapshot_offset_ == log_offset_ || (!snapshot_offset_ && log_offset_ == 0)) return;
  const auto start = std::chrono::steady_clock::now();
  since_snapshot_ = 0;
  const std::filesystem::path path = SnapshotPath(log_file_);
  if (Status st = WriteSnapshot(path, graph_, log_offset_); !st.ok()) {
    log::Warn("recommend: graph snapshot not written", {{"file", path.string()}, {"error", st.message()}});
    return;
  }
  snapshot_offset_ = log_offset_;
  log::Info("recommend: graph snapshot written",
            {{"offset", static_cast<int64_t>(log_offset_)},
             {"interactions", static_cast<int64_t>(graph_.interactions())},
             {"ms", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - start)
                                             .count())}});
}

void Feed::Start() {
  thread_ = std::thread(
      [this] { bus::RunWithBackoff(stop_, "recommend: feed", [this] { return RunOnce(Millis(100)); }); });
}

void Feed::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  WriteSnapshotNow();
}

}  // namespace emporium::recommend
