#include "services/payment/providers/transport.h"

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"

namespace emporium::payment {

Result<http::Response> Transport::Send(http::Method method, std::string target, std::string body,
                                       std::string_view content_type,
                                       std::vector<std::pair<std::string, std::string>> headers,
                                       std::string base) const {
  http::Request req;
  req.method = method;
  req.target = std::move(target);
  req.body = std::move(body);
  if (!req.body.empty()) req.headers.Set("Content-Type", std::string(content_type));
  req.headers.Set("Accept", "application/json");
  for (auto& [k, v] : headers) req.headers.Set(k, std::move(v));
  return client_.Send(base.empty() ? config_.base_url : base, req,
                      SystemClock::Get().Now() + config_.timeout);
}

Result<SystemTime> ParseRfc3339(std::string_view s) {
  std::optional<int64_t> ms = ParseRfc3339UnixMillis(s);
  if (!ms) return InvalidArgument("not an RFC 3339 time");
  return SystemTime(std::chrono::milliseconds(*ms));
}

boost::json::object BodyObject(const http::Response& resp) {
  return ParseObject(resp.body);
}

boost::json::object ParseObject(std::string_view text) {
  auto v = json::Parse(text);
  if (!v.ok() || !v->is_object()) return {};
  return v->as_object();
}

std::string Str(const boost::json::object& o, std::string_view key) {
  return json::Str(o, key);
}

int64_t Int(const boost::json::object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

Status ProviderFailure(const std::string& provider, const http::Response& resp) {
  return Unavailable(provider + " answered " + std::to_string(resp.status));
}

bool WithinTolerance(SystemTime at, const WebhookPolicy& policy) {
  auto diff = policy.now > at ? policy.now - at : at - policy.now;
  return diff <= policy.tolerance;
}

std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace emporium::payment
