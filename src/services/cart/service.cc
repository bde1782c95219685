#include "services/cart/service.h"

#include <algorithm>

#include "services/cart/api.h"
#include "services/cart/events.h"

namespace emporium::cart {
namespace {

Line* FindLine(CartState& cart, const std::string& product_id) {
  for (Line& l : cart.items) {
    if (l.product_id == product_id) return &l;
  }
  return nullptr;
}

Status CheckQuantity(int quantity, int min, WriteError* err) {
  if (quantity >= min && quantity <= kMaxQuantity) return Status::Ok();
  err->field = "quantity";
  return InvalidArgument("quantity must be between " + std::to_string(min) + " and " +
                         std::to_string(kMaxQuantity));
}

Status NotEnough(const Product& p, WriteError* err) {
  err->available = p.available;
  return Conflict("only " + std::to_string(p.available) + " of " + p.id + " available");
}

}  // namespace

CartService::CartService(Store& store, Catalog& catalog, Broadcaster& broadcaster, Clock& clock,
                         Retention retention, std::function<void()> notify_relay)
    : store_(store),
      catalog_(catalog),
      broadcaster_(broadcaster),
      clock_(clock),
      retention_(retention),
      notify_relay_(std::move(notify_relay)) {}

int64_t CartService::NowMs() const {
  return UnixMillis(clock_.WallNow());
}

Result<PricedCart> CartService::Get(const std::string& subject) {
  CartState cart;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(cart, Store::LoadCart(tx, subject, NowMs(), false));
    return Status::Ok();
  }));
  return Price(std::move(cart));
}

Result<PricedCart> CartService::Price(CartState state) {
  PricedCart out;
  if (!state.items.empty()) {
    std::vector<std::string> ids;
    for (const Line& l : state.items) ids.push_back(l.product_id);
    EMP_ASSIGN_OR_RETURN(auto products, catalog_.GetMany(ids));
    for (const Line& l : state.items) {
      auto it = products.find(l.product_id);
      out.lines.push_back({l, it == products.end() ? std::nullopt : std::optional<Product>(it->second)});
    }
  }
  out.state = std::move(state);
  return out;
}

Result<Product> CartService::RequireProduct(const std::string& product_id, WriteError* err) {
  EMP_ASSIGN_OR_RETURN(std::optional<Product> p, catalog_.Get(product_id));
  if (!p) {
    err->field = "product_id";
    return InvalidArgument("no product " + product_id);
  }
  return std::move(*p);
}

Result<CartState> CartService::Write(const std::string& subject, const std::string& product_id,
                                     std::optional<int64_t> if_match, const Mutation& mutate) {
  CartState result;
  Change change;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    int64_t now = NowMs();
    EMP_ASSIGN_OR_RETURN(CartState cart, Store::LoadCart(tx, subject, now, true));
    if (if_match && *if_match != cart.version) {
      return FailedPrecondition("the cart is at version " + std::to_string(cart.version) + ", not " +
                                std::to_string(*if_match));
    }
    std::string type;
    int quantity = 0;
    EMP_RETURN_IF_ERROR(mutate(tx, cart, &type, &quantity));
    EMP_RETURN_IF_ERROR(Store::SetLine(tx, subject, product_id, quantity, now));
    cart.version += 1;
    cart.updated_at = now;
    EMP_RETURN_IF_ERROR(Store::SaveVersion(tx, subject, cart.version, now));
    change = MakeChange(cart, type, product_id, quantity, now);
    EMP_RETURN_IF_ERROR(Store::AddChange(tx, change, now, retention_));
    EMP_RETURN_IF_ERROR(AddCartEvent(tx, type, subject, product_id, quantity, change));
    result = std::move(cart);
    return Status::Ok();
  }));
  broadcaster_.Publish(change);
  if (notify_relay_) notify_relay_();
  return result;
}

Result<CartState> CartService::AddItem(const std::string& subject, const std::string& product_id,
                                       int quantity, std::optional<int64_t> if_match, WriteError* err) {
  EMP_RETURN_IF_ERROR(CheckQuantity(quantity, 1, err));
  EMP_ASSIGN_OR_RETURN(Product p, RequireProduct(product_id, err));
  int64_t now = NowMs();
  return Write(
      subject, product_id, if_match, [&](sql::Tx&, CartState& cart, std::string* type, int* q) -> Status {
        Line* line = FindLine(cart, product_id);
        int next = (line ? line->quantity : 0) + quantity;
        if (next > kMaxQuantity) {
          err->field = "quantity";
          return InvalidArgument("at most " + std::to_string(kMaxQuantity) + " of a product per cart");
        }
        if (next > p.available) return NotEnough(p, err);
        if (line) {
          line->quantity = next;
          *type = "item_updated";
        } else {
          cart.items.push_back({product_id, next, now});
          *type = "item_added";
        }
        *q = next;
        return Status::Ok();
      });
}

Result<CartState> CartService::SetQuantity(const std::string& subject, const std::string& product_id,
                                           int quantity, std::optional<int64_t> if_match, WriteError* err) {
  EMP_RETURN_IF_ERROR(CheckQuantity(quantity, 0, err));
  std::optional<Product> p;
  if (quantity > 0) {
    EMP_ASSIGN_OR_RETURN(p, catalog_.Get(product_id));
  }
  return Write(subject, product_id, if_match,
               [&](sql::Tx&, CartState& cart, std::string* type, int* q) -> Status {
                 Line* line = FindLine(cart, product_id);
                 if (!line) return NotFound("product " + product_id + " is not in the cart");
                 // Lowering a quantity is always allowed, even for a product catalog no longer sells.
                 if (quantity > line->quantity) {
                   if (!p) {
                     err->field = "product_id";
                     return InvalidArgument("no product " + product_id);
                   }
                   if (quantity > p->available) return NotEnough(*p, err);
                 }
                 if (quantity == 0) {
                   std::erase_if(cart.items, [&](const Line& l) { return l.product_id == product_id; });
                   *type = "item_removed";
                 } else {
                   line->quantity = quantity;
                   *type = "item_updated";
                 }
                 *q = quantity;
                 return Status::Ok();
               });
}

Result<CartState> CartService::RemoveItem(const std::string& subject, const std::string& product_id,
                                          std::optional<int64_t> if_match) {
  return Write(subject, product_id, if_match,
               [&](sql::Tx&, CartState& cart, std::string* type, int* q) -> Status {
                 if (!FindLine(cart, product_id))
                   return NotFound("product " + product_id + " is not in the cart");
                 std::erase_if(cart.items, [&](const Line& l) { return l.product_id == product_id; });
                 *type = "item_removed";
                 *q = 0;
                 return Status::Ok();
               });
}

Status CartService::Merge(sql::Tx& tx, const std::string& guest_id, const std::string& user_id,
                          std::vector<Change>* changes) {
  const int64_t now = NowMs();
  const std::string guest_subject = "guest:" + guest_id;
  const std::string user_subject = "user:" + user_id;
  EMP_ASSIGN_OR_RETURN(CartState guest, Store::LoadCart(tx, guest_subject, now, false));
  if (guest.items.empty()) return Status::Ok();
  std::vector<std::string> ids;
  for (const Line& l : guest.items) ids.push_back(l.product_id);
  // Availability must be current, so catalog is asked inside the transaction; when it cannot
  // answer the merge fails and the worker retries it.
  EMP_ASSIGN_OR_RETURN(auto products, catalog_.GetMany(ids));
  EMP_ASSIGN_OR_RETURN(CartState user, Store::LoadCart(tx, user_subject, now, true));

  struct Moved {
    std::string product_id;
    int quantity;
    bool added;
  };
  std::vector<Moved> moved;
  for (const Line& g : guest.items) {
    auto p = products.find(g.product_id);
    if (p == products.end()) continue;
    Line* line = FindLine(user, g.product_id);
    int current = line ? line->quantity : 0;
    int64_t cap = std::max<int64_t>(current, std::min<int64_t>(kMaxQuantity, p->second.available));
    int next = static_cast<int>(std::min<int64_t>(current + g.quantity, cap));
    if (next == current) continue;
    if (line) {
      line->quantity = next;
    } else {
      user.items.push_back({g.product_id, next, now});
    }
    EMP_RETURN_IF_ERROR(Store::SetLine(tx, user_subject, g.product_id, next, now));
    moved.push_back({g.product_id, next, line == nullptr});
  }
  if (!moved.empty()) {
    user.version += 1;
    EMP_RETURN_IF_ERROR(Store::SaveVersion(tx, user_subject, user.version, now));
    Change change = MakeChange(user, "merged", "", 0, now);
    EMP_RETURN_IF_ERROR(Store::AddChange(tx, change, now, retention_));
    for (const Moved& m : moved) {
      EMP_RETURN_IF_ERROR(AddCartEvent(tx, m.added ? "item_added" : "item_updated", user_subject,
                                       m.product_id, m.quantity, change));
    }
    changes->push_back(std::move(change));
  }
  std::vector<Line> removed = std::move(guest.items);
  guest.items.clear();
  guest.version += 1;
  EMP_RETURN_IF_ERROR(Store::ClearLines(tx, guest_subject));
  EMP_RETURN_IF_ERROR(Store::SaveVersion(tx, guest_subject, guest.version, now));
  Change change = MakeChange(guest, "merged_away", "", 0, now);
  EMP_RETURN_IF_ERROR(Store::AddChange(tx, change, now, retention_));
  for (const Line& l : removed) {
    EMP_RETURN_IF_ERROR(AddCartEvent(tx, "item_removed", guest_subject, l.product_id, 0, change));
  }
  changes->push_back(std::move(change));
  return Status::Ok();
}

Status CartService::RemovePurchased(sql::Tx& tx, const std::string& subject,
                                    const std::vector<Line>& purchased, int64_t ordered_at_ms,
                                    std::vector<Change>* changes) {
  const int64_t now = NowMs();
  EMP_ASSIGN_OR_RETURN(CartState cart, Store::LoadCart(tx, subject, now, false));
  std::vector<Line> left;  // the changed lines with their quantity after the change
  for (const Line& p : purchased) {
    Line* line = FindLine(cart, p.product_id);
    if (!line || line->quantity == 0 || line->added_at > ordered_at_ms || p.quantity <= 0) continue;
    line->quantity = std::max(0, line->quantity - p.quantity);
    EMP_RETURN_IF_ERROR(Store::SetLine(tx, subject, p.product_id, line->quantity, now));
    left.push_back(*line);
  }
  if (left.empty()) return Status::Ok();
  std::erase_if(cart.items, [](const Line& l) { return l.quantity == 0; });
  cart.version += 1;
  EMP_RETURN_IF_ERROR(Store::SaveVersion(tx, subject, cart.version, now));
  Change change = MakeChange(cart, "checked_out", "", 0, now);
  EMP_RETURN_IF_ERROR(Store::AddChange(tx, change, now, retention_));
  for (const Line& l : left) {
    EMP_RETURN_IF_ERROR(AddCartEvent(tx, l.quantity == 0 ? "item_removed" : "item_updated", subject,
                                     l.product_id, l.quantity, change));
  }
  changes->push_back(std::move(change));
  return Status::Ok();
}

Result<std::vector<WishItem>> CartService::Wishlist(const std::string& subject) {
  return store_.Wishlist(subject);
}

Result<bool> CartService::AddWish(const std::string& subject, const std::string& product_id,
                                  WriteError* err) {
  EMP_ASSIGN_OR_RETURN(Product p, RequireProduct(product_id, err));
  bool added = false;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(added, Store::AddWish(tx, subject, p.id, NowMs()));
    return added ? AddWishlistEvent(tx, subject, p.id) : Status::Ok();
  }));
  if (added && notify_relay_) notify_relay_();
  return added;
}

Result<bool> CartService::RemoveWish(const std::string& subject, const std::string& product_id) {
  return store_.RemoveWish(subject, product_id);
}

}  // namespace emporium::cart
