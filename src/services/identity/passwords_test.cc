#include "services/identity/passwords.h"

#include <gtest/gtest.h>

namespace emporium::identity {
namespace {

TEST(Passwords, PolicyRejectsShortCommonAndPaddedWords) {
  EXPECT_NE(CheckPassword("short", "a@b.c"), "");
  EXPECT_NE(CheckPassword("1234567890", "a@b.c"), "");
  EXPECT_NE(CheckPassword("QwertyUiop", "a@b.c"), "");
  EXPECT_NE(CheckPassword("Password2024!", "a@b.c"), "");
  EXPECT_NE(CheckPassword("!!iloveyou!!", "a@b.c"), "");
  EXPECT_NE(CheckPassword("aaaaaaaaaaaa", "a@b.c"), "");
  EXPECT_NE(CheckPassword("johnsmith123", "johnsmith@example.com"), "");
  EXPECT_NE(CheckPassword(std::string(300, 'x') + "y", "a@b.c"), "");
  EXPECT_EQ(CheckPassword("correct horse battery", "a@b.c"), "");
  EXPECT_EQ(CheckPassword("Tr0ub4dor&3-xk", "a@b.c"), "");
  EXPECT_EQ(CheckPassword("Password2024!", "a@b.c").find("Password"), std::string::npos);
}

}  // namespace
}  // namespace emporium::identity
