#include "platform/http/forwarded.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

namespace emporium::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses an IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as IPv4).
bool ParseAddress(std::string_view text, bool* v6, std::array<uint8_t, 16>* bytes) {
  if (text.empty() || text.size() >= 64) return false;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  bytes->fill(0);
  if (inet_pton(AF_INET, buf, bytes->data()) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, buf, bytes->data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes->data(), kMapped, 12) == 0) {
    std::memmove(bytes->data(), bytes->data() + 12, 4);
    std::memset(bytes->data() + 4, 0, 12);
    *v6 = false;
    return true;
  }
  *v6 = true;
  return true;
}

bool PrefixMatches(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view entry = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry.empty()) continue;
    std::string_view addr = entry;
    int prefix = -1;
    if (size_t slash = entry.find('/'); slash != std::string_view::npos) {
      addr = entry.substr(0, slash);
      std::string_view p = entry.substr(slash + 1);
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (ec != std::errc() || end != p.data() + p.size())
        return InvalidArgument("trusted proxy '" + std::string(entry) + "': bad prefix length");
    }
    Net net;
    if (!ParseAddress(addr, &net.v6, &net.bytes))
      return InvalidArgument("trusted proxy '" + std::string(entry) + "' is not an IP address or CIDR");
    const int max = net.v6 ? 128 : 32;
    if (prefix == -1) prefix = max;
    if (prefix < 0 || prefix > max)
      return InvalidArgument("trusted proxy '" + std::string(entry) + "': prefix must be 0.." +
                             std::to_string(max));
    net.prefix = prefix;
    out.nets_.push_back(net);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view address) const {
  bool v6 = false;
  std::array<uint8_t, 16> bytes;
  if (!ParseAddress(Trim(address), &v6, &bytes)) return false;
  for (const Net& n : nets_)
    if (n.v6 == v6 && PrefixMatches(n.bytes, bytes, n.prefix)) return true;
  return false;
}

ClientOrigin ResolveClient(std::string_view peer, std::optional<std::string_view> forwarded_for,
                           std::optional<std::string_view> country, const TrustedProxies& trusted) {
  ClientOrigin out{std::string(peer), ""};
  if (!trusted.Contains(peer)) return out;
  if (forwarded_for) {
    std::string_view chain = *forwarded_for;
    while (!chain.empty()) {
      size_t comma = chain.rfind(',');
      std::string_view hop = Trim(comma == std::string_view::npos ? chain : chain.substr(comma + 1));
      chain = comma == std::string_view::npos ? std::string_view() : chain.substr(0, comma);
      bool v6 = false;
      std::array<uint8_t, 16> bytes;
      if (!ParseAddress(hop, &v6, &bytes)) break;
      out.address = std::string(hop);
      if (!trusted.Contains(hop)) break;
    }
  }
  if (country) {
    std::string_view c = Trim(*country);
    if (c.size() == 2 && std::isalpha(static_cast<unsigned char>(c[0])) &&
        std::isalpha(static_cast<unsigned char>(c[1]))) {
      out.country = {static_cast<char>(std::toupper(static_cast<unsigned char>(c[0]))),
                     static_cast<char>(std::toupper(static_cast<unsigned char>(c[1])))};
    }
  }
  return out;
}

}  // namespace emporium::http
