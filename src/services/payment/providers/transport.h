// What the provider adapters share: one HTTP exchange with a provider (deadline, error mapping),
// RFC 3339 parsing and HMAC checks. Thread-safe (HttpClient is).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "platform/http/client.h"
#include "services/payment/provider.h"

namespace emporium::payment {

class Transport {
 public:
  Transport(ProviderConfig config, http::HttpClient& client) : config_(std::move(config)), client_(client) {}

  // Sends to config.base_url (or to `base` when given: redirect URLs on another path). Transport
  // failures come back as kUnavailable / kDeadlineExceeded; any HTTP status is a response.
  Result<http::Response> Send(http::Method method, std::string target, std::string body = {},
                              std::string_view content_type = "application/json",
                              std::vector<std::pair<std::string, std::string>> headers = {},
                              std::string base = {}) const;
  const ProviderConfig& config() const { return config_; }

 private:
  ProviderConfig config_;
  http::HttpClient& client_;
};

// "2026-01-01T00:00:00.123Z" / "...Z" / "+00:00" → time; kInvalidArgument otherwise.
Result<SystemTime> ParseRfc3339(std::string_view s);
// The response body as a JSON object (empty object when it is not one).
boost::json::object BodyObject(const http::Response& resp);
boost::json::object ParseObject(std::string_view text);
std::string Str(const boost::json::object& o, std::string_view key);
int64_t Int(const boost::json::object& o, std::string_view key);
// kUnavailable naming the provider for a 5xx answer.
Status ProviderFailure(const std::string& provider, const http::Response& resp);
// True when `at` lies within policy.tolerance of policy.now.
bool WithinTolerance(SystemTime at, const WebhookPolicy& policy);
// Splits "http://host:port/path?q" into the base ("http://host:port") and the target.
std::pair<std::string, std::string> SplitUrl(const std::string& url);

}  // namespace emporium::payment
