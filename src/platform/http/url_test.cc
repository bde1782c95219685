#include "platform/http/url.h"

#include <gtest/gtest.h>

#include "platform/http/http.h"

namespace emporium::http {
namespace {

TEST(Url, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(PercentDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(PercentDecode("100%", true), "100%");
  EXPECT_EQ(PercentDecode("%zz%4", true), "%zz%4");
  EXPECT_EQ(PercentDecode("%C3%A9", true), "\xC3\xA9");
}

TEST(Url, DecodePathIsStrict) {
  EXPECT_EQ(DecodePath("/v1/products/a%2Fb").value(), "/v1/products/a/b");
  EXPECT_FALSE(DecodePath("/v1/%zz").has_value());
  EXPECT_FALSE(DecodePath("/v1/%4").has_value());
  EXPECT_FALSE(DecodePath("/v1/%00x").has_value());
}

TEST(Url, PercentEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b+c&d=e/f?g#h%"), "a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25");
  EXPECT_EQ(PercentEncode("\xC3\xA9"), "%C3%A9");
  EXPECT_EQ(PercentEncode(std::string_view("\0\x7F\xFF", 3)), "%00%7F%FF");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(Url, PercentEncodeRoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string encoded = PercentEncode(all);
  EXPECT_EQ(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%"),
            std::string::npos);
  EXPECT_EQ(PercentDecode(encoded, true), all);
  EXPECT_EQ(DecodePath(PercentEncode("a/b c")).value(), "a/b c");
}

TEST(Url, FormEncode) {
  EXPECT_EQ(FormEncode({}), "");
  EXPECT_EQ(FormEncode({{"grant_type", "password"}, {"user name", "a&b=c"}, {"empty", ""}}),
            "grant_type=password&user%20name=a%26b%3Dc&empty=");
  Request r;
  r.query = FormEncode({{"q", "red shoes+socks"}, {"x", "%26"}});
  EXPECT_EQ(r.QueryParam("q").value(), "red shoes+socks");
  EXPECT_EQ(r.QueryParam("x").value(), "%26");
}

TEST(Url, QueryParams) {
  Request r;
  r.query = "q=red+shoes&page_size=5&empty&x=%26";
  EXPECT_EQ(r.QueryParam("q").value(), "red shoes");
  EXPECT_EQ(r.QueryParam("page_size").value(), "5");
  EXPECT_EQ(r.QueryParam("empty").value(), "");
  EXPECT_EQ(r.QueryParam("x").value(), "&");
  EXPECT_FALSE(r.QueryParam("missing").has_value());
}

TEST(Headers, CaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "application/json");
  EXPECT_EQ(h.Get("content-type").value(), "application/json");
  h.Set("CONTENT-TYPE", "text/plain");
  EXPECT_EQ(h.all().size(), 1u);
  EXPECT_EQ(h.Get("Content-Type").value(), "text/plain");
  h.Remove("content-type");
  EXPECT_FALSE(h.Get("Content-Type").has_value());
}

}  // namespace
}  // namespace emporium::http
