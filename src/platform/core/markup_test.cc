#include "platform/core/markup.h"

#include <gtest/gtest.h>

namespace emporium {
namespace {

TEST(EscapeMarkup, ReplacesTheFiveSpecialCharactersOnly) {
  EXPECT_EQ(EscapeMarkup(R"(<a href="x?y=1&z='2'">Tom & Jerry</a>)"),
            "&lt;a href=&quot;x?y=1&amp;z=&#39;2&#39;&quot;&gt;Tom &amp; Jerry&lt;/a&gt;");
  EXPECT_EQ(EscapeMarkup("Crème brûlée 100%"), "Crème brûlée 100%");
  EXPECT_EQ(EscapeMarkup(""), "");
}

}  // namespace
}  // namespace emporium
