#include "services/payment/http.h"

#include <boost/json/array.hpp>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/problem.h"
#include "platform/resilience/circuit_breaker.h"

namespace emporium::payment {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

Response Json(int status, const boost::json::value& v) {
  return Response::Json(status, json::Dump(v));
}

Result<object> Body(const Request& req) {
  auto v = json::Parse(req.body.empty() ? "{}" : req.body);
  if (!v.ok() || !v->is_object()) return InvalidArgument("the body must be a JSON object");
  return v->as_object();
}

std::string StrOf(const object& o, std::string_view k) {
  auto v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Integers, or digit strings (expiry fields arrive both ways).
std::optional<int64_t> IntOf(const object& o, std::string_view k) {
  auto v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_string() && !v->as_string().empty()) {
    std::string s(v->as_string());
    if (s.find_first_not_of("0123456789") == std::string::npos) return std::atoll(s.c_str());
  }
  return std::nullopt;
}

Result<CardInput> CardOf(const boost::json::value& v) {
  if (!v.is_object()) return InvalidArgument("card must be an object");
  const object& c = v.as_object();
  CardInput card{StrOf(c, "number"), IntOf(c, "exp_month").value_or(0), IntOf(c, "exp_year").value_or(0),
                 StrOf(c, "cvc")};
  if (card.number.empty() || card.number.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("card.number must be digits");
  }
  if (card.exp_month < 1 || card.exp_month > 12 || card.exp_year < 2000) {
    return InvalidArgument("card.exp_month and card.exp_year are required");
  }
  return card;
}

Response Error(const Status& s, const Request& req) {
  return http::ProblemFrom(s, req.path);
}

Response Tokenize(PaymentService& svc, Request& req) {
  auto body = Body(req);
  if (!body.ok()) return Error(body.status(), req);
  auto card_v = body->if_contains("card");
  if (!card_v) return http::Problem(422, "card is required", req.path, {{"card", "required"}});
  auto card = CardOf(*card_v);
  if (!card.ok())
    return http::Problem(422, card.status().message(), req.path, {{"card", card.status().message()}});
  auto m = svc.Tokenize(req.principal ? req.principal->subject : "", *card, StrOf(*body, "provider"));
  if (!m.ok()) {
    if (m.status().code() == Code::kInvalidArgument)
      return http::Problem(422, m.status().message(), req.path);
    return Error(m.status(), req);
  }
  std::string providers;
  for (const auto& [name, token] : m->provider_tokens) providers += (providers.empty() ? "" : ",") + name;
  return Json(201, object{{"method_token", m->method_token},
                          {"brand", m->brand},
                          {"last4", m->last4},
                          {"exp_month", m->exp_month},
                          {"exp_year", m->exp_year},
                          {"provider", providers}});
}

Response Authorize(PaymentService& svc, Request& req) {
  auto body = Body(req);
  if (!body.ok()) return Error(body.status(), req);
  AuthorizeInput in;
  in.order_id = StrOf(*body, "order_id");
  if (auto a = body->if_contains("amount"); a && a->is_object()) {
    in.amount = IntOf(a->as_object(), "amount").value_or(0);
    in.currency = StrOf(a->as_object(), "currency");
  }
  in.method_token = StrOf(*body, "method_token");
  if (std::string m = StrOf(*body, "method"); !m.empty()) in.method = m;
  if (auto c = body->if_contains("card")) {
    auto card = CardOf(*c);
    if (!card.ok())
      return http::Problem(422, card.status().message(), req.path, {{"card", card.status().message()}});
    in.card = *card;
  }
  auto p = svc.Authorize(in);
  if (!p.ok()) {
    if (p.status().code() == Code::kInvalidArgument)
      return http::Problem(422, p.status().message(), req.path);
    return Error(p.status(), req);
  }
  return Json(200, PaymentJson(*p));
}

Response Respond(const Result<Payment>& p, const Request& req) {
  if (!p.ok()) {
    if (p.status().code() == Code::kInvalidArgument)
      return http::Problem(422, p.status().message(), req.path);
    return Error(p.status(), req);
  }
  return Json(200, PaymentJson(*p));
}

std::optional<int64_t> AmountOf(const object& body) {
  auto a = body.if_contains("amount");
  if (!a) return std::nullopt;
  if (a->is_int64()) return a->as_int64();
  if (a->is_object()) return IntOf(a->as_object(), "amount");
  return std::nullopt;
}

Response Providers(PaymentService& svc) {
  array items;
  for (const auto& p : svc.providers()) {
    resilience::BreakerSnapshot s = svc.Breaker(p->name()).Snapshot();
    items.push_back(object{{"name", p->name()},
                           {"healthy", s.state == resilience::BreakerState::kClosed},
                           {"breaker", object{{"state", BreakerStateName(s.state)},
                                              {"consecutive_failures", s.consecutive_failures},
                                              {"window_failures", s.window_failures},
                                              {"window_successes", s.window_successes},
                                              {"times_opened", s.times_opened},
                                              {"rejected", s.rejected}}}});
  }
  return Json(200, object{{"items", items}});
}

object ChargebackJson(const Chargeback& c) {
  object o{{"chargeback_id", c.id},  {"dispute_id", c.dispute_id},
           {"provider", c.provider}, {"amount", object{{"amount", c.amount}, {"currency", c.currency}}},
           {"reason", c.reason},     {"provider_reason", c.provider_reason},
           {"source", c.source},     {"created_at", FormatRfc3339UnixMillis(c.created_at)}};
  if (!c.note.empty()) o["note"] = c.note;
  return o;
}

// Support's view: the payment and its chargebacks.
Response AdminPayment(PaymentService& svc, const Request& req) {
  std::string id(*req.PathParam("id"));
  auto p = svc.Get(id);
  if (!p.ok()) return Error(p.status(), req);
  auto cbs = svc.Chargebacks(id);
  if (!cbs.ok()) return Error(cbs.status(), req);
  object o = PaymentJson(*p);
  array items;
  for (const Chargeback& c : *cbs) items.push_back(ChargebackJson(c));
  o["chargebacks"] = std::move(items);
  return Json(200, o);
}

// POST /v1/admin/payments/{id}/chargebacks {"amount"?, "reason", "note"?}: strict, as documented.
Response FileChargeback(PaymentService& svc, const Request& req) {
  auto body = Body(req);
  if (!body.ok()) return Error(body.status(), req);
  std::vector<http::FieldError> errors;
  ChargebackInput in;
  for (const auto& [k, v] : *body) {
    if (k == "amount") {
      if (!v.is_int64() || v.as_int64() <= 0) {
        errors.push_back({"amount", "must be a positive integer (minor units)"});
      } else {
        in.amount = v.as_int64();
      }
    } else if (k == "reason") {
      if (!v.is_string()) {
        errors.push_back({"reason", "must be a string"});
      } else {
        in.reason = std::string(v.as_string());
      }
    } else if (k == "note") {
      if (!v.is_string() || v.as_string().size() > 1000) {
        errors.push_back({"note", "must be a string of at most 1000 characters"});
      } else {
        in.note = std::string(v.as_string());
      }
    } else {
      errors.push_back({std::string(k), "unknown field"});
    }
  }
  if (!body->contains("reason")) errors.push_back({"reason", "required"});
  std::string key(req.headers.Get("Idempotency-Key").value_or(""));
  if (key.size() > 200) errors.push_back({"Idempotency-Key", "at most 200 characters"});
  if (!errors.empty()) return http::Problem(422, "the chargeback is invalid", req.path, errors);
  in.idempotency_key = key;
  auto r = svc.FileChargeback(std::string(*req.PathParam("id")), in);
  if (!r.ok()) {
    if (r.status().code() == Code::kInvalidArgument)
      return http::Problem(422, r.status().message(), req.path);
    return Error(r.status(), req);
  }
  Response resp = Json(201, ChargebackJson(r->chargeback));
  if (r->replayed) resp.headers.Set("Idempotent-Replayed", "true");
  return resp;
}

}  // namespace

object PaymentJson(const Payment& p) {
  object o{{"payment_id", p.id},
           {"order_id", p.order_id},
           {"status", p.status},
           {"provider", p.provider},
           {"amount", object{{"amount", p.amount}, {"currency", p.currency}}},
           {"captured_amount", p.captured},
           {"refunded_amount", p.refunded}};
  if (!p.decline_code.empty()) o["decline_code"] = p.decline_code;
  if (p.status == "requires_action" && !p.action_url.empty()) {
    o["next_action"] = object{{"type", "redirect"}, {"url", p.action_url}};
  }
  return o;
}

Status AddRoutes(http::Router& r, PaymentService& svc) {
  using auth::Access;
  const http::RouteOptions user{.access = Access::kUser};
  const http::RouteOptions service{.access = Access::kService};
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kPost, "/v1/payments/methods", [&svc](Request& q) { return Tokenize(svc, q); }, user));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kPost, "/v1/internal/payments/authorize",
      [&svc](Request& q) { return Authorize(svc, q); }, service));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/v1/internal/payments/{id}",
      [&svc](Request& q) { return Respond(svc.Get(std::string(*q.PathParam("id"))), q); }, service));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kPost, "/v1/internal/payments/{id}/capture",
      [&svc](Request& q) {
        auto body = Body(q);
        if (!body.ok()) return Error(body.status(), q);
        return Respond(svc.Capture(std::string(*q.PathParam("id")), AmountOf(*body)), q);
      },
      service));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kPost, "/v1/internal/payments/{id}/void",
      [&svc](Request& q) { return Respond(svc.Void(std::string(*q.PathParam("id"))), q); }, service));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kPost, "/v1/internal/payments/{id}/refund",
      [&svc](Request& q) {
        auto body = Body(q);
        if (!body.ok()) return Error(body.status(), q);
        std::string key = std::string(q.headers.Get("Idempotency-Key").value_or(""));
        if (key.empty()) key = StrOf(*body, "idempotency_key");
        return Respond(svc.Refund(std::string(*q.PathParam("id")), AmountOf(*body), key), q);
      },
      service));
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/v1/admin/payments/providers", [&svc](Request&) { return Providers(svc); },
      http::RouteOptions{.access = Access::kAdmin}));
  // Support's view of one payment (an order shows its payment_id); "providers" above wins.
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kGet, "/v1/admin/payments/{id}", [&svc](Request& q) { return AdminPayment(svc, q); },
      http::RouteOptions{.access = Access::kAdmin}));
  // A chargeback the bank reported out of band (a letter), not through the provider.
  EMP_RETURN_IF_ERROR(r.Add(
      http::Method::kPost, "/v1/admin/payments/{id}/chargebacks",
      [&svc](Request& q) { return FileChargeback(svc, q); }, http::RouteOptions{.access = Access::kAdmin}));
  return r.Add(http::Method::kPost, "/v1/webhooks/payments/{provider}", [&svc](Request& q) {
    auto res = svc.HandleWebhook(std::string(*q.PathParam("provider")), q);
    if (!res.ok()) {
      if (res.status().code() == Code::kUnauthenticated)
        return http::Problem(401, res.status().message(), q.path);
      if (res.status().code() == Code::kInvalidArgument)
        return http::Problem(400, res.status().message(), q.path);
      return Error(res.status(), q);
    }
    return Json(200, object{{"received", true}, {"event_id", res->event_id}, {"duplicate", res->duplicate}});
  });
}

}  // namespace emporium::payment
