// Wire details shared by the carrier adapters and their sandboxes: form encoding (cargoline
// speaks application/x-www-form-urlencoded), the two webhook signature schemes, and the webhook
// secret a sandbox and its adapter share in embedded mode.
//
// Signature schemes:
//   rapidship: header "Rapidship-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>"
//   cargoline: headers "X-Cargoline-Timestamp: <unix seconds>" and
//              "X-Cargoline-Signature: <base64url HMAC-SHA256(secret, timestamp + "\n" + body)>"
// Thread-safety: free functions, thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/core/status.h"

namespace emporium::fulfillment {

inline constexpr std::string_view kRapidship = "rapidship";
inline constexpr std::string_view kCargoline = "cargoline";
inline constexpr std::string_view kRapidshipSignatureHeader = "Rapidship-Signature";
inline constexpr std::string_view kCargolineTimestampHeader = "X-Cargoline-Timestamp";
inline constexpr std::string_view kCargolineSignatureHeader = "X-Cargoline-Signature";

using FormFields = std::vector<std::pair<std::string, std::string>>;
std::string FormEncode(const FormFields& fields);
// Later duplicates win. Malformed escapes are kept literally.
std::map<std::string, std::string> FormDecode(std::string_view body);

std::string RapidshipSignature(std::string_view secret, int64_t unix_seconds, std::string_view body);
// Checks a Rapidship-Signature header value; kUnauthenticated when malformed, wrong or outside
// tolerance_seconds of now_seconds.
Status VerifyRapidshipSignature(std::string_view secret, std::string_view header, std::string_view body,
                                int64_t now_seconds, int64_t tolerance_seconds);

std::string CargolineSignature(std::string_view secret, std::string_view timestamp, std::string_view body);
Status VerifyCargolineSignature(std::string_view secret, std::string_view timestamp,
                                std::string_view signature, std::string_view body, int64_t now_seconds,
                                int64_t tolerance_seconds);

// Cargoline prices are decimal major units: "6.99" → 699, "7" → 700, "7.5" → 750; nullopt for
// anything else (no sign, at most two decimals). FormatDecimalMinor(699) → "6.99".
std::optional<int64_t> ParseDecimalMinor(std::string_view s);
std::string FormatDecimalMinor(int64_t minor);

// The webhook secret of `carrier`: `configured` when set; otherwise a random secret generated
// once into <data_dir>/carrier-secrets/<carrier>.key (0600), so that a sandbox and the adapter
// in one data dir agree without a secret in the repository.
Result<std::string> CarrierWebhookSecret(const std::string& configured, const std::filesystem::path& data_dir,
                                         std::string_view carrier);

}  // namespace emporium::fulfillment
