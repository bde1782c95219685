#include "services/payment/service.h"

#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/payment/events.h"

namespace emporium::payment {
namespace {

Result<std::optional<Payment>> ReadByOrder(sql::Database& db, const std::string& order_id) {
  std::optional<Payment> out;
  EMP_RETURN_IF_ERROR(db.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(out, PaymentByOrder(tx, order_id));
    return Status::Ok();
  }));
  return out;
}

}  // namespace

PaymentService::PaymentService(sql::Database& db, std::vector<std::unique_ptr<Provider>> providers,
                               Routing routing, resilience::BreakerRegistry& breakers, Clock& clock,
                               ServiceOptions options, std::function<void()> notify)
    : db_(db),
      providers_(std::move(providers)),
      routing_(std::move(routing)),
      breakers_(breakers),
      clock_(clock),
      options_(std::move(options)),
      notify_(std::move(notify)) {}

Provider* PaymentService::Find(const std::string& name) const {
  for (const auto& p : providers_) {
    if (p->name() == name) return p.get();
  }
  return nullptr;
}

resilience::CircuitBreaker& PaymentService::Breaker(const std::string& provider) {
  return breakers_.Get("payment:" + provider);
}

int64_t PaymentService::NowMs() const {
  return UnixMillis(clock_.WallNow());
}

Result<Method> PaymentService::Tokenize(const std::string& subject, const CardInput& card,
                                        const std::string& only) {
  if (!only.empty() && !Find(only)) return InvalidArgument("unknown provider '" + only + "'");
  Method m;
  m.method_token = "pm_" + RandomHex(16);
  m.subject = subject;
  Status last = Unavailable("no payment provider answered");
  for (const auto& p : providers_) {
    if (!only.empty() && p->name() != only) continue;
    auto ticket = Breaker(p->name()).Allow();
    if (!ticket.ok()) continue;
    auto t = p->Tokenize(card, "tok:" + m.method_token + ":" + p->name());
    ticket->Record(!t.ok() && IsRetryable(t.status().code()) ? resilience::BreakerOutcome::kFailure
                                                             : resilience::BreakerOutcome::kSuccess);
    if (!t.ok()) {
      // A card one provider rejects as invalid is invalid: do not mask that with another's outage.
      if (t.status().code() == Code::kInvalidArgument) return t.status();
      log::Warn("payment tokenization failed at a provider",
                {{"provider", p->name()}, {"error", t.status().ToString()}});
      last = t.status();
      continue;
    }
    if (m.brand.empty()) {
      m.brand = t->brand;
      m.last4 = t->last4;
      m.exp_month = t->exp_month;
      m.exp_year = t->exp_year;
    }
    m.provider_tokens[p->name()] = t->token;
  }
  if (m.provider_tokens.empty()) return last;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) { return InsertMethod(tx, m, NowMs()); }));
  return m;
}

Result<Payment> PaymentService::Authorize(const AuthorizeInput& in) {
  if (in.order_id.empty()) return InvalidArgument("order_id is required");
  if (in.amount <= 0) return InvalidArgument("amount must be positive");
  if (in.currency.size() != 3) return InvalidArgument("currency must be an ISO 4217 code");
  if (in.method_token.empty() && !in.card) return InvalidArgument("method_token or card is required");

  EMP_ASSIGN_OR_RETURN(std::optional<Payment> existing, ReadByOrder(db_, in.order_id));
  int64_t now = NowMs();
  if (existing && existing->status != "pending") return *existing;
  if (existing && existing->lease_until > now)
    return Unavailable("an authorization for this order is in progress; retry shortly");
  if (existing && (existing->amount != in.amount || existing->currency != in.currency)) {
    return Conflict("the order already has a payment of another amount");
  }

  std::string method_token = existing ? existing->method_token : in.method_token;
  if (method_token.empty()) {
    EMP_ASSIGN_OR_RETURN(Method m, Tokenize("order:" + in.order_id, *in.card, ""));
    method_token = m.method_token;
  }
  EMP_ASSIGN_OR_RETURN(std::optional<Method> method, MethodByToken(db_, method_token));
  if (!method) return InvalidArgument("unknown method_token");

  // Claim the order: insert the pending row, or take over one whose owner's lease ran out.
  Payment p;
  bool claimed = false;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> cur, PaymentByOrder(tx, in.order_id));
    now = NowMs();
    if (cur && (cur->status != "pending" || cur->lease_until > now)) {
      p = *cur;
      return Status::Ok();
    }
    claimed = true;
    if (cur) {
      p = *cur;
      p.lease_until = now + options_.lease.count();
      p.updated_at = now;
      return UpdatePayment(tx, p);
    }
    p = Payment{};
    p.id = "pay_" + RandomHex(12);
    p.order_id = in.order_id;
    p.amount = in.amount;
    p.currency = in.currency;
    p.method_token = method_token;
    p.status = "pending";
    p.lease_until = now + options_.lease.count();
    p.created_at = p.updated_at = now;
    return InsertPayment(tx, p);
  }));
  if (!claimed) {
    if (p.status == "pending")
      return Unavailable("an authorization for this order is in progress; retry shortly");
    return p;
  }

  std::vector<std::string> route = routing_.Route({in.currency, in.amount, in.method});
  std::vector<std::string> uncertain;
  for (const std::string& name : route) {
    Provider* provider = Find(name);
    auto token = method->provider_tokens.find(name);
    if (!provider || token == method->provider_tokens.end()) continue;
    auto ticket = Breaker(name).Allow();
    if (!ticket.ok()) {
      EMP_RETURN_IF_ERROR(SetAttempt(db_, p.id, p.order_id, name, "skipped", NowMs()));
      continue;
    }
    EMP_RETURN_IF_ERROR(SetAttempt(db_, p.id, p.order_id, name, "pending", NowMs()));
    AuthorizeRequest req{
        p.order_id,         p.amount, p.currency, token->second, "auth:" + p.order_id + ":" + name,
        options_.return_url};
    Result<AuthorizeResult> r = provider->Authorize(req);
    if (!r.ok()) {
      bool retryable = IsRetryable(r.status().code());
      ticket->Record(retryable ? resilience::BreakerOutcome::kFailure : resilience::BreakerOutcome::kSuccess);
      log::Warn("payment authorization failed at a provider",
                {{"provider", name}, {"order_id", p.order_id}, {"error", r.status().ToString()}});
      // A refused request authorized nothing; a lost or failed answer might have.
      EMP_RETURN_IF_ERROR(SetAttempt(db_, p.id, p.order_id, name, retryable ? "error" : "rejected", NowMs()));
      if (retryable) uncertain.push_back(name);
      continue;
    }
    ticket->Record(resilience::BreakerOutcome::kSuccess);
    p.provider = name;
    p.provider_ref = r->provider_ref;
    std::string status = "authorized";
    std::string event = "authorized";
    if (r->outcome == AuthOutcome::kDeclined) {
      status = "declined";
      event = "failed";
      p.decline_code = r->decline_code;
    } else if (r->outcome == AuthOutcome::kRequiresAction) {
      status = "requires_action";
      event = "";
      p.action_url = r->action_url;
    }
    EMP_RETURN_IF_ERROR(SetAttempt(db_, p.id, p.order_id, name, status, NowMs()));
    auto done = Finish(p, status, event);
    VoidOrphans(p.order_id, uncertain);
    return done;
  }
  p.decline_code = route.empty() ? "no_route" : "providers_unavailable";
  auto done = Finish(p, "failed", "failed");
  VoidOrphans(p.order_id, uncertain);
  return done;
}

Result<Payment> PaymentService::Finish(Payment p, const std::string& status, const std::string& event_type) {
  p.status = status;
  p.lease_until = 0;
  p.updated_at = NowMs();
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
    return event_type.empty() ? Status::Ok() : AddPaymentEvent(tx, event_type, p);
  }));
  notify_();
  return p;
}

void PaymentService::VoidOrphans(const std::string& order_id, const std::vector<std::string>& providers) {
  for (const std::string& name : providers) {
    Provider* provider = Find(name);
    if (!provider) continue;
    // An open breaker defers the check to the sweeper rather than hammering a failing provider.
    auto ticket = Breaker(name).Allow();
    if (!ticket.ok()) continue;
    auto n = provider->VoidByReference(order_id,
                                       "orphan:" + order_id + ":" + name + ":" + std::to_string(NowMs()));
    ticket->Record(!n.ok() && IsRetryable(n.status().code()) ? resilience::BreakerOutcome::kFailure
                                                             : resilience::BreakerOutcome::kSuccess);
    if (!n.ok()) {
      log::Warn("payment orphan check failed; the sweeper retries",
                {{"provider", name}, {"order_id", order_id}, {"error", n.status().ToString()}});
    } else if (*n > 0) {
      log::Warn("payment voided a late authorization",
                {{"provider", name}, {"order_id", order_id}, {"voided", *n}});
    }
  }
}

Result<Payment> PaymentService::Abandon(Payment p) {
  bool abandoned = false;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> cur, PaymentById(tx, p.id));
    p = *cur;
    if (p.status != "pending" || p.lease_until > NowMs()) return Status::Ok();
    abandoned = true;
    p.status = "failed";
    p.decline_code = "abandoned";
    p.lease_until = 0;
    p.updated_at = NowMs();
    EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
    return AddPaymentEvent(tx, "failed", p);
  }));
  if (!abandoned) return p;
  notify_();
  // Whatever a provider authorized for the crashed attempt must not stand.
  std::vector<std::string> names;
  for (const auto& provider : providers_) names.push_back(provider->name());
  VoidOrphans(p.order_id, names);
  return p;
}

int PaymentService::SweepOrphans() {
  // Authorizations whose owner died (crash) and that nobody resumed within abandon_after.
  if (auto stale = StalePending(db_, NowMs() - options_.abandon_after.count()); stale.ok()) {
    for (const Payment& p : *stale) (void)Abandon(p);
  }
  auto attempts = UncertainAttempts(db_, NowMs() - options_.orphan_window.count());
  if (!attempts.ok()) return 0;
  int voided = 0;
  for (const Attempt& a : *attempts) {
    auto p = Load(a.payment_id);
    if (!p.ok() || p->status == "pending" || p->provider == a.provider) continue;
    Provider* provider = Find(a.provider);
    if (!provider) continue;
    auto ticket = Breaker(a.provider).Allow();
    if (!ticket.ok()) continue;
    auto n = provider->VoidByReference(
        a.order_id, "sweep:" + a.order_id + ":" + a.provider + ":" + std::to_string(NowMs()));
    ticket->Record(!n.ok() && IsRetryable(n.status().code()) ? resilience::BreakerOutcome::kFailure
                                                             : resilience::BreakerOutcome::kSuccess);
    if (n.ok()) voided += *n;
  }
  return voided;
}

Result<Payment> PaymentService::Load(const std::string& id) {
  std::optional<Payment> p;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(p, PaymentById(tx, id));
    return Status::Ok();
  }));
  if (!p) return NotFound("no payment " + id);
  return *p;
}

Result<Payment> PaymentService::Get(const std::string& id) {
  return Load(id);
}

Result<Payment> PaymentService::Capture(const std::string& id, std::optional<int64_t> amount) {
  EMP_ASSIGN_OR_RETURN(Payment p, Load(id));
  if (p.status == "captured" || p.status == "refunded") return p;
  if (p.status != "authorized") return FailedPrecondition("a " + p.status + " payment cannot be captured");
  int64_t value = amount.value_or(p.amount);
  if (value <= 0 || value > p.amount)
    return InvalidArgument("capture amount must be between 1 and the authorized amount");
  Provider* provider = Find(p.provider);
  if (!provider) return FailedPrecondition("provider " + p.provider + " is not enabled");
  EMP_ASSIGN_OR_RETURN(std::string capture_ref,
                       provider->Capture(p.provider_ref, value, p.currency, "capture:" + p.id));
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> cur, PaymentById(tx, id));
    p = *cur;
    if (p.status != "authorized") return Status::Ok();
    p.status = "captured";
    p.captured = value;
    p.capture_ref = capture_ref;
    p.updated_at = NowMs();
    EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
    return AddPaymentEvent(tx, "captured", p);
  }));
  notify_();
  return p;
}

Result<Payment> PaymentService::Void(const std::string& id) {
  EMP_ASSIGN_OR_RETURN(Payment p, Load(id));
  if (p.status == "voided" || p.status == "declined" || p.status == "failed") return p;
  if (p.status == "pending") {
    if (p.lease_until > NowMs()) return Unavailable("the authorization is still in progress; retry shortly");
    return Abandon(p);
  }
  if (p.status != "authorized" && p.status != "requires_action") {
    return FailedPrecondition("a " + p.status + " payment cannot be voided; refund it");
  }
  Provider* provider = Find(p.provider);
  if (!provider) return FailedPrecondition("provider " + p.provider + " is not enabled");
  EMP_RETURN_IF_ERROR(provider->Void(p.provider_ref, "void:" + p.id));
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> cur, PaymentById(tx, id));
    p = *cur;
    if (p.status != "authorized" && p.status != "requires_action") return Status::Ok();
    p.status = "voided";
    p.updated_at = NowMs();
    EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
    return AddPaymentEvent(tx, "voided", p);
  }));
  notify_();
  return p;
}

Result<Payment> PaymentService::Refund(const std::string& id, std::optional<int64_t> amount,
                                       std::string key) {
  EMP_ASSIGN_OR_RETURN(Payment p, Load(id));
  if (p.status != "captured" && p.status != "refunded")
    return FailedPrecondition("a " + p.status + " payment cannot be refunded");
  int64_t left = p.captured - p.refunded;
  if (!amount && left == 0) return p;
  int64_t value = amount.value_or(left);
  if (key.empty())
    key = amount ? "amount:" + std::to_string(value) + ":after:" + std::to_string(p.refunded) : "full";
  RefundRow refund;
  bool done = false;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(std::optional<RefundRow> cur, RefundByKey(tx, id, key));
    if (cur) {
      refund = *cur;
      done = cur->status == "succeeded";
      return Status::Ok();
    }
    if (value <= 0 || value > left)
      return InvalidArgument("refund amount must be between 1 and what is left to refund");
    refund = RefundRow{"re_" + RandomHex(12), id, key, value, "pending"};
    return InsertRefund(tx, refund, NowMs());
  }));
  if (done) return Load(id);
  Provider* provider = Find(p.provider);
  if (!provider) return FailedPrecondition("provider " + p.provider + " is not enabled");
  EMP_RETURN_IF_ERROR(provider->Refund(p.capture_ref.empty() ? p.provider_ref : p.capture_ref, refund.amount,
                                       p.currency, "refund:" + refund.id));
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(std::optional<RefundRow> cur, RefundByKey(tx, id, key));
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> pay, PaymentById(tx, id));
    p = *pay;
    if (!cur || cur->status == "succeeded") return Status::Ok();
    EMP_RETURN_IF_ERROR(MarkRefundSucceeded(tx, cur->id));
    p.refunded += cur->amount;
    if (p.refunded >= p.captured) p.status = "refunded";
    p.updated_at = NowMs();
    EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
    return AddPaymentEvent(tx, "refunded", p, cur->amount);
  }));
  notify_();
  return p;
}

Result<WebhookResult> PaymentService::HandleWebhook(const std::string& name, const http::Request& req) {
  Provider* provider = Find(name);
  if (!provider) return NotFound("unknown payment provider '" + name + "'");
  EMP_ASSIGN_OR_RETURN(
      WebhookEvent ev,
      provider->ParseWebhook(req, WebhookPolicy{clock_.WallNow(), options_.webhook_tolerance}));
  if (ev.kind == WebhookEvent::Kind::kDisputed) return RecordDispute(name, ev);
  WebhookResult out{ev.id, false};
  int64_t now = NowMs();

  // Provider calls an event needs happen before the inbox records it, so a failure leaves the
  // event unrecorded and the provider's redelivery retries; the calls are idempotent by key.
  EMP_ASSIGN_OR_RETURN(std::optional<Payment> before, ReadByOrder(db_, ev.order_id));
  std::optional<AuthorizeResult> approved;
  if (before && before->status != "pending" && before->provider != name &&
      ev.kind == WebhookEvent::Kind::kAuthorized) {
    // Another provider holds this order's payment: this authorization must not stand.
    log::Warn("payment webhook reports a second authorization; voiding it",
              {{"provider", name}, {"order_id", ev.order_id}});
    EMP_RETURN_IF_ERROR(provider->Void(ev.provider_ref, "orphan-void:" + ev.provider_ref));
  }
  if (before && before->provider == name && before->status == "requires_action" &&
      ev.kind == WebhookEvent::Kind::kApproved) {
    EMP_ASSIGN_OR_RETURN(AuthorizeResult r, provider->AuthorizeApproved(before->provider_ref,
                                                                        "auth:" + ev.order_id + ":" + name));
    approved = r;
  }

  bool fresh = false;
  bool changed = false;
  EMP_RETURN_IF_ERROR(db_.Transact([&](sql::Tx& tx) -> Status {
    EMP_ASSIGN_OR_RETURN(fresh, RecordWebhook(tx, name, ev.id, now));
    if (!fresh) return Status::Ok();
    EMP_ASSIGN_OR_RETURN(std::optional<Payment> cur, PaymentByOrder(tx, ev.order_id));
    if (!cur || cur->provider != name || cur->status != "requires_action") return Status::Ok();
    Payment p = *cur;
    p.updated_at = now;
    bool authorized = ev.kind == WebhookEvent::Kind::kAuthorized ||
                      (approved && approved->outcome == AuthOutcome::kAuthorized);
    bool failed =
        ev.kind == WebhookEvent::Kind::kFailed || (approved && approved->outcome == AuthOutcome::kDeclined);
    if (authorized) {
      p.status = "authorized";
      if (approved) p.provider_ref = approved->provider_ref;
      p.action_url.clear();
      EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
      EMP_RETURN_IF_ERROR(AddPaymentEvent(tx, "action_completed", p));
      changed = true;
      return AddPaymentEvent(tx, "authorized", p);
    }
    if (failed) {
      p.status = "declined";
      p.decline_code = approved ? approved->decline_code : "authentication_failed";
      EMP_RETURN_IF_ERROR(UpdatePayment(tx, p));
      changed = true;
      return AddPaymentEvent(tx, "failed", p);
    }
    return Status::Ok();
  }));
  out.duplicate = !fresh;
  if (changed) notify_();
  return out;
}

}  // namespace emporium::payment
