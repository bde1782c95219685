#include "services/order/service.h"

#include <boost/json/array.hpp>
#include <cctype>

#include "platform/bus/bus.h"
#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/crypto/crypto.h"
#include "platform/log/log.h"
#include "platform/sql/sql.h"
#include "services/order/events.h"

namespace emporium::order {
namespace {

using boost::json::object;

constexpr std::string_view kAddressFields[] = {"name",   "line1",       "line2",  "city",
                                               "region", "postal_code", "country"};
constexpr std::string_view kRequiredAddress[] = {"name", "line1", "city", "postal_code", "country"};

using json::Str;

bool IsCountry(const std::string& c) {
  return c.size() == 2 && std::isupper(static_cast<unsigned char>(c[0])) &&
         std::isupper(static_cast<unsigned char>(c[1]));
}

Failure Invalid(std::string detail, std::vector<http::FieldError> errors = {}) {
  return Failure{422, std::move(detail), std::move(errors)};
}

struct Parsed {
  object address;
  std::string method_token;
  object card;
  std::string billing_country;
  std::string device_id;
  std::string session_id;
};

// Client-chosen ids (a storefront's device and session ids): 1-64 of [A-Za-z0-9._:-].
bool IsClientId(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' && c != '-')
      return false;
  }
  return true;
}

std::optional<Failure> Validate(const object& body, Parsed& out) {
  std::vector<http::FieldError> errors;
  auto addr = body.if_contains("shipping_address");
  if (!addr || !addr->is_object()) {
    errors.push_back({"shipping_address", "required object"});
  } else {
    for (auto f : kAddressFields) {
      std::string v = Str(addr->as_object(), f);
      if (v.size() > 200) errors.push_back({"shipping_address." + std::string(f), "at most 200 characters"});
      out.address[f] = v;
    }
    for (auto f : kRequiredAddress) {
      if (Str(addr->as_object(), f).empty())
        errors.push_back({"shipping_address." + std::string(f), "required"});
    }
    if (!Str(out.address, "country").empty() && !IsCountry(Str(out.address, "country")))
      errors.push_back({"shipping_address.country", "ISO 3166 alpha-2 code, e.g. US"});
  }
  auto pay = body.if_contains("payment");
  if (!pay || !pay->is_object()) {
    errors.push_back({"payment", "required object"});
  } else {
    const object& p = pay->as_object();
    out.method_token = Str(p, "method_token");
    auto card = p.if_contains("card");
    if (card && card->is_object()) out.card = card->as_object();
    if (out.method_token.empty() == out.card.empty())
      errors.push_back({"payment", "exactly one of method_token or card"});
    out.billing_country = Str(p, "billing_country");
    if (!out.billing_country.empty() && !IsCountry(out.billing_country))
      errors.push_back({"payment.billing_country", "ISO 3166 alpha-2 code"});
  }
  for (auto [field, target] :
       {std::pair{"device_id", &out.device_id}, std::pair{"session_id", &out.session_id}}) {
    auto v = body.if_contains(field);
    if (!v) continue;
    if (!v->is_string() || !IsClientId(v->as_string())) {
      errors.push_back({field, "1-64 characters of A-Z a-z 0-9 . _ : -"});
    } else {
      *target = std::string(v->as_string());
    }
  }
  if (!errors.empty()) return Invalid("the order request is invalid", std::move(errors));
  return std::nullopt;
}

}  // namespace

OrderService::OrderService(Store& store, Saga& saga, Peers& peers, ServiceOptions options, Clock& clock)
    : store_(store), saga_(saga), peers_(peers), options_(std::move(options)), clock_(clock) {}

Outcome<CheckoutResult> OrderService::Checkout(const http::Request& caller, const std::string& user_id,
                                               const std::string& idempotency_key) {
  Outcome<CheckoutResult> out;
  if (idempotency_key.empty() || idempotency_key.size() > 200) {
    out.failure = Invalid("the Idempotency-Key header is required (1-200 characters)",
                          {{"Idempotency-Key", "required"}});
    return out;
  }
  auto doc = json::Parse(caller.body);
  if (!doc.ok() || !doc->is_object()) {
    out.failure = Invalid("the body must be a JSON object");
    return out;
  }
  // Keyed: the body may carry a card number, whose plain hash could be brute-forced.
  const std::string hash = crypto::HexEncode(crypto::HmacSha256(options_.hash_key, json::Dump(*doc)));
  auto replay = [&]() -> bool {
    auto seen = store_.FindByIdempotencyKey(user_id, idempotency_key);
    if (!seen.ok()) {
      out.status = seen.status();
      return true;
    }
    if (!*seen) return false;
    if ((*seen)->request_hash != hash) {
      out.failure = Invalid("this Idempotency-Key was used with another request body");
      return true;
    }
    out.value = CheckoutResult{std::move(**seen), true};
    return true;
  };
  if (replay()) return out;

  Parsed req;
  if (auto f = Validate(doc->as_object(), req)) {
    out.failure = std::move(f);
    return out;
  }

  auto cart = peers_.OnBehalf(caller, "cart", http::Method::kGet, "/v1/cart");
  if (!cart.ok() || cart->status != 200) {
    out.failure = Failure{503, "the cart cannot be read now; try again", {}};
    return out;
  }
  Order o;
  o.currency = Str(cart->body, "currency");
  if (auto items = cart->body.if_contains("items"); items && items->is_array()) {
    for (const auto& v : items->as_array()) {
      const object& line = v.as_object();
      auto price = line.if_contains("unit_price");
      Item i{Str(line, "product_id"), Str(line, "title"), line.at("quantity").as_int64(), 0};
      if (!price || !price->is_object()) {
        out.failure = Invalid("product " + i.product_id + " is no longer sold; remove it from the cart");
        return out;
      }
      i.unit_price = price->as_object().at("amount").as_int64();
      if (Str(price->as_object(), "currency") != o.currency) {
        out.failure = Invalid("the cart mixes currencies");
        return out;
      }
      o.subtotal += i.unit_price * i.quantity;
      o.items.push_back(std::move(i));
    }
  }
  if (o.items.empty()) {
    out.failure = Invalid("the cart is empty");
    return out;
  }
  if (auto f = QuoteShipping(req.address, o)) {
    out.failure = std::move(f);
    return out;
  }

  o.method_token = req.method_token;
  if (!req.card.empty()) {
    auto token = peers_.OnBehalf(caller, "payment", http::Method::kPost, "/v1/payments/methods",
                                 json::Dump(object{{"card", req.card}}));
    if (!token.ok() || token->status >= 500) {
      out.failure = Failure{503, "the payment provider cannot take the card now; try again", {}};
      return out;
    }
    if (token->status != 200 && token->status != 201) {
      out.failure =
          Invalid("the card was refused: " + Str(token->body, "detail"), {{"payment.card", "refused"}});
      return out;
    }
    o.method_token = Str(token->body, "method_token");
    o.card_brand = Str(token->body, "brand");
    o.card_last4 = Str(token->body, "last4");
  }

  const int64_t now = UnixMillis(clock_.WallNow());
  o.id = NewUuidV7();
  o.user_id = user_id;
  o.status = std::string(status::kPending);
  o.reason = "created";
  o.total = o.subtotal + o.shipping;
  o.address_json = json::Dump(req.address);
  o.shipping_country = Str(req.address, "country");
  o.billing_country = req.billing_country;
  o.client_ip = caller.remote_addr;
  {
    object client;
    if (!req.device_id.empty()) client["device_id"] = req.device_id;
    if (!req.session_id.empty()) client["session_id"] = req.session_id;
    if (!caller.client_country.empty()) client["ip_country"] = caller.client_country;
    if (auto ua = caller.headers.Get("User-Agent")) {
      std::string printable;
      for (char c : ua->substr(0, 256))
        if (c >= 0x20 && c < 0x7f) printable.push_back(c);
      client["user_agent"] = printable;
    }
    o.client_json = json::Dump(client);
  }
  o.step = std::string(step::kReserve);
  o.step_started_ms = o.next_attempt_ms = now;
  o.idempotency_key = idempotency_key;
  o.request_hash = hash;
  o.created_ms = o.updated_ms = now;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(store_.Insert(tx, o));
    EMP_RETURN_IF_ERROR(Store::AddHistory(tx, o.id, o.status, o.reason, now));
    return AddOrderEvent(tx, "created", o, now);
  });
  if (s.code() == Code::kAlreadyExists) {
    // A concurrent request with the same key won the insert.
    if (replay()) return out;
  }
  if (!s.ok()) {
    out.status = s;
    return out;
  }
  auto driven = saga_.Drive(o.id, options_.inline_budget);
  if (!driven.ok()) {
    // The order is stored; the worker carries it on.
    log::Warn("order: inline saga run failed", {{"order_id", o.id}, {"error", driven.status().ToString()}});
    out.value = CheckoutResult{o, false};
    return out;
  }
  out.value = CheckoutResult{std::move(driven).value(), false};
  return out;
}

std::optional<Failure> OrderService::QuoteShipping(const object& address, Order& o) {
  boost::json::array items;
  for (const Item& i : o.items)
    items.push_back(object{{"product_id", i.product_id}, {"quantity", i.quantity}});
  auto q = peers_.Service("fulfillment", http::Method::kPost, "/v1/internal/shipments/quote",
                          json::Dump(object{{"address", address}, {"items", std::move(items)}}));
  if (!q.ok() || q->status >= 500) return Failure{503, "shipping cannot be quoted now; try again", {}};
  if (q->status != 200) {
    return Invalid("no carrier ships this parcel to that address: " + Str(q->body, "detail"),
                   {{"shipping_address", "not served"}});
  }
  const object* price = q->body.if_contains("price") ? q->body.at("price").if_object() : nullptr;
  const boost::json::value* amount = price ? price->if_contains("amount") : nullptr;
  if (!amount || !amount->is_int64() || amount->as_int64() < 0)
    return Failure{503, "the carrier's quote is malformed; try again", {}};
  if (Str(*price, "currency") != o.currency) {
    return Invalid("shipping is quoted in " + Str(*price, "currency") + " but the cart is in " + o.currency,
                   {{"shipping_address", "not served in the cart's currency"}});
  }
  o.shipping = amount->as_int64();
  o.carrier = Str(q->body, "carrier");
  return std::nullopt;
}

Result<Order> OrderService::GetOwn(const std::string& user_id, const std::string& id) {
  EMP_ASSIGN_OR_RETURN(auto o, store_.Get(id));
  if (!o || o->user_id != user_id) return NotFound("no order " + id);
  return std::move(*o);
}

Outcome<Order> OrderService::Cancel(const std::string& user_id, const std::string& id) {
  Outcome<Order> out;
  bool allowed = false;
  Status s = store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(auto o, store_.Load(tx, id));
    if (!o || o->user_id != user_id) return NotFound("no order " + id);
    allowed = o->status == status::kCancelled || IsCancellableStep(o->step);
    if (allowed && o->status != status::kCancelled)
      EMP_RETURN_IF_ERROR(Store::RequestCancel(tx, id).status());
    return Status::Ok();
  });
  if (s.code() == Code::kNotFound) {
    out.failure = Failure{404, s.message(), {}};
    return out;
  }
  if (!s.ok()) {
    out.status = s;
    return out;
  }
  auto o = saga_.Drive(id, Millis(5000));
  if (!o.ok()) {
    out.status = o.status();
    return out;
  }
  const bool compensating = o->final_status == status::kCancelled && IsActiveStep(o->step) &&
                            (o->step == step::kRefund || o->step == step::kVoid || o->step == step::kRelease);
  if (!allowed || (o->status != status::kCancelled && !compensating)) {
    out.failure = Failure{409, "the order can no longer be cancelled (status " + o->status + ")", {}};
    return out;
  }
  out.value = std::move(o).value();
  return out;
}

Outcome<Order> OrderService::Decide(const std::string& id, const std::string& decision) {
  Outcome<Order> out;
  if (decision != "approve" && decision != "decline") {
    out.failure = Invalid("decision must be approve or decline", {{"decision", "approve or decline"}});
    return out;
  }
  auto o = saga_.Decide(id, decision == "approve", options_.inline_budget);
  if (o.ok()) {
    out.value = std::move(o).value();
  } else if (o.status().code() == Code::kNotFound) {
    out.failure = Failure{404, o.status().message(), {}};
  } else if (o.status().code() == Code::kFailedPrecondition) {
    out.failure = Failure{409, o.status().message(), {}};
  } else {
    out.status = o.status();
  }
  return out;
}

Result<boost::json::object> OrderService::Tracking(const Order& o) {
  object out{{"order_id", o.id},     {"status", o.status},
             {"carrier", o.carrier}, {"tracking_number", o.tracking_number},
             {"shipment", nullptr},  {"events", boost::json::array{}}};
  if (o.shipment_id.empty()) return out;
  EMP_ASSIGN_OR_RETURN(
      Reply r, peers_.Service("fulfillment", http::Method::kGet, "/v1/internal/shipments?order_id=" + o.id));
  if (r.status != 200) return Unavailable("fulfillment answered " + std::to_string(r.status));
  if (auto items = r.body.if_contains("items"); items && items->is_array() && !items->as_array().empty())
    out["shipment"] = items->as_array()[0];
  if (auto events = r.body.if_contains("events"); events && events->is_array()) out["events"] = *events;
  return out;
}

Status OrderService::OnFulfillmentEvent(sql::Tx& tx, const bus::Record& record) {
  const std::string& type = record.event.type;
  if (type != "shipment.shipped" && type != "shipment.delivered") return Status::Ok();
  auto doc = json::Parse(record.event.data);
  if (!doc.ok() || !doc->is_object()) {
    // Cannot succeed on a retry; stalling the partition would be worse.
    log::Warn("order: malformed fulfillment event ignored", {{"event_id", record.event.id}});
    return Status::Ok();
  }
  const std::string order_id = Str(doc->as_object(), "order_id");
  EMP_ASSIGN_OR_RETURN(auto loaded, store_.Load(tx, order_id));
  if (!loaded) return Status::Ok();
  Order o = std::move(*loaded);
  const bool shipped = type == "shipment.shipped";
  const bool from_confirmed = o.status == status::kConfirmed;
  if (!(from_confirmed || (!shipped && o.status == status::kShipped))) return Status::Ok();
  const int64_t now = UnixMillis(clock_.WallNow());
  if (o.tracking_number.empty()) o.tracking_number = Str(doc->as_object(), "tracking_number");
  if (o.shipment_id.empty()) o.shipment_id = Str(doc->as_object(), "shipment_id");
  if (o.carrier.empty()) o.carrier = Str(doc->as_object(), "carrier");
  o.reason.clear();
  o.updated_ms = now;
  if (from_confirmed) {
    // A delivered event may overtake the shipped one; the history still shows both.
    o.status = std::string(status::kShipped);
    EMP_RETURN_IF_ERROR(Store::AddHistory(tx, o.id, o.status, type, now));
    EMP_RETURN_IF_ERROR(AddOrderEvent(tx, "shipped", o, now));
  }
  if (!shipped) {
    o.status = std::string(status::kDelivered);
    EMP_RETURN_IF_ERROR(Store::AddHistory(tx, o.id, o.status, type, now));
    EMP_RETURN_IF_ERROR(AddOrderEvent(tx, "delivered", o, now));
  }
  EMP_ASSIGN_OR_RETURN(bool saved, store_.Save(tx, o));
  // Lost a race with a saga step: fail the transaction so the worker redelivers the event.
  if (!saved) return Unavailable("order " + o.id + " changed concurrently");
  return Status::Ok();
}

Result<Order> OrderService::ResumeAfterStepUp(const std::string& id) {
  // A version conflict means a saga step just saved (its poll may have scheduled a later retry
  // from a stale answer): reload and make it due again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    bool done = true;
    EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
      done = true;
      EMP_ASSIGN_OR_RETURN(auto loaded, store_.Load(tx, id));
      if (!loaded) return NotFound("no order " + id);
      Order& o = *loaded;
      const int64_t now = UnixMillis(clock_.WallNow());
      if (o.step != step::kAwaitAction || o.next_attempt_ms <= now) return Status::Ok();
      o.next_attempt_ms = now;
      EMP_ASSIGN_OR_RETURN(done, store_.Save(tx, o));
      return Status::Ok();
    }));
    if (done) break;
  }
  return saga_.Drive(id, options_.inline_budget);
}

}  // namespace emporium::order
