#include "services/behavior/http.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"

namespace emporium::behavior {
namespace {

using boost::json::array;
using boost::json::object;
using http::Request;
using http::Response;

constexpr size_t kMaxUserAgent = 512;

// The caller's subject; client (service) tokens report no behaviour of their own.
Result<std::string> Subject(const Request& req) {
  if (!req.principal) return Unauthenticated("a token is required");
  const std::string& s = req.principal->subject;
  if (s.starts_with("user:") || s.starts_with("guest:")) return s;
  return PermissionDenied("behaviour events belong to users and guests; a service token has none");
}

// User-Agent as it goes on the bus: printable ASCII (what RFC 9110 allows), bounded.
std::string UserAgent(const Request& req) {
  std::string out;
  auto h = req.headers.Get("User-Agent");
  if (!h) return out;
  for (char c : h->substr(0, kMaxUserAgent)) out += c >= 0x20 && c < 0x7f ? c : '?';
  return out;
}

Response Failure(const Request& req, const Status& s) {
  if (s.code() >= Code::kInternal)
    log::Error("behavior request failed", {{"route", req.path}, {"error", s.ToString()}});
  return http::ProblemFrom(s, req.path);
}

Response Rejected(const Request& req, std::string_view detail, const std::vector<FieldIssue>& issues) {
  std::vector<http::FieldError> errors;
  errors.reserve(issues.size());
  for (const FieldIssue& i : issues) errors.push_back({i.field, i.message});
  return http::Problem(400, detail, req.path, errors);
}

object EventJson(const StoredEvent& s) {
  object o;
  o.reserve(6 + s.event.fields.size());
  o.emplace("id", s.event.client_event_id);
  o.emplace("type", s.event.type);
  o.emplace("time", FormatRfc3339UnixMillis(s.event.time_ms));
  o.emplace("received_at", FormatRfc3339UnixMillis(s.received_ms));
  if (!s.event.session_id.empty()) o.emplace("session_id", s.event.session_id);
  if (!s.event.device_id.empty()) o.emplace("device_id", s.event.device_id);
  for (const auto& kv : s.event.fields) o.emplace(kv.key(), kv.value());
  return o;
}

Response Post(BehaviorService& service, Request& req) {
  auto subject = Subject(req);
  if (!subject.ok()) return Failure(req, subject.status());
  std::vector<FieldIssue> issues;
  auto result = service.Ingest(Origin{*subject, req.remote_addr, UserAgent(req)}, req.body, &issues);
  if (!issues.empty()) return Rejected(req, "The batch was rejected; nothing was stored.", issues);
  if (!result.ok()) return Failure(req, result.status());
  return Response::Json(
      202, json::Dump(object{{"accepted", result->accepted}, {"duplicates", result->duplicates}}));
}

Response Get(BehaviorService& service, Request& req) {
  auto subject = Subject(req);
  if (!subject.ok()) return Failure(req, subject.status());
  std::vector<FieldIssue> issues;
  std::string_view query = req.query;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::string_view key = pair.substr(0, pair.find('='));
    if (!pair.empty() && key != "type" && key != "page_size" && key != "page_token")
      issues.push_back({std::string(key), "unknown query parameter"});
  }
  int page_size = kDefaultPageSize;
  if (auto p = req.QueryParam("page_size")) {
    auto [end, ec] = std::from_chars(p->data(), p->data() + p->size(), page_size);
    if (ec != std::errc() || end != p->data() + p->size()) page_size = 0;
  }
  auto page = service.History(*subject, req.QueryParam("type").value_or(""), page_size,
                              req.QueryParam("page_token").value_or(""), &issues);
  if (!issues.empty()) return Rejected(req, "Invalid query parameters.", issues);
  if (!page.ok()) return Failure(req, page.status());
  array events;
  events.reserve(page->events.size());
  for (const StoredEvent& s : page->events) events.push_back(EventJson(s));
  object o{{"events", std::move(events)}};
  o["next_page_token"] =
      page->next_page_token.empty() ? boost::json::value(nullptr) : boost::json::value(page->next_page_token);
  Response r = Response::Json(200, json::Dump(o));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

}  // namespace

Status AddRoutes(http::Router& router, BehaviorService& service) {
  const http::RouteOptions opts{.access = auth::Access::kAnyToken};
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kPost, "/v1/events", [&service](Request& req) { return Post(service, req); }, opts));
  EMP_RETURN_IF_ERROR(router.Add(
      http::Method::kGet, "/v1/events", [&service](Request& req) { return Get(service, req); }, opts));
  return Status::Ok();
}

}  // namespace emporium::behavior
