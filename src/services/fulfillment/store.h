// Fulfillment persistence in the module's own database: shipments and their tracking history,
// seen carrier webhook ids (replay protection), order contacts and the notification outbox,
// plus the platform outbox tables (bus::MigrateOutbox).
//
// The Tx functions run inside the caller's transaction so a state change, its history row and
// its outbox event commit together. Times are Unix milliseconds.
// Thread-safety: Store is thread-safe (the Database pools connections).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform/core/status.h"
#include "platform/sql/sql.h"
#include "services/fulfillment/model.h"

namespace emporium::fulfillment {

std::span<const sql::Migration> Migrations();

struct Notification {
  std::string id;  // "<kind>:<order_id>": one notice of a kind per order
  std::string order_id;
  std::string kind;     // order_confirmed | order_shipped | order_delivered
  std::string payload;  // the JSON line written to the sink
};

class Store {
 public:
  explicit Store(sql::Database& db) : db_(db) {}
  sql::Database& db() { return db_; }
  Status Migrate();

  // Shipments (history not loaded unless noted).
  static Result<std::optional<Shipment>> FindByOrder(sql::Tx& tx, const std::string& order_id);
  static Result<std::optional<Shipment>> FindByTracking(sql::Tx& tx, const std::string& carrier,
                                                        const std::string& tracking_number);
  // Inserts a shipment in status booking unless the order has one; true when inserted.
  static Result<bool> InsertBooking(sql::Tx& tx, const Shipment& s, int64_t now);
  // booking → booked with the label; false when the shipment was not in booking any more.
  static Result<bool> MarkBooked(sql::Tx& tx, const std::string& shipment_id,
                                 const std::string& tracking_number, const std::string& label_url,
                                 const std::string& service, const Money& rate, int64_t now);
  static Status SetStatus(sql::Tx& tx, const std::string& shipment_id, ShipmentStatus status, int64_t now);
  static Status AddEvent(sql::Tx& tx, const std::string& shipment_id, const TrackingEvent& e);
  // Records a carrier webhook id; false when it was seen before (a replay).
  static Result<bool> RecordWebhook(sql::Tx& tx, const std::string& carrier, const std::string& event_id,
                                    int64_t now);

  // With history.
  Result<std::optional<Shipment>> Get(const std::string& shipment_id);
  Result<std::vector<Shipment>> ByOrder(const std::string& order_id);
  Result<std::optional<Shipment>> FindByOrder(const std::string& order_id);

  // Notifications.
  static Status SaveContact(sql::Tx& tx, const std::string& order_id, const std::string& user_id,
                            int64_t now);
  // The user id of an order: from order.confirmed, else from the shipment request; empty if unknown.
  static Result<std::string> ContactOf(sql::Tx& tx, const std::string& order_id);
  // Queues a notification; false when one with this id exists already.
  static Result<bool> AddNotification(sql::Tx& tx, const Notification& n, int64_t now);
  Result<std::vector<Notification>> PendingNotifications(int limit);
  Status MarkSent(const std::vector<std::string>& ids, int64_t now);

 private:
  Status LoadEvents(Shipment& s);
  sql::Database& db_;
};

}  // namespace emporium::fulfillment
