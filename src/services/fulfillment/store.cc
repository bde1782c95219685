#include "services/fulfillment/store.h"

#include "platform/bus/outbox.h"
#include "platform/core/rfc3339.h"

namespace emporium::fulfillment {
namespace {

constexpr const char* kColumns =
    "shipment_id, order_id, carrier, service, tracking_number, label_url, status, amount, currency, user_id, "
    "created_at";

Shipment FromRow(const sql::Row& r) {
  Shipment s;
  s.shipment_id = r.Text(0);
  s.order_id = r.Text(1);
  s.carrier = r.Text(2);
  s.service = r.Text(3);
  s.tracking_number = r.IsNull(4) ? "" : r.Text(4);
  s.label_url = r.Text(5);
  s.status = ParseStatus(r.Text(6)).value_or(ShipmentStatus::kBooking);
  s.rate = Money{r.Int(7), r.Text(8)};
  s.user_id = r.Text(9);
  s.created_at = FormatRfc3339UnixMillis(r.Int(10));
  return s;
}

Result<std::optional<Shipment>> One(Result<sql::ResultSet> rs) {
  if (!rs.ok()) return rs.status();
  if (rs->rows.empty()) return std::optional<Shipment>();
  return std::optional<Shipment>(FromRow(rs->rows.front()));
}

std::string Select(const char* where) {
  return std::string("SELECT ") + kColumns + " FROM shipments WHERE " + where;
}

}  // namespace

Status Store::Migrate() {
  EMP_RETURN_IF_ERROR(sql::Migrate(db_, "fulfillment", Migrations()));
  return bus::MigrateOutbox(db_);
}

Result<std::optional<Shipment>> Store::FindByOrder(sql::Tx& tx, const std::string& order_id) {
  return One(tx.Query(Select("order_id = $1"), {order_id}));
}

Result<std::optional<Shipment>> Store::FindByTracking(sql::Tx& tx, const std::string& carrier,
                                                      const std::string& tracking_number) {
  return One(tx.Query(Select("carrier = $1 AND tracking_number = $2"), {carrier, tracking_number}));
}

Result<bool> Store::InsertBooking(sql::Tx& tx, const Shipment& s, int64_t now) {
  EMP_ASSIGN_OR_RETURN(
      auto rs, tx.Query("INSERT INTO shipments (shipment_id, order_id, carrier, service, "
                        "tracking_number, label_url, status, amount, currency, user_id, "
                        "created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, '', 'booking', "
                        "$5, $6, $7, $8, $8) ON CONFLICT (order_id) DO NOTHING",
                        {s.shipment_id, s.order_id, s.carrier, s.service, s.rate.amount, s.rate.currency,
                         s.user_id, now}));
  return rs.affected == 1;
}

Result<bool> Store::MarkBooked(sql::Tx& tx, const std::string& shipment_id,
                               const std::string& tracking_number, const std::string& label_url,
                               const std::string& service, const Money& rate, int64_t now) {
  EMP_ASSIGN_OR_RETURN(
      auto rs, tx.Query("UPDATE shipments SET status = 'booked', tracking_number = $2, "
                        "label_url = $3, service = $4, amount = $5, currency = $6, "
                        "updated_at = $7 WHERE shipment_id = $1 AND status = 'booking'",
                        {shipment_id, tracking_number, label_url, service, rate.amount, rate.currency, now}));
  return rs.affected == 1;
}

Status Store::SetStatus(sql::Tx& tx, const std::string& shipment_id, ShipmentStatus status, int64_t now) {
  return tx.Exec("UPDATE shipments SET status = $2, updated_at = $3 WHERE shipment_id = $1",
                 {shipment_id, std::string(StatusName(status)), now});
}

Status Store::AddEvent(sql::Tx& tx, const std::string& shipment_id, const TrackingEvent& e) {
  return tx.Exec(
      "INSERT INTO shipment_events (shipment_id, seq, status, at, description) SELECT $1, "
      "COALESCE(MAX(seq), 0) + 1, $2, $3, $4 FROM shipment_events WHERE shipment_id = $1",
      {shipment_id, e.status, e.at, e.description});
}

Result<bool> Store::RecordWebhook(sql::Tx& tx, const std::string& carrier, const std::string& event_id,
                                  int64_t now) {
  EMP_ASSIGN_OR_RETURN(auto rs, tx.Query("INSERT INTO carrier_webhooks (carrier, event_id, received_at) "
                                         "VALUES ($1, $2, $3) ON CONFLICT (carrier, event_id) DO NOTHING",
                                         {carrier, event_id, now}));
  return rs.affected == 1;
}

Status Store::LoadEvents(Shipment& s) {
  EMP_ASSIGN_OR_RETURN(auto rs, db_.Query("SELECT status, at, description FROM shipment_events WHERE "
                                          "shipment_id = $1 ORDER BY seq",
                                          {s.shipment_id}));
  for (const auto& r : rs.rows) s.events.push_back(TrackingEvent{r.Text(0), r.Text(1), r.Text(2)});
  return Status::Ok();
}

Result<std::optional<Shipment>> Store::Get(const std::string& shipment_id) {
  EMP_ASSIGN_OR_RETURN(auto s, One(db_.Query(Select("shipment_id = $1"), {shipment_id})));
  if (s) EMP_RETURN_IF_ERROR(LoadEvents(*s));
  return s;
}

Result<std::optional<Shipment>> Store::FindByOrder(const std::string& order_id) {
  return One(db_.Query(Select("order_id = $1"), {order_id}));
}

Result<std::vector<Shipment>> Store::ByOrder(const std::string& order_id) {
  EMP_ASSIGN_OR_RETURN(auto rs, db_.Query(Select("order_id = $1 ORDER BY created_at"), {order_id}));
  std::vector<Shipment> out;
  for (const auto& r : rs.rows) {
    out.push_back(FromRow(r));
    EMP_RETURN_IF_ERROR(LoadEvents(out.back()));
  }
  return out;
}

Status Store::SaveContact(sql::Tx& tx, const std::string& order_id, const std::string& user_id, int64_t now) {
  return tx.Exec(
      "INSERT INTO order_contacts (order_id, user_id, created_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (order_id) DO NOTHING",
      {order_id, user_id, now});
}

Result<std::string> Store::ContactOf(sql::Tx& tx, const std::string& order_id) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       tx.Query("SELECT user_id FROM order_contacts WHERE order_id = $1", {order_id}));
  if (!rs.rows.empty()) return rs.rows.front().Text(0);
  EMP_ASSIGN_OR_RETURN(auto ship, tx.Query("SELECT user_id FROM shipments WHERE order_id = $1", {order_id}));
  if (!ship.rows.empty()) return ship.rows.front().Text(0);
  return std::string();
}

Result<bool> Store::AddNotification(sql::Tx& tx, const Notification& n, int64_t now) {
  EMP_ASSIGN_OR_RETURN(
      auto rs, tx.Query("INSERT INTO notifications (id, seq, order_id, kind, payload, created_at) "
                        "SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM notifications WHERE true "
                        "ON CONFLICT (id) DO NOTHING",
                        {n.id, n.order_id, n.kind, n.payload, now}));
  return rs.affected == 1;
}

Result<std::vector<Notification>> Store::PendingNotifications(int limit) {
  EMP_ASSIGN_OR_RETURN(auto rs,
                       db_.Query("SELECT id, order_id, kind, payload FROM notifications WHERE sent_at "
                                 "IS NULL ORDER BY seq LIMIT $1",
                                 {int64_t{limit}}));
  std::vector<Notification> out;
  for (const auto& r : rs.rows) out.push_back(Notification{r.Text(0), r.Text(1), r.Text(2), r.Text(3)});
  return out;
}

Status Store::MarkSent(const std::vector<std::string>& ids, int64_t now) {
  return db_.Transact([&](sql::Tx& tx) -> Status {
    for (const std::string& id : ids)
      EMP_RETURN_IF_ERROR(tx.Exec("UPDATE notifications SET sent_at = $2 WHERE id = $1", {id, now}));
    return Status::Ok();
  });
}

}  // namespace emporium::fulfillment
