// The checkout saga: runs an order's steps, persisting the order after every step in one SQL
// transaction that also writes history and outbox events, and runs compensations on failure.
//
// Each step makes one idempotent call (the order id is the idempotency key toward catalog,
// payment and fulfillment; payment calls after authorize use the payment id). Outcomes are saved
// with an optimistic version check whenever the status changes, an event is due, the order waits
// or retries (steps that merely advance are saved with the next one: a checkout is three
// commits, not eight). A crash before the save re-runs the calls on restart, which the callees
// answer with the same results. Transient failures are
// retried with capped exponential backoff; a step past its timeout moves on to compensation.
// The background worker picks due orders from the table, so unfinished orders resume after a
// restart. Only one thread drives a given order in this process (other processes are safe
// through the idempotent calls and the version check).
// Thread-safety: Drive may be called from any thread; Start/Stop from one.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "services/order/fraud.h"
#include "services/order/model.h"
#include "services/order/peers.h"
#include "services/order/store.h"

namespace emporium::order {

struct SagaOptions {
  int64_t reservation_ttl_s = 1800;
  Millis reserve_timeout{30'000};
  Millis payment_timeout{120'000};  // authorize + step-up
  Millis capture_timeout{600'000};
  Millis retry_base{100};
  Millis retry_cap{30'000};
  Millis poll{250};  // worker poll interval
};

class Saga {
 public:
  Saga(Store& store, Peers& peers, FraudScreen& fraud, Clock& clock, SagaOptions options,
       std::function<void()> notify);
  ~Saga();
  Saga(const Saga&) = delete;
  Saga& operator=(const Saga&) = delete;

  // Runs the order's steps until it waits (review, step-up, shipment events), ends, or `budget`
  // passes (retry waits within the budget are slept; with sleep_retries false a retry that is not
  // due yet ends the run). Returns the order as stored.
  Result<Order> Drive(const std::string& id, Millis budget, bool sleep_retries = true);
  // An admin's decision on an order held in REVIEW: approve → the saga goes on to authorize;
  // decline → compensations, REJECTED "fraud_declined". kFailedPrecondition when the order is
  // not waiting for review, kNotFound when absent. Returns the order after driving it.
  Result<Order> Decide(const std::string& id, bool approve, Millis budget);
  // One pass over the due orders, a few at a time (what the worker does every `poll`); returns
  // how many ran.
  Result<int> RunDue(Millis budget_per_order);

  void Start();
  void Stop();

 private:
  // Saves o (changed from `before`) with its history row and event in one transaction.
  Result<bool> Persist(Order& o, const Order& before);
  void Step(Order& o);
  void Reserve(Order& o);
  void ScreenFraud(Order& o);
  void Authorize(Order& o);
  void AwaitAction(Order& o);
  void ApplyPayment(Order& o, const Reply& r);
  void Capture(Order& o);
  void CommitStock(Order& o);
  void Ship(Order& o);
  void Refund(Order& o);
  void Void(Order& o);
  void Release(Order& o);

  void Advance(Order& o, std::string_view next);
  void Retry(Order& o);
  bool TimedOut(const Order& o, Millis timeout) const;
  // Starts (or continues) the compensation chain ending in final_status.
  void Compensate(Order& o, std::string_view final_status, std::string reason, std::string detail = "");
  void NextCompensation(Order& o);
  int64_t Now() const;

  bool Acquire(const std::string& id, SteadyTime until);
  void ReleaseLock(const std::string& id);
  void Loop();

  Store& store_;
  Peers& peers_;
  FraudScreen& fraud_;
  Clock& clock_;
  SagaOptions options_;
  std::function<void()> notify_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> busy_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace emporium::order
