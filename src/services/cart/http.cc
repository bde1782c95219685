#include "services/cart/http.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "services/cart/sse.h"

namespace emporium::cart {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

constexpr int kReplayLimit = 1000;

object Money(int64_t amount, const std::string& currency) {
  return object{{"amount", amount}, {"currency", currency}};
}

// The caller's cart key; client (service) tokens have no cart.
Result<std::string> Subject(const Request& req) {
  if (!req.principal) return Unauthenticated("a token is required");
  const std::string& s = req.principal->subject;
  if (s.rfind("user:", 0) == 0 || s.rfind("guest:", 0) == 0) return s;
  return PermissionDenied("carts belong to users and guests");
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// If-Match: `3`, `"3"` or `W/"3"`; `*` matches any version. kFailedPrecondition for garbage
// (it cannot match a version).
Result<std::optional<int64_t>> IfMatch(const Request& req) {
  auto h = req.headers.Get("If-Match");
  if (!h) return std::optional<int64_t>();
  std::string_view v = *h;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v == "*") return std::optional<int64_t>();
  if (v.rfind("W/", 0) == 0) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  auto n = ParseInt(v);
  if (!n) return FailedPrecondition("If-Match must be a cart version");
  return std::optional<int64_t>(*n);
}

Response Json(int status, const boost::json::value& v) {
  return Response::Json(status, json::Dump(v));
}

object CartJson(const PricedCart& cart) {
  std::string currency;
  for (const PricedLine& l : cart.lines) {
    if (l.product && !l.product->currency.empty()) {
      currency = l.product->currency;
      break;
    }
  }
  if (currency.empty()) currency = "USD";
  int64_t subtotal = 0;
  array items;
  for (const PricedLine& l : cart.lines) {
    object item{{"product_id", l.line.product_id}, {"quantity", l.line.quantity}};
    if (l.product) {
      const Product& p = *l.product;
      item["title"] = p.title;
      item["unit_price"] = Money(p.price, p.currency);
      item["line_total"] = Money(p.price * l.line.quantity, p.currency);
      item["available"] = p.in_stock && p.available >= l.line.quantity;
      item["available_quantity"] = p.available;
      // Lines in another currency cannot be summed; checkout deals with them.
      if (p.currency == currency) subtotal += p.price * l.line.quantity;
    } else {
      item["title"] = "";
      item["unit_price"] = nullptr;
      item["line_total"] = nullptr;
      item["available"] = false;
      item["available_quantity"] = 0;
    }
    item["added_at"] = FormatRfc3339UnixMillis(l.line.added_at);
    items.push_back(std::move(item));
  }
  object o{{"id", cart.state.id.empty() ? boost::json::value(nullptr) : boost::json::value(cart.state.id)},
           {"items", std::move(items)},
           {"subtotal", Money(subtotal, currency)},
           {"currency", currency},
           {"version", cart.state.version}};
  o["updated_at"] =
      cart.state.updated_at ? boost::json::value(FormatRfc3339UnixMillis(cart.state.updated_at)) : nullptr;
  return o;
}

Response CartResponse(int status, const PricedCart& cart) {
  Response r = Json(status, CartJson(cart));
  r.headers.Set("ETag", "\"" + std::to_string(cart.state.version) + "\"");
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

Response Failure(const Request& req, const Status& s, const WriteError& err = {}) {
  if (s.code() == Code::kInvalidArgument && !err.field.empty()) {
    return http::Problem(422, s.message(), req.path, {{err.field, s.message()}});
  }
  if (s.code() == Code::kConflict && err.available >= 0) {
    Response r = http::Problem(409, s.message(), req.path, {{"quantity", s.message()}});
    auto doc = json::Parse(r.body);
    if (doc.ok() && doc->is_object()) {
      doc->as_object()["available"] = err.available;
      r.body = json::Dump(*doc);
    }
    return r;
  }
  if (s.code() >= Code::kInternal)
    log::Error("cart request failed", {{"route", req.path}, {"error", s.ToString()}});
  return http::ProblemFrom(s, req.path);
}

struct ItemBody {
  std::string product_id;
  std::optional<int64_t> quantity;
};

// Parses {"product_id": "...", "quantity": n}; a 422 problem on bad fields.
Result<ItemBody> ParseItemBody(const Request& req, bool need_product, bool need_quantity, WriteError* err) {
  auto doc = json::Parse(req.body);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("the body must be a JSON object");
  const object& o = doc->as_object();
  ItemBody out;
  if (need_product) {
    auto p = o.if_contains("product_id");
    if (!p || !p->is_string() || p->as_string().empty()) {
      err->field = "product_id";
      return InvalidArgument("product_id must be a non-empty string");
    }
    out.product_id = std::string(p->as_string());
  }
  auto q = o.if_contains("quantity");
  if (q && !q->is_null()) {
    if (!q->is_int64()) {
      err->field = "quantity";
      return InvalidArgument("quantity must be an integer");
    }
    out.quantity = q->as_int64();
  } else if (need_quantity) {
    err->field = "quantity";
    return InvalidArgument("quantity is required");
  }
  return out;
}

int ClampQuantity(int64_t q) {
  // Out-of-range values stay out of range for the service's check, without int overflow.
  return static_cast<int>(std::clamp<int64_t>(q, -1, 1'000'000));
}

class Routes {
 public:
  explicit Routes(HttpDeps deps) : d_(std::move(deps)) {}

  Response GetCart(Request& req) {
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    auto cart = d_.service.Get(*subject);
    if (!cart.ok()) return Failure(req, cart.status());
    return CartResponse(200, *cart);
  }

  Response AddItem(Request& req) {
    WriteError err;
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    auto if_match = IfMatch(req);
    if (!if_match.ok()) return Failure(req, if_match.status());
    auto body = ParseItemBody(req, true, false, &err);
    if (!body.ok()) return Failure(req, body.status(), err);
    auto state = d_.service.AddItem(*subject, body->product_id, ClampQuantity(body->quantity.value_or(1)),
                                    *if_match, &err);
    return Written(req, std::move(state), err);
  }

  Response SetQuantity(Request& req) {
    WriteError err;
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    auto if_match = IfMatch(req);
    if (!if_match.ok()) return Failure(req, if_match.status());
    auto body = ParseItemBody(req, false, true, &err);
    if (!body.ok()) return Failure(req, body.status(), err);
    auto state = d_.service.SetQuantity(*subject, std::string(*req.PathParam("product_id")),
                                        ClampQuantity(*body->quantity), *if_match, &err);
    return Written(req, std::move(state), err);
  }

  Response RemoveItem(Request& req) {
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    auto if_match = IfMatch(req);
    if (!if_match.ok()) return Failure(req, if_match.status());
    auto state = d_.service.RemoveItem(*subject, std::string(*req.PathParam("product_id")), *if_match);
    return Written(req, std::move(state), {});
  }

  Response Events(Request& req) {
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    std::optional<int64_t> last_event_id;
    if (auto h = req.headers.Get("Last-Event-ID")) last_event_id = ParseInt(*h);

    auto stream = std::make_shared<SseStream>(last_event_id.value_or(0), d_.heartbeat);
    // Subscribe before reading the version and the log: a change committed meanwhile is held
    // by the stream (it is in replay mode until FinishReplay), not lost.
    std::weak_ptr<SseStream> weak = stream;
    uint64_t id = d_.broadcaster->Subscribe(*subject, [weak](const Change& c) {
      if (auto s = weak.lock()) s->Push(c);
    });
    std::weak_ptr<Broadcaster> broadcaster = d_.broadcaster;
    stream->OnClose([broadcaster, id] {
      if (auto b = broadcaster.lock()) b->Unsubscribe(id);
    });
    auto current = d_.service.store().Version(*subject);
    if (!current.ok()) {
      stream->Close();
      return Failure(req, current.status());
    }
    // Without Last-Event-ID the client starts from the cart as it is now.
    if (!last_event_id) stream->StartAfter(*current);
    if (last_event_id && *last_event_id < *current) {
      auto missed = d_.service.store().ChangesAfter(*subject, *last_event_id, kReplayLimit);
      if (!missed.ok()) {
        stream->Close();
        return Failure(req, missed.status());
      }
      // The log no longer reaches back to Last-Event-ID (retention) or holds more than one
      // replay: the client must re-read the cart.
      bool gap =
          missed->empty() || missed->front().seq != *last_event_id + 1 || missed->back().seq < *current;
      if (gap) {
        stream->StartAfter(*current);
        stream->PushFrame(kResyncEvent, json::Dump(object{{"version", *current}}));
      } else {
        for (const Change& c : *missed) stream->Replay(c);
      }
    } else if (last_event_id && *last_event_id > *current) {
      // An id this cart never reached (another deployment's data): start over from now.
      stream->StartAfter(*current);
      stream->PushFrame(kResyncEvent, json::Dump(object{{"version", *current}}));
    }
    stream->FinishReplay();

    Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "text/event-stream");
    r.headers.Set("Cache-Control", "no-store");
    // nginx and similar proxies buffer responses unless told not to.
    r.headers.Set("X-Accel-Buffering", "no");
    r.stream = std::move(stream);
    return r;
  }

  Response GetWishlist(Request& req) {
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    auto items = d_.service.Wishlist(*subject);
    if (!items.ok()) return Failure(req, items.status());
    array out;
    for (const WishItem& w : *items) {
      out.push_back(object{{"product_id", w.product_id}, {"added_at", FormatRfc3339UnixMillis(w.added_at)}});
    }
    return Json(200, object{{"items", std::move(out)}, {"next_page_token", nullptr}});
  }

  Response AddWish(Request& req) {
    WriteError err;
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    auto body = ParseItemBody(req, true, false, &err);
    if (!body.ok()) return Failure(req, body.status(), err);
    auto added = d_.service.AddWish(*subject, body->product_id, &err);
    if (!added.ok()) return Failure(req, added.status(), err);
    return Json(*added ? 201 : 200, object{{"product_id", body->product_id}});
  }

  Response RemoveWish(Request& req) {
    auto subject = Subject(req);
    if (!subject.ok()) return Failure(req, subject.status());
    std::string product_id(*req.PathParam("product_id"));
    auto removed = d_.service.RemoveWish(*subject, product_id);
    if (!removed.ok()) return Failure(req, removed.status());
    if (!*removed) return http::Problem(404, "product " + product_id + " is not on the wishlist", req.path);
    Response r;
    r.status = 204;
    return r;
  }

 private:
  Response Written(const Request& req, Result<CartState> state, const WriteError& err) {
    if (!state.ok()) return Failure(req, state.status(), err);
    auto priced = d_.service.Price(std::move(state).value());
    if (!priced.ok()) return Failure(req, priced.status());
    return CartResponse(200, *priced);
  }

  HttpDeps d_;
};

}  // namespace

Status AddRoutes(http::Router& router, HttpDeps deps) {
  auto routes = std::make_shared<Routes>(std::move(deps));
  const http::RouteOptions opts{.access = auth::Access::kAnyToken};
  auto bind = [routes](Response (Routes::*fn)(Request&)) {
    return [routes, fn](Request& req) { return ((*routes).*fn)(req); };
  };
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/v1/cart", bind(&Routes::GetCart), opts));
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kPost, "/v1/cart/items", bind(&Routes::AddItem), opts));
  EMP_RETURN_IF_ERROR(
      router.Add(http::Method::kPatch, "/v1/cart/items/{product_id}", bind(&Routes::SetQuantity), opts));
  EMP_RETURN_IF_ERROR(
      router.Add(http::Method::kDelete, "/v1/cart/items/{product_id}", bind(&Routes::RemoveItem), opts));
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/v1/cart/events", bind(&Routes::Events), opts));
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kGet, "/v1/wishlist", bind(&Routes::GetWishlist), opts));
  EMP_RETURN_IF_ERROR(router.Add(http::Method::kPost, "/v1/wishlist/items", bind(&Routes::AddWish), opts));
  EMP_RETURN_IF_ERROR(
      router.Add(http::Method::kDelete, "/v1/wishlist/items/{product_id}", bind(&Routes::RemoveWish), opts));
  return Status::Ok();
}

}  // namespace emporium::cart
