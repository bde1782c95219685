#include "services/identity/keys.h"

#include <gtest/gtest.h>

#include "platform/core/random.h"

namespace emporium::identity {
namespace {

std::string Key() {
  return crypto::Base64UrlEncode(crypto::RandomBytes(32));
}

TEST(DataKeys, ConfiguredKeyRingWithRotation) {
  ASSERT_TRUE(crypto::Init().ok());
  std::string k1 = Key(), k2 = Key(), idx = Key();
  auto old_ring = LoadDataKeys({"k1:" + k1, idx, true, {}});
  ASSERT_TRUE(old_ring.ok()) << old_ring.status().ToString();
  auto sealed = old_ring->aead.Seal("ada@example.com", "users.email:1");
  ASSERT_TRUE(sealed.ok());
  // k2 becomes primary; k1 stays readable.
  auto ring = LoadDataKeys({"k2:" + k2 + ",k1:" + k1, idx, true, {}});
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->aead.primary_kid(), "k2");
  EXPECT_EQ(*ring->aead.Open(*sealed, "users.email:1"), "ada@example.com");
  EXPECT_FALSE(ring->aead.Open(*sealed, "users.email:2").ok());
  EXPECT_EQ(ring->index_key.size(), 32u);
}

TEST(DataKeys, RejectsMalformedKeys) {
  ASSERT_TRUE(crypto::Init().ok());
  EXPECT_EQ(LoadDataKeys({"k1:short", Key(), true, {}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LoadDataKeys({Key(), "bad!", true, {}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(LoadDataKeys({":" + Key(), Key(), true, {}}).status().code(), Code::kInvalidArgument);
}

TEST(DataKeys, GeneratedFileIsReused) {
  ASSERT_TRUE(crypto::Init().ok());
  auto path = std::filesystem::path(::testing::TempDir()) / ("keys-" + NewUuid()) / "identity.keys";
  auto a = LoadDataKeys({"", "", false, path});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = LoadDataKeys({"", "", false, path});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->index_key, b->index_key);
  auto sealed = a->aead.Seal("x", "c");
  EXPECT_EQ(*b->aead.Open(*sealed, "c"), "x");
}

}  // namespace
}  // namespace emporium::identity
