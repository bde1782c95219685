#include "services/fulfillment/protocol.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "platform/crypto/crypto.h"
#include "platform/http/url.h"

namespace emporium::fulfillment {
namespace {

void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

std::optional<int64_t> ParseSeconds(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Status CheckTimestamp(int64_t ts, int64_t now_seconds, int64_t tolerance_seconds) {
  if (ts < now_seconds - tolerance_seconds || ts > now_seconds + tolerance_seconds)
    return Unauthenticated("webhook timestamp outside the tolerance");
  return Status::Ok();
}

}  // namespace

std::string FormEncode(const FormFields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    AppendEscaped(out, k);
    out += '=';
    AppendEscaped(out, v);
  }
  return out;
}

std::map<std::string, std::string> FormDecode(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = http::PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : http::PercentDecode(pair.substr(eq + 1), true);
    out[std::move(key)] = std::move(value);
  }
  return out;
}

std::string RapidshipSignature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string payload = std::to_string(unix_seconds) + ".";
  payload += body;
  return crypto::HexEncode(crypto::HmacSha256(secret, payload));
}

Status VerifyRapidshipSignature(std::string_view secret, std::string_view header, std::string_view body,
                                int64_t now_seconds, int64_t tolerance_seconds) {
  std::optional<int64_t> ts;
  std::vector<std::string_view> signatures;  // several v1 entries during a secret rotation
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.rfind("t=", 0) == 0) ts = ParseSeconds(part.substr(2));
    if (part.rfind("v1=", 0) == 0) signatures.push_back(part.substr(3));
  }
  if (!ts || signatures.empty()) return Unauthenticated("malformed signature header");
  std::string expected = RapidshipSignature(secret, *ts, body);
  bool match = false;
  for (std::string_view s : signatures) match = crypto::ConstantTimeEquals(expected, s) || match;
  if (!match) return Unauthenticated("signature does not match");
  return CheckTimestamp(*ts, now_seconds, tolerance_seconds);
}

std::string CargolineSignature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string payload(timestamp);
  payload += '\n';
  payload += body;
  return crypto::Base64UrlEncode(crypto::HmacSha256(secret, payload));
}

Status VerifyCargolineSignature(std::string_view secret, std::string_view timestamp,
                                std::string_view signature, std::string_view body, int64_t now_seconds,
                                int64_t tolerance_seconds) {
  auto ts = ParseSeconds(timestamp);
  if (!ts || signature.empty()) return Unauthenticated("malformed signature headers");
  if (!crypto::ConstantTimeEquals(CargolineSignature(secret, timestamp, body), signature))
    return Unauthenticated("signature does not match");
  return CheckTimestamp(*ts, now_seconds, tolerance_seconds);
}

std::optional<int64_t> ParseDecimalMinor(std::string_view s) {
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() || frac.size() > 2 || (dot != std::string_view::npos && frac.empty()))
    return std::nullopt;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto w = ParseSeconds(whole);
  if (!w || *w < 0 || whole.front() == '+') return std::nullopt;
  int64_t f = frac.empty() ? 0 : std::stoll(std::string(frac));
  if (frac.size() == 1) f *= 10;
  return *w * 100 + f;
}

std::string FormatDecimalMinor(int64_t minor) {
  std::string cents = std::to_string(minor % 100);
  return std::to_string(minor / 100) + "." + (cents.size() == 1 ? "0" + cents : cents);
}

Result<std::string> CarrierWebhookSecret(const std::string& configured, const std::filesystem::path& data_dir,
                                         std::string_view carrier) {
  if (!configured.empty()) return configured;
  std::filesystem::path dir = data_dir / "carrier-secrets";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  std::filesystem::path file = dir / (std::string(carrier) + ".key");
  // O_EXCL: when two processes sharing the data dir race, one creates and both read its secret.
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    std::string secret = crypto::Base64UrlEncode(crypto::RandomBytes(32));
    bool ok =
        ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Internal("cannot write " + file.string());
    return secret;
  }
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!ss.str().empty()) return ss.str();
    ::usleep(10'000);  // the creator has not written it yet
  }
  return Internal("cannot read " + file.string());
}

}  // namespace emporium::fulfillment
