// Who the client is when Emporium runs behind a reverse proxy, load balancer or CDN.
//
// A request's socket peer is the proxy; the proxy names the client in X-Forwarded-For (and a
// CDN its country, e.g. Cloudflare's CF-IPCountry). Those headers are believed only when the
// peer is a trusted proxy (config trusted-proxies, CIDR list; by default loopback, where a local
// reverse proxy or the shop's own tools sit). The client is then the right-most address of the
// X-Forwarded-For chain that is not itself a trusted proxy, so a client cannot forge its address
// by sending the header itself: the proxy appends what it saw. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"

namespace emporium::http {

class TrustedProxies {
 public:
  // "127.0.0.0/8,::1/128,10.0.0.0/8" (a bare address means /32 or /128; empty: none trusted).
  // kInvalidArgument naming the malformed entry.
  static Result<TrustedProxies> Parse(std::string_view list);
  bool Contains(std::string_view address) const;

 private:
  struct Net {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;
  };
  std::vector<Net> nets_;
};

struct ClientOrigin {
  std::string address;  // the client's IP address as text
  std::string country;  // ISO 3166 alpha-2 from a trusted proxy's country header; empty if none
};

// `peer` is the socket peer; `forwarded_for` and `country` the X-Forwarded-For and
// X-Client-Country/CF-IPCountry header values when present. Malformed entries in the chain stop
// the walk (the last good address wins), and a country that is not two letters is dropped.
ClientOrigin ResolveClient(std::string_view peer, std::optional<std::string_view> forwarded_for,
                           std::optional<std::string_view> country, const TrustedProxies& trusted);

}  // namespace emporium::http
