#include <gtest/gtest.h>

#include "platform/crypto/crypto.h"

namespace emporium::crypto {
namespace {

std::string Hex(std::string_view bytes) {
  return HexEncode(bytes);
}

TEST(Base64Url, Rfc4648Vectors) {
  // RFC 4648 §10, unpadded as RFC 7515 §2 requires.
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(back.ok()) << s;
    EXPECT_EQ(*back, s);
  }
}

TEST(Base64Url, Rfc7515Vectors) {
  // RFC 7515 Appendix C: the URL-safe alphabet.
  const std::string octets{'\x03', '\xec', '\xff', '\xe0', '\xc1'};
  EXPECT_EQ(Base64UrlEncode(octets), "A-z_4ME");
  EXPECT_EQ(*Base64UrlDecode("A-z_4ME"), octets);
  // RFC 7515 Appendix A.1: the JWS protected header.
  EXPECT_EQ(Base64UrlEncode("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"),
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
}

TEST(Base64Url, RejectsPaddingStandardAlphabetAndGarbage) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").ok());
  EXPECT_FALSE(Base64UrlDecode("A+z/4ME").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9v!").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9v Yg").ok());
  EXPECT_FALSE(Base64UrlDecode("Z").ok());  // a single character cannot encode a byte
  EXPECT_EQ(Base64UrlDecode("Zg==").status().code(), Code::kInvalidArgument);
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "Zh" decodes to 'f' with non-zero leftover bits: accepting it would make tokens malleable.
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());
}

TEST(Hex, RoundTripAndRejects) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(*HexDecode("0001abff"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(*HexDecode("ABFF"), "\xab\xff");
  EXPECT_EQ(*HexDecode(""), "");
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(HexDecode("ab ").ok());
}

TEST(Sha256, Vectors) {
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HmacSha256, Rfc4231Vectors) {
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Test cases 6 and 7: keys longer than the block size are hashed first.
  EXPECT_EQ(
      Hex(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(
      Hex(HmacSha256(std::string(131, '\xaa'),
                     "This is a test using a larger than block-size key and a larger than block-size data. "
                     "The key needs to be hashed before being used by the HMAC algorithm.")),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(Random, SizesAndUniqueness) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(24).size(), 24u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
  std::string token = RandomToken();
  EXPECT_EQ(token.size(), 43u);  // 32 bytes, unpadded base64url
  EXPECT_EQ(Base64UrlDecode(token)->size(), 32u);
  EXPECT_NE(token, RandomToken());
}

TEST(BlindIndex, DeterministicAndKeyDependent) {
  std::string key1 = RandomBytes(32), key2 = RandomBytes(32);
  std::string a = BlindIndex(key1, "alice@example.com");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, BlindIndex(key1, "alice@example.com"));
  EXPECT_NE(a, BlindIndex(key2, "alice@example.com"));
  EXPECT_NE(a, BlindIndex(key1, "bob@example.com"));
  EXPECT_EQ(a.find("alice"), std::string::npos);
}

}  // namespace
}  // namespace emporium::crypto
