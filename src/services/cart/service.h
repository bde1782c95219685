// Cart and wishlist logic: validation against catalog, optimistic concurrency, the change log,
// outbox events, the guest → user merge and emptying after checkout. No HTTP types here.
//
// Every cart write runs in one SQL transaction that bumps the cart's version, appends the change
// to cart_changes and adds the outbox event; after the commit the change goes to the in-process
// broadcaster (SSE) and the relay is woken.
// Thread-safety: thread-safe (state lives in the database).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "services/cart/broadcaster.h"
#include "services/cart/catalog.h"
#include "services/cart/model.h"
#include "services/cart/store.h"

namespace emporium::cart {

// Extra detail of a failed write, for the problem body.
struct WriteError {
  std::string field;       // the request field a 422 is about
  int64_t available = -1;  // for 409: how many can be in the cart
};

struct PricedLine {
  Line line;
  std::optional<Product> product;  // nullopt: catalog no longer knows the product
};

struct PricedCart {
  CartState state;
  std::vector<PricedLine> lines;
};

class CartService {
 public:
  CartService(Store& store, Catalog& catalog, Broadcaster& broadcaster, Clock& clock, Retention retention,
              std::function<void()> notify_relay);

  // The cart with current prices and availability (kUnavailable when catalog cannot answer).
  Result<PricedCart> Get(const std::string& subject);
  Result<PricedCart> Price(CartState state);

  // Writes. if_match: the version the client last saw (kFailedPrecondition when stale).
  // kInvalidArgument (err->field) for a bad quantity or an unknown product, kConflict
  // (err->available) when there is not enough stock, kNotFound for a line not in the cart.
  Result<CartState> AddItem(const std::string& subject, const std::string& product_id, int quantity,
                            std::optional<int64_t> if_match, WriteError* err);
  // quantity 0 removes the line.
  Result<CartState> SetQuantity(const std::string& subject, const std::string& product_id, int quantity,
                                std::optional<int64_t> if_match, WriteError* err);
  Result<CartState> RemoveItem(const std::string& subject, const std::string& product_id,
                               std::optional<int64_t> if_match);

  // Merges guest:<guest_id>'s cart into user:<user_id>'s inside tx (the inbox transaction):
  // quantities add up, capped by current availability (a line the user already has is never
  // lowered); products catalog no longer knows are dropped; the guest cart is emptied. Appends
  // the committed-to-be changes to *changes.
  Status Merge(sql::Tx& tx, const std::string& guest_id, const std::string& user_id,
               std::vector<Change>* changes);

  // Takes what an order bought out of subject's cart inside tx (the inbox transaction): each
  // purchased product's line loses the purchased quantity (and goes at 0). A line added after the
  // order was created (`ordered_at_ms`, Unix ms) is left alone: it is not what was checked out.
  // Appends the committed-to-be change, if anything changed, to *changes.
  Status RemovePurchased(sql::Tx& tx, const std::string& subject, const std::vector<Line>& purchased,
                         int64_t ordered_at_ms, std::vector<Change>* changes);

  Result<std::vector<WishItem>> Wishlist(const std::string& subject);
  // kInvalidArgument (err->field) for an unknown product. True when newly added.
  Result<bool> AddWish(const std::string& subject, const std::string& product_id, WriteError* err);
  Result<bool> RemoveWish(const std::string& subject, const std::string& product_id);

  Store& store() { return store_; }
  Broadcaster& broadcaster() { return broadcaster_; }

 private:
  using Mutation = std::function<Status(sql::Tx&, CartState&, std::string* type, int* quantity)>;
  // Loads the cart, checks if_match, runs mutate, bumps the version, logs the change and the
  // event, commits, then broadcasts.
  Result<CartState> Write(const std::string& subject, const std::string& product_id,
                          std::optional<int64_t> if_match, const Mutation& mutate);
  Result<Product> RequireProduct(const std::string& product_id, WriteError* err);
  int64_t NowMs() const;

  Store& store_;
  Catalog& catalog_;
  Broadcaster& broadcaster_;
  Clock& clock_;
  const Retention retention_;
  const std::function<void()> notify_relay_;
};

}  // namespace emporium::cart
