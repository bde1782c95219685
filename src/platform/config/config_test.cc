#include "platform/config/config.h"

#include <gtest/gtest.h>

namespace emporium::config {
namespace {

std::vector<Key> Schema() {
  return {
      {"http-port", Type::kInt, "8080", "port",
       [](std::string_view v) { return std::atoi(std::string(v).c_str()) < 65536 ? "" : "too big"; }},
      {"data-dir", Type::kString, "./var", "dir"},
      {"access-log", Type::kBool, "true", "log"},
      {"request-timeout", Type::kDuration, "30s", "timeout"},
      {"target", Type::kList, "all", "targets"},
  };
}

TEST(Config, DefaultsEnvAndFlagsInPrecedence) {
  auto schema = Schema();
  auto c = Config::Load(schema, {"--http-port=9000"},
                        {"EMPORIUM_HTTP_PORT=7000", "EMPORIUM_DATA_DIR=/tmp/x", "PATH=/bin"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Int("http-port"), 9000);
  EXPECT_EQ(c->Source("http-port"), "flag");
  EXPECT_EQ(c->Get("data-dir"), "/tmp/x");
  EXPECT_EQ(c->Source("data-dir"), "env");
  EXPECT_TRUE(c->Bool("access-log"));
  EXPECT_EQ(c->Source("access-log"), "default");
  EXPECT_EQ(c->Duration("request-timeout"), Millis(30'000));
  EXPECT_EQ(c->List("target"), std::vector<std::string>{"all"});
}

TEST(Config, SpaceSeparatedFlagsBoolsAndLists) {
  auto schema = Schema();
  auto c = Config::Load(schema, {"--data-dir", "/d", "--access-log", "--target=cart, order"}, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Get("data-dir"), "/d");
  EXPECT_TRUE(c->Bool("access-log"));
  EXPECT_EQ(c->List("target"), (std::vector<std::string>{"cart", "order"}));
}

TEST(Config, UnknownFlagFailsWithItsName) {
  auto schema = Schema();
  auto c = Config::Load(schema, {"--htp-port=1"}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--htp-port"), std::string::npos);
}

TEST(Config, UnknownEnvFailsWithItsName) {
  auto schema = Schema();
  auto c = Config::Load(schema, {}, {"EMPORIUM_HTTP_PROT=1"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("EMPORIUM_HTTP_PROT"), std::string::npos);
}

TEST(Config, BadValuesFailWithWhatIsExpected) {
  auto schema = Schema();
  auto bad_int = Config::Load(schema, {"--http-port=abc"}, {});
  ASSERT_FALSE(bad_int.ok());
  EXPECT_NE(bad_int.status().message().find("integer"), std::string::npos);
  EXPECT_FALSE(Config::Load(schema, {"--http-port=70000"}, {}).ok());
  EXPECT_FALSE(Config::Load(schema, {"--access-log=maybe"}, {}).ok());
  EXPECT_FALSE(Config::Load(schema, {"--request-timeout=5 minutes"}, {}).ok());
  EXPECT_FALSE(Config::Load(schema, {}, {"EMPORIUM_REQUEST_TIMEOUT=10"}).ok());
  EXPECT_FALSE(Config::Load(schema, {"--data-dir"}, {}).ok());
  EXPECT_FALSE(Config::Load(schema, {"stray"}, {}).ok());
}

TEST(Config, Durations) {
  EXPECT_EQ(ParseDuration("250ms").value(), Millis(250));
  EXPECT_EQ(ParseDuration("2s").value(), Millis(2000));
  EXPECT_EQ(ParseDuration("5m").value(), Millis(300'000));
  EXPECT_EQ(ParseDuration("1h").value(), Millis(3'600'000));
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("10d").ok());
}

TEST(Config, EnvNames) {
  EXPECT_EQ(Config::EnvName("http-port"), "EMPORIUM_HTTP_PORT");
}

}  // namespace
}  // namespace emporium::config
