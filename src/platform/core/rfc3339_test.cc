#include "platform/core/rfc3339.h"

#include <gtest/gtest.h>

#include <chrono>

#include "platform/core/clock.h"

namespace emporium {
namespace {

TEST(Rfc3339, FormatsUnixMillisInUtcWithThreeFractionDigits) {
  EXPECT_EQ(FormatRfc3339UnixMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339UnixMillis(1'767'225'600'000), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339UnixMillis(1'767'225'600'007), "2026-01-01T00:00:00.007Z");
  EXPECT_EQ(FormatRfc3339UnixMillis(1'795'689'589'123), "2026-11-26T10:39:49.123Z");
  EXPECT_EQ(FormatRfc3339UnixMillis(1'709'251'199'999), "2024-02-29T23:59:59.999Z");
}

TEST(Rfc3339, AgreesWithFormatRfc3339ThroughUnixMillis) {
  // Sub-millisecond digits are dropped the same way on both paths.
  const SystemTime t(std::chrono::microseconds(1'767'225'723'456'789));
  EXPECT_EQ(FormatRfc3339UnixMillis(UnixMillis(t)), FormatRfc3339(t));
  EXPECT_EQ(FormatRfc3339UnixMillis(UnixMillis(t)), "2026-01-01T00:02:03.456Z");
}

}  // namespace
}  // namespace emporium
