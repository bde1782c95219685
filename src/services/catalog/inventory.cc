#include "services/catalog/inventory.h"

#include <algorithm>
#include <map>

#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/catalog/events.h"

namespace emporium::catalog {
namespace {

constexpr int64_t kMaxQuantity = 10'000;
constexpr int64_t kMaxOnHand = 1'000'000'000;
constexpr size_t kMaxItems = 100;
// Serialization failures under PostgreSQL SERIALIZABLE are expected with many concurrent
// reservations of the same rows; Transact retries a few times, we add a few rounds on top.
constexpr int kReserveRounds = 8;

}  // namespace

Inventory::Inventory(Store& store, Clock& clock, std::function<void()> notify)
    : store_(store), clock_(clock), notify_(std::move(notify)) {}

Inventory::~Inventory() {
  StopSweeper();
}

int64_t Inventory::Now() const {
  return UnixMillis(clock_.WallNow());
}

Result<StockView> Inventory::Stock(const std::string& product_id) {
  StockView view;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(auto p, store_.ProductById(tx, product_id));
    if (!p) return NotFound("product " + product_id + " does not exist");
    EMP_ASSIGN_OR_RETURN(view.warehouses, store_.Stock(tx, product_id));
    view.available = p->available;
    return Status::Ok();
  }));
  return view;
}

Result<StockView> Inventory::SetStock(const std::string& product_id, const std::vector<StockLevel>& levels,
                                      FieldErrors* errors) {
  if (levels.empty()) errors->push_back({"warehouses", "must list at least one warehouse"});
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].on_hand < 0 || levels[i].on_hand > kMaxOnHand) {
      errors->push_back({"warehouses[" + std::to_string(i) + "].on_hand", "must be between 0 and 10^9"});
    }
  }
  if (!errors->empty()) return InvalidArgument("invalid stock");
  StockView view;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    errors->clear();
    EMP_ASSIGN_OR_RETURN(auto p, store_.ProductById(tx, product_id));
    if (!p) return NotFound("product " + product_id + " does not exist");
    for (size_t i = 0; i < levels.size(); ++i) {
      EMP_ASSIGN_OR_RETURN(bool known, store_.WarehouseExists(tx, levels[i].warehouse_id));
      if (!known)
        errors->push_back({"warehouses[" + std::to_string(i) + "].warehouse_id", "unknown warehouse"});
    }
    if (!errors->empty()) return InvalidArgument("unknown warehouse");
    for (size_t i = 0; i < levels.size(); ++i) {
      Status set = store_.SetOnHand(tx, product_id, levels[i].warehouse_id, levels[i].on_hand);
      if (set.code() == Code::kFailedPrecondition) {
        errors->push_back(
            {"warehouses[" + std::to_string(i) + "].on_hand", "below what is reserved: " + set.message()});
        continue;
      }
      EMP_RETURN_IF_ERROR(set);
    }
    if (!errors->empty()) return Conflict("stock below reservations");
    EMP_ASSIGN_OR_RETURN(view.available, store_.RefreshAvailable(tx, product_id));
    EMP_ASSIGN_OR_RETURN(view.warehouses, store_.Stock(tx, product_id));
    return AddToOutbox(tx, {InventoryChanged(product_id, view.available)});
  });
  if (!s.ok()) return s;
  notify_();
  return view;
}

Result<Reservation> Inventory::Reserve(const ReserveRequest& req, FieldErrors* errors, bool* created) {
  if (req.order_id.empty() || req.order_id.size() > 100)
    errors->push_back({"order_id", "is required (at most 100 characters)"});
  if (req.items.empty() || req.items.size() > kMaxItems)
    errors->push_back({"items", "must hold 1 to 100 items"});
  if (req.ttl_seconds < 1 || req.ttl_seconds > 86'400)
    errors->push_back({"ttl_seconds", "must be between 1 and 86400"});
  // Quantities of a product listed twice add up; errors name the first listing.
  std::map<std::string, std::pair<int64_t, size_t>> wanted;
  for (size_t i = 0; i < req.items.size(); ++i) {
    const auto& it = req.items[i];
    std::string f = "items[" + std::to_string(i) + "]";
    if (it.product_id.empty()) errors->push_back({f + ".product_id", "is required"});
    if (it.quantity < 1 || it.quantity > kMaxQuantity)
      errors->push_back({f + ".quantity", "must be between 1 and 10000"});
    auto [pos, inserted] = wanted.try_emplace(it.product_id, 0, i);
    pos->second.first += it.quantity;
  }
  if (!errors->empty()) return InvalidArgument("invalid reservation");

  Reservation out;
  bool fresh = false;
  Status s;
  for (int round = 0; round < kReserveRounds; ++round) {
    s = store_.db().Transact([&](sql::Tx& tx) -> Status {
      errors->clear();
      fresh = false;
      EMP_ASSIGN_OR_RETURN(auto existing, store_.LiveReservationForOrder(tx, req.order_id));
      if (existing) {
        out = std::move(*existing);
        return Status::Ok();
      }
      // Products in id order (std::map), so concurrent transactions touch rows in one order.
      std::vector<Store::Allocation> allocations;
      for (const auto& [product_id, want] : wanted) {
        const std::string f = "items[" + std::to_string(want.second) + "]";
        EMP_ASSIGN_OR_RETURN(auto p, store_.ProductById(tx, product_id));
        if (!p) {
          errors->push_back({f + ".product_id", "unknown product"});
          continue;
        }
        EMP_ASSIGN_OR_RETURN(auto levels, store_.Stock(tx, product_id));
        int64_t available = 0;
        for (const auto& l : levels) available += l.on_hand - l.reserved;
        if (available < want.first) {
          errors->push_back(
              {f + ".quantity", "only " + std::to_string(std::max<int64_t>(available, 0)) + " available"});
          continue;
        }
        std::stable_sort(levels.begin(), levels.end(), [](const StockLevel& a, const StockLevel& b) {
          return a.on_hand - a.reserved > b.on_hand - b.reserved;
        });
        int64_t left = want.first;
        for (const auto& l : levels) {
          int64_t take = std::min(left, l.on_hand - l.reserved);
          if (take <= 0) continue;
          allocations.push_back({product_id, l.warehouse_id, take});
          left -= take;
          if (left == 0) break;
        }
      }
      if (!errors->empty()) {
        bool unknown = false;
        for (const auto& e : *errors) unknown = unknown || e.field.ends_with(".product_id");
        return unknown ? InvalidArgument("unknown product") : Conflict("not enough stock");
      }
      for (const auto& a : allocations)
        EMP_RETURN_IF_ERROR(store_.Reserve(tx, a.product_id, a.warehouse_id, a.quantity));
      Events events;
      for (const auto& [product_id, want] : wanted) {
        EMP_ASSIGN_OR_RETURN(int64_t available, store_.RefreshAvailable(tx, product_id));
        events.push_back(InventoryChanged(product_id, available));
        out.items.push_back({product_id, want.first});
      }
      out.id = NewUuidV7();
      out.order_id = req.order_id;
      out.state = "held";
      out.created_at = Now();
      out.expires_at = out.created_at + req.ttl_seconds * 1000;
      EMP_RETURN_IF_ERROR(store_.InsertReservation(tx, out, allocations));
      events.insert(events.begin(), ReservationEvent("inventory.reserved", out));
      fresh = true;
      return AddToOutbox(tx, events);
    });
    if (s.code() != Code::kUnavailable) break;
    out = Reservation();
  }
  if (!s.ok()) return s;
  if (created) *created = fresh;
  if (fresh) notify_();
  return out;
}

Result<std::optional<Reservation>> Inventory::Find(const std::string& id) {
  std::optional<Reservation> r;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(r, store_.ReservationById(tx, id));
    return Status::Ok();
  }));
  return r;
}

Result<Reservation> Inventory::Commit(const std::string& id) {
  return Finish(id, true, "committed");
}

Result<Reservation> Inventory::Release(const std::string& id) {
  return Finish(id, false, "released");
}

Result<Reservation> Inventory::Finish(const std::string& id, bool commit, const std::string& state) {
  Reservation out;
  bool changed = false;
  Status s;
  for (int round = 0; round < kReserveRounds; ++round) {
    s = store_.db().Transact([&](sql::Tx& tx) -> Status {
      changed = false;
      std::vector<Store::Allocation> allocations;
      EMP_ASSIGN_OR_RETURN(auto r, store_.ReservationById(tx, id, &allocations));
      if (!r) return NotFound("reservation " + id + " does not exist");
      out = std::move(*r);
      if (commit) {
        if (out.state == "committed") return Status::Ok();
        if (out.state != "held") return Conflict("the reservation was " + out.state);
        if (out.expires_at <= Now()) return Conflict("the reservation expired");
      } else {
        if (out.state == "released" || out.state == "expired") return Status::Ok();
        if (out.state != "held") return Conflict("the reservation was " + out.state);
      }
      for (const auto& a : allocations) {
        EMP_RETURN_IF_ERROR(store_.Unreserve(tx, a.product_id, a.warehouse_id, a.quantity, commit));
      }
      Events events{ReservationEvent(commit ? "inventory.committed" : "inventory.released", out)};
      for (const auto& item : out.items) {
        EMP_ASSIGN_OR_RETURN(int64_t available, store_.RefreshAvailable(tx, item.product_id));
        // A commit ships reserved units: on_hand and reserved drop together, available stays.
        if (!commit) events.push_back(InventoryChanged(item.product_id, available));
      }
      out.state = state;
      EMP_RETURN_IF_ERROR(store_.SetReservationState(tx, id, state, Now()));
      changed = true;
      return AddToOutbox(tx, events);
    });
    if (s.code() != Code::kUnavailable) break;
  }
  if (!s.ok()) return s;
  if (changed) notify_();
  return out;
}

Result<int> Inventory::SweepOnce(int limit) {
  std::vector<std::string> ids;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(ids, store_.ExpiredHeld(tx, Now(), limit));
    return Status::Ok();
  }));
  int released = 0;
  for (const auto& id : ids) {
    // Finish re-reads the state inside its transaction: a commit that won the race stays.
    auto r = Finish(id, false, "expired");
    if (r.ok() && r->state == "expired") ++released;
  }
  return released;
}

void Inventory::StartSweeper(Millis interval) {
  std::lock_guard lock(mu_);
  if (sweeper_.joinable()) return;
  stop_ = false;
  sweeper_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      if (auto n = SweepOnce(); !n.ok()) {
        log::Warn("catalog reservation sweep failed", {{"error", n.status().ToString()}});
      }
      lock.lock();
      cv_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
}

void Inventory::StopSweeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

}  // namespace emporium::catalog
