#include "services/fulfillment/service.h"

#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/fulfillment/events.h"

namespace emporium::fulfillment {

Status ValidateParcel(const ShipmentRequest& req) {
  const Address& a = req.address;
  if (a.name.empty() || a.line1.empty() || a.city.empty() || a.postal_code.empty() || a.country.empty())
    return InvalidArgument("address needs name, line1, city, postal_code and country");
  if (req.items.empty()) return InvalidArgument("items must not be empty");
  for (const Item& i : req.items) {
    if (i.product_id.empty() || i.quantity <= 0 || i.quantity > 10'000)
      return InvalidArgument("each item needs a product_id and a quantity between 1 and 10000");
  }
  return Status::Ok();
}

Status Validate(const ShipmentRequest& req) {
  if (req.order_id.empty()) return InvalidArgument("order_id is required");
  return ValidateParcel(req);
}

ShipmentService::ShipmentService(Store& store, std::vector<std::unique_ptr<Carrier>> carriers, Clock& clock,
                                 std::function<void()> on_commit)
    : store_(store), carriers_(std::move(carriers)), clock_(clock), on_commit_(std::move(on_commit)) {}

Carrier* ShipmentService::Find(const std::string& name) const {
  for (const auto& c : carriers_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

Result<RateQuote> ShipmentService::ChooseRate(const ShipmentRequest& req) {
  if (!req.carrier.empty()) {
    Carrier* c = Find(req.carrier);
    if (!c) return InvalidArgument("unknown carrier '" + req.carrier + "'");
    return c->Quote(req);
  }
  std::optional<RateQuote> best;
  Status last = Unavailable("no carrier configured");
  for (const auto& c : carriers_) {
    auto q = c->Quote(req);
    if (!q.ok()) {
      log::Warn("fulfillment: carrier could not quote",
                {{"carrier", c->name()}, {"order_id", req.order_id}, {"error", q.status().ToString()}});
      last = q.status();
      continue;
    }
    if (!best || q->price.amount < best->price.amount) best = *q;
  }
  if (!best)
    return last.code() == Code::kInvalidArgument ? last : Unavailable("no carrier could quote the parcel");
  return *best;
}

Result<RateQuote> ShipmentService::Quote(const ShipmentRequest& req) {
  EMP_RETURN_IF_ERROR(ValidateParcel(req));
  return ChooseRate(req);
}

Result<Shipment> ShipmentService::Book(const ShipmentRequest& req) {
  EMP_RETURN_IF_ERROR(Validate(req));
  if (!req.carrier.empty() && !Find(req.carrier))
    return InvalidArgument("unknown carrier '" + req.carrier + "'");
  EMP_ASSIGN_OR_RETURN(std::optional<Shipment> existing, store_.FindByOrder(req.order_id));
  if (!existing) {
    EMP_ASSIGN_OR_RETURN(RateQuote quote, ChooseRate(req));
    Shipment claim;
    claim.shipment_id = NewUuidV7();
    claim.order_id = req.order_id;
    claim.carrier = quote.carrier;
    claim.service = quote.service;
    claim.rate = quote.price;
    claim.user_id = req.user_id;
    EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
      EMP_ASSIGN_OR_RETURN(bool inserted, Store::InsertBooking(tx, claim, NowMs()));
      (void)inserted;  // a concurrent request claimed it first: continue with its claim
      EMP_ASSIGN_OR_RETURN(existing, Store::FindByOrder(tx, req.order_id));
      return Status::Ok();
    }));
    if (!existing) return Internal("shipment claim vanished");
  }
  if (existing->status != ShipmentStatus::kBooking) return Get(existing->shipment_id);

  Carrier* carrier = Find(existing->carrier);
  if (!carrier) return Internal("shipment claimed with a carrier that is no longer configured");
  auto label = carrier->CreateShipment(req, existing->service, existing->shipment_id);
  if (!label.ok()) {
    log::Warn(
        "fulfillment: label creation failed",
        {{"carrier", carrier->name()}, {"order_id", req.order_id}, {"error", label.status().ToString()}});
    return label.status().code() == Code::kInvalidArgument
               ? label.status()
               : Unavailable("the carrier could not create the label");
  }
  const std::string at = FormatRfc3339(clock_.WallNow());
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(
        bool booked, Store::MarkBooked(tx, existing->shipment_id, label->tracking_number, label->label_url,
                                       label->service, label->price, NowMs()));
    if (!booked) return Status::Ok();  // a concurrent request finished it
    EMP_ASSIGN_OR_RETURN(auto s, Store::FindByOrder(tx, req.order_id));
    EMP_RETURN_IF_ERROR(Store::AddEvent(tx, s->shipment_id, TrackingEvent{"booked", at, "Label created"}));
    return AddShipmentEvent(tx, "booked", *s, at);
  }));
  on_commit_();
  return Get(existing->shipment_id);
}

Result<Shipment> ShipmentService::Get(const std::string& shipment_id) {
  EMP_ASSIGN_OR_RETURN(auto s, store_.Get(shipment_id));
  if (!s) return NotFound("no shipment " + shipment_id);
  return *s;
}

Result<std::vector<Shipment>> ShipmentService::ByOrder(const std::string& order_id) {
  return store_.ByOrder(order_id);
}

Result<WebhookOutcome> ShipmentService::HandleWebhook(const std::string& carrier_name,
                                                      const http::Request& req) {
  Carrier* carrier = Find(carrier_name);
  if (!carrier) return NotFound("unknown carrier");
  EMP_ASSIGN_OR_RETURN(TrackingUpdate u, carrier->ParseWebhook(req, clock_.WallNow()));
  WebhookOutcome out;
  bool published = false;
  EMP_RETURN_IF_ERROR(store_.db().Transact([&](sql::Tx& tx) -> Status {
    out = WebhookOutcome{};
    published = false;
    EMP_ASSIGN_OR_RETURN(bool fresh, Store::RecordWebhook(tx, carrier_name, u.event_id, NowMs()));
    if (!fresh) {
      out.duplicate = true;
      return Status::Ok();
    }
    EMP_ASSIGN_OR_RETURN(auto s, Store::FindByTracking(tx, carrier_name, u.tracking_number));
    // Rolling back also forgets the event id, so the carrier's retry is applied once we know it.
    if (!s) return NotFound("unknown tracking number");
    out.shipment_id = s->shipment_id;
    const ShipmentStatus before = s->status;
    // The carrier's label_created scan repeats the booked entry written at booking.
    if (u.status != ShipmentStatus::kBooked || before < ShipmentStatus::kBooked) {
      EMP_RETURN_IF_ERROR(Store::AddEvent(
          tx, s->shipment_id, TrackingEvent{std::string(StatusName(u.status)), u.at, u.description}));
    }
    if (u.status > before) {
      EMP_RETURN_IF_ERROR(Store::SetStatus(tx, s->shipment_id, u.status, NowMs()));
      s->status = u.status;
      // A parcel whose in_transit scan was lost still counts as shipped before it is delivered.
      if (before < ShipmentStatus::kInTransit && u.status >= ShipmentStatus::kInTransit) {
        EMP_RETURN_IF_ERROR(AddShipmentEvent(tx, "shipped", *s, u.at));
        published = true;
      }
      if (u.status == ShipmentStatus::kDelivered) {
        EMP_RETURN_IF_ERROR(AddShipmentEvent(tx, "delivered", *s, u.at));
        published = true;
      }
    }
    out.status = s->status;
    return Status::Ok();
  }));
  if (published) on_commit_();
  return out;
}

}  // namespace emporium::fulfillment
