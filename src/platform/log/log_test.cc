#include "platform/log/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <mutex>
#include <vector>

namespace emporium::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetSink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    SetSink(nullptr);
    SetLevel(Level::kInfo);
  }
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(LogTest, LinesAreValidJsonWithEscapedStrings) {
  Info("hello \"world\"\n\ttab \x01 ctrl",
       {{"request_id", "r-1"}, {"n", 3}, {"ok", true}, {"ms", 1.5}, {"evil", "}\",\"level\":\"error"}});
  ASSERT_EQ(lines_.size(), 1u);
  auto v = boost::json::parse(lines_[0]).as_object();
  EXPECT_EQ(v.at("level").as_string(), "info");
  EXPECT_EQ(v.at("msg").as_string(), "hello \"world\"\n\ttab \x01 ctrl");
  EXPECT_EQ(v.at("request_id").as_string(), "r-1");
  EXPECT_EQ(v.at("n").as_int64(), 3);
  EXPECT_EQ(v.at("ok").as_bool(), true);
  EXPECT_EQ(v.at("evil").as_string(), "}\",\"level\":\"error");
  EXPECT_TRUE(v.contains("ts"));
}

TEST_F(LogTest, LevelFilters) {
  SetLevel(Level::kWarn);
  Info("dropped");
  Warn("kept");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("kept"), std::string::npos);
}

TEST(LogLevel, Parse) {
  Level l;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose", &l));
}

}  // namespace
}  // namespace emporium::log
