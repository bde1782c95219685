#include "platform/http/forwarded.h"

#include <gtest/gtest.h>

namespace emporium::http {
namespace {

TrustedProxies Trusted(std::string_view list) {
  auto t = TrustedProxies::Parse(list);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : TrustedProxies();
}

TEST(TrustedProxies, CidrsOfBothFamilies) {
  TrustedProxies t = Trusted("127.0.0.0/8, ::1, 10.1.0.0/16");
  EXPECT_TRUE(t.Contains("127.4.5.6"));
  EXPECT_TRUE(t.Contains("::1"));
  EXPECT_TRUE(t.Contains("::ffff:127.0.0.1"));
  EXPECT_TRUE(t.Contains("10.1.200.3"));
  EXPECT_FALSE(t.Contains("10.2.0.1"));
  EXPECT_FALSE(t.Contains("::2"));
  EXPECT_FALSE(t.Contains("not-an-ip"));
}

TEST(TrustedProxies, MalformedEntriesAreNamed) {
  for (std::string_view bad : {"127.0.0.1/33", "::1/129", "300.1.1.1", "10.0.0.0/x", "1.2.3.4/"}) {
    auto t = TrustedProxies::Parse(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.status().message().find(std::string(bad)), std::string::npos);
  }
  EXPECT_TRUE(TrustedProxies::Parse("").ok());
}

TEST(ResolveClient, BelievesForwardedForOnlyFromTrustedPeers) {
  TrustedProxies t = Trusted("127.0.0.0/8");
  EXPECT_EQ(ResolveClient("127.0.0.1", "203.0.113.9", "de", t).address, "203.0.113.9");
  EXPECT_EQ(ResolveClient("127.0.0.1", "203.0.113.9", "de", t).country, "DE");
  ClientOrigin direct = ResolveClient("198.51.100.1", "203.0.113.9", "DE", t);
  EXPECT_EQ(direct.address, "198.51.100.1");
  EXPECT_EQ(direct.country, "");
}

TEST(ResolveClient, TakesTheRightmostUntrustedHop) {
  TrustedProxies t = Trusted("127.0.0.0/8,10.0.0.0/8");
  // The client sent a forged first entry; the proxies appended what they saw.
  EXPECT_EQ(ResolveClient("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.5", std::nullopt, t).address,
            "203.0.113.9");
  // A malformed hop stops the walk at the last good address.
  EXPECT_EQ(ResolveClient("127.0.0.1", "garbage, 10.0.0.5", std::nullopt, t).address, "10.0.0.5");
  EXPECT_EQ(ResolveClient("127.0.0.1", std::nullopt, std::nullopt, t).address, "127.0.0.1");
}

TEST(ResolveClient, DropsCountriesThatAreNotTwoLetters) {
  TrustedProxies t = Trusted("127.0.0.1");
  EXPECT_EQ(ResolveClient("127.0.0.1", std::nullopt, "DEU", t).country, "");
  EXPECT_EQ(ResolveClient("127.0.0.1", std::nullopt, "1X", t).country, "");
  EXPECT_EQ(ResolveClient("127.0.0.1", std::nullopt, " fr ", t).country, "FR");
}

}  // namespace
}  // namespace emporium::http
