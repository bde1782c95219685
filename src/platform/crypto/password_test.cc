#include <gtest/gtest.h>

#include "platform/crypto/crypto.h"

namespace emporium::crypto {
namespace {

// Cheap enough for tests; production cost comes from config.
constexpr PasswordCost kLow{.ops_limit = 1, .mem_limit = 64 * 1024};

TEST(Password, HashAndVerifyRoundTrip) {
  auto hash = HashPassword("correct horse battery staple", kLow);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_NE(hash->find("m=64,t=1"), std::string::npos) << *hash;  // parameters recorded in the PHC string
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST(Password, SaltedSoEqualPasswordsHashDifferently) {
  EXPECT_NE(*HashPassword("same password", kLow), *HashPassword("same password", kLow));
}

TEST(Password, MalformedHashNeverVerifies) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
  EXPECT_FALSE(VerifyPassword(std::string("$argon2id\0$", 11), "x"));
  EXPECT_FALSE(VerifyPassword(std::string(500, 'a'), "x"));
}

TEST(Password, NeedsRehashWhenCostRaised) {
  auto hash = HashPassword("pa55word-long-enough", kLow);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(NeedsRehash(*hash, kLow));
  EXPECT_TRUE(NeedsRehash(*hash, {.ops_limit = 2, .mem_limit = kLow.mem_limit}));
  EXPECT_TRUE(NeedsRehash(*hash, {.ops_limit = 1, .mem_limit = 128 * 1024}));
  EXPECT_TRUE(NeedsRehash("not a hash", kLow));
}

TEST(Password, RejectsCostOutOfRange) {
  EXPECT_EQ(HashPassword("x", {.ops_limit = 0, .mem_limit = kLow.mem_limit}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(HashPassword("x", {.ops_limit = 1, .mem_limit = 1024}).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace emporium::crypto
