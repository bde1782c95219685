#include "services/catalog/product_cache.h"

#include <gtest/gtest.h>

namespace emporium::catalog {
namespace {

Product Named(std::string title) {
  Product p;
  p.id = "p-1";
  p.title = std::move(title);
  return p;
}

TEST(ProductCache, HitsUntilInvalidatedOrExpired) {
  FakeClock clock;
  ProductCache cache(clock, Millis(2000));
  EXPECT_FALSE(cache.Get("p-1"));
  cache.Put("p-1", Named("old"), cache.generation());
  ASSERT_TRUE(cache.Get("p-1"));
  EXPECT_EQ(cache.Get("p-1")->title, "old");
  cache.Invalidate();
  EXPECT_FALSE(cache.Get("p-1")) << "a local write drops every entry";
  cache.Put("p-1", Named("new"), cache.generation());
  clock.Advance(std::chrono::milliseconds(2001));
  EXPECT_FALSE(cache.Get("p-1")) << "another process's write is seen after the ttl";
}

TEST(ProductCache, AReadRacingAWriteIsNotCached) {
  FakeClock clock;
  ProductCache cache(clock, Millis(2000));
  const uint64_t before_read = cache.generation();
  cache.Invalidate();  // a write committed while the value was being read
  cache.Put("p-1", Named("maybe stale"), before_read);
  EXPECT_FALSE(cache.Get("p-1"));
}

TEST(ProductCache, ZeroTtlDisablesIt) {
  FakeClock clock;
  ProductCache cache(clock, Millis(0));
  cache.Put("p-1", Named("x"), cache.generation());
  EXPECT_FALSE(cache.Get("p-1"));
}

}  // namespace
}  // namespace emporium::catalog
