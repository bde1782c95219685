#include <gtest/gtest.h>

#include <vector>

#include "platform/crypto/crypto.h"

namespace emporium::crypto {
namespace {

Aead MakeAead(std::map<std::string, std::string> keys, std::string primary) {
  auto aead = Aead::Create(std::move(keys), std::move(primary));
  EXPECT_TRUE(aead.ok()) << aead.status().ToString();
  return std::move(aead).value();
}

TEST(Aead, RoundTrip) {
  Aead aead = MakeAead({{"k1", RandomBytes(32)}}, "k1");
  auto ct = aead.Seal("alice@example.com", "users.email:42");
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->rfind("k1:", 0), 0u);
  EXPECT_EQ(ct->find("alice"), std::string::npos);
  auto pt = aead.Open(*ct, "users.email:42");
  ASSERT_TRUE(pt.ok()) << pt.status().ToString();
  EXPECT_EQ(*pt, "alice@example.com");
  EXPECT_EQ(*aead.Open(*aead.Seal("", "c"), "c"), "");
}

TEST(Aead, RandomNonceSoSealsDiffer) {
  Aead aead = MakeAead({{"k1", RandomBytes(32)}}, "k1");
  EXPECT_NE(*aead.Seal("same", "ctx"), *aead.Seal("same", "ctx"));
}

TEST(Aead, TamperedCiphertextIsPermissionDenied) {
  Aead aead = MakeAead({{"k1", RandomBytes(32)}}, "k1");
  std::string ct = *aead.Seal("secret", "ctx");
  std::string raw = *Base64UrlDecode(ct.substr(3));
  for (size_t i : {size_t{0}, size_t{30}, raw.size() - 1}) {  // nonce, body, tag
    std::string bad = raw;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_EQ(aead.Open("k1:" + Base64UrlEncode(bad), "ctx").status().code(), Code::kPermissionDenied) << i;
  }
}

TEST(Aead, WrongContextFails) {
  Aead aead = MakeAead({{"k1", RandomBytes(32)}}, "k1");
  std::string ct = *aead.Seal("alice@example.com", "users.email:42");
  EXPECT_EQ(aead.Open(ct, "users.email:43").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(aead.Open(ct, "users.name:42").status().code(), Code::kPermissionDenied);
}

TEST(Aead, UnknownKidIsNotFound) {
  Aead a = MakeAead({{"k1", RandomBytes(32)}}, "k1");
  Aead b = MakeAead({{"k2", RandomBytes(32)}}, "k2");
  EXPECT_EQ(b.Open(*a.Seal("x", "c"), "c").status().code(), Code::kNotFound);
}

TEST(Aead, MalformedCiphertextIsInvalidArgument) {
  Aead aead = MakeAead({{"k1", RandomBytes(32)}}, "k1");
  for (const std::string& bad :
       std::vector<std::string>{"", "k1", ":abc", "k1:!!!", "k1:" + Base64UrlEncode("short")}) {
    EXPECT_EQ(aead.Open(bad, "c").status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Aead, KeyRotationKeepsOldCiphertextsReadable) {
  std::string k1 = RandomBytes(32), k2 = RandomBytes(32);
  Aead old_ring = MakeAead({{"k1", k1}}, "k1");
  std::string old_ct = *old_ring.Seal("old data", "ctx");

  Aead new_ring = MakeAead({{"k1", k1}, {"k2", k2}}, "k2");
  EXPECT_EQ(*new_ring.Open(old_ct, "ctx"), "old data");
  std::string new_ct = *new_ring.Seal("new data", "ctx");
  EXPECT_EQ(new_ct.rfind("k2:", 0), 0u);
  EXPECT_EQ(*new_ring.Open(new_ct, "ctx"), "new data");
  EXPECT_EQ(old_ring.Open(new_ct, "ctx").status().code(), Code::kNotFound);
}

TEST(Aead, CreateValidatesKeys) {
  EXPECT_EQ(Aead::Create({{"k1", RandomBytes(16)}}, "k1").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Aead::Create({{"k1", RandomBytes(32)}}, "k2").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Aead::Create({{"bad:kid", RandomBytes(32)}}, "bad:kid").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Aead::Create({}, "").status().code(), Code::kInvalidArgument);
}

TEST(KeyRing, ParsesEntriesFirstIsPrimary) {
  std::string k1 = RandomBytes(32), k2 = RandomBytes(32);
  auto ring = ParseKeyRing(FormatKeyRingEntry("k2", k2) + ", " + FormatKeyRingEntry("k1", k1));
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->primary_kid, "k2");
  EXPECT_EQ(ring->keys.at("k1"), k1);
  EXPECT_EQ(ring->keys.at("k2"), k2);
  EXPECT_TRUE(Aead::Create(ring->keys, ring->primary_kid).ok());
}

TEST(KeyRing, BareKeyGetsDefaultKid) {
  std::string k = RandomBytes(32);
  auto ring = ParseKeyRing(Base64UrlEncode(k));
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->primary_kid, "k1");
  EXPECT_EQ(ring->keys.at("k1"), k);
}

TEST(KeyRing, RejectsMalformedWithoutEchoingTheKey) {
  std::string short_key = Base64UrlEncode(RandomBytes(16));
  auto r = ParseKeyRing("k1:" + short_key);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find(short_key), std::string::npos);
  EXPECT_FALSE(ParseKeyRing("").ok());
  EXPECT_FALSE(ParseKeyRing("k1:%%%").ok());
  std::string k = Base64UrlEncode(RandomBytes(32));
  EXPECT_FALSE(ParseKeyRing("k1:" + k + ",k1:" + k).ok());
  EXPECT_FALSE(ParseKeyRing("k1:" + k + "," + k).ok());
}

}  // namespace
}  // namespace emporium::crypto
