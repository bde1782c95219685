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

TEST(Rfc3339, ParsesWhatItFormatsAndOffsets) {
  for (int64_t ms :
       {int64_t{0}, int64_t{1'767'225'600'007}, int64_t{1'709'251'199'999}, int64_t{-86'400'000}})
    EXPECT_EQ(ParseRfc3339UnixMillis(FormatRfc3339UnixMillis(ms)), ms);
  EXPECT_EQ(ParseRfc3339UnixMillis("2026-01-01T01:00:00+01:00"), 1'767'225'600'000);
  EXPECT_EQ(ParseRfc3339UnixMillis("2025-12-31T19:00:00-05:00"), 1'767'225'600'000);
  EXPECT_EQ(ParseRfc3339UnixMillis("2026-01-01t00:00:00.5z"), 1'767'225'600'500);
  EXPECT_EQ(ParseRfc3339UnixMillis("2026-01-01T00:00:00.123456Z"), 1'767'225'600'123);
  EXPECT_EQ(ParseRfc3339UnixMillis("2025-12-31T19:30:00.250-04:30"), 1'767'225'600'250);
  EXPECT_EQ(ParseRfc3339UnixMillis("1969-12-31T23:59:59Z"), -1000);
}

TEST(Rfc3339, RejectsMalformedAndOutOfRangeTimes) {
  for (std::string_view bad :
       {"", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00Zjunk", "20x6-01-01T00:00:00Z",
        "2026-01-01T00:00:00+24:00"})
    EXPECT_FALSE(ParseRfc3339UnixMillis(bad).has_value()) << bad;
  EXPECT_TRUE(ParseRfc3339UnixMillis("2024-02-29T00:00:00Z").has_value());
}

}  // namespace
}  // namespace emporium
