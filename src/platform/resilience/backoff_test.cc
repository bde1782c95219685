#include "platform/resilience/backoff.h"

#include <gtest/gtest.h>

namespace emporium::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(BackoffTest, CeilingGrowsGeometricallyUntilCap) {
  Backoff b({.base = milliseconds(10), .cap = milliseconds(100), .multiplier = 2.0});
  EXPECT_EQ(b.Ceiling(0), milliseconds(10));
  EXPECT_EQ(b.Ceiling(1), milliseconds(20));
  EXPECT_EQ(b.Ceiling(2), milliseconds(40));
  EXPECT_EQ(b.Ceiling(3), milliseconds(80));
  EXPECT_EQ(b.Ceiling(4), milliseconds(100));
  EXPECT_EQ(b.Ceiling(1000), milliseconds(100));  // saturates, no overflow
}

TEST(BackoffTest, FullJitterScalesCeiling) {
  double unit = 0.5;
  Backoff b({.base = milliseconds(10), .cap = milliseconds(100), .multiplier = 3.0}, [&] { return unit; });
  EXPECT_EQ(b.Delay(0), milliseconds(5));
  EXPECT_EQ(b.Delay(1), milliseconds(15));
  unit = 0.0;
  EXPECT_EQ(b.Delay(2), nanoseconds(0));
  unit = 0.999;
  EXPECT_EQ(b.Delay(5), nanoseconds(99'900'000));
}

TEST(BackoffTest, OutOfRangeJitterIsClamped) {
  double unit = 7.0;
  Backoff b({.base = milliseconds(10), .cap = milliseconds(50)}, [&] { return unit; });
  EXPECT_EQ(b.Delay(0), milliseconds(10));
  unit = -1.0;
  EXPECT_EQ(b.Delay(0), nanoseconds(0));
}

TEST(BackoffTest, DefaultJitterStaysWithinBounds) {
  Backoff b({.base = milliseconds(10), .cap = milliseconds(40)});
  bool saw_below_half = false;
  for (int i = 0; i < 1000; ++i) {
    for (int retry = 0; retry < 4; ++retry) {
      auto d = b.Delay(retry);
      ASSERT_GE(d, nanoseconds(0));
      ASSERT_LE(d, b.Ceiling(retry));
      if (retry == 3 && d < milliseconds(20)) saw_below_half = true;
    }
  }
  EXPECT_TRUE(saw_below_half) << "full jitter should reach the lower half of the range";
}

TEST(BackoffTest, MultiplierBelowOneMeansConstant) {
  Backoff b({.base = milliseconds(10), .cap = milliseconds(100), .multiplier = 0.5});
  EXPECT_EQ(b.Ceiling(5), milliseconds(10));
}

}  // namespace
}  // namespace emporium::resilience
