// The batch schema and the RFC 3339 parser, as pure functions.
#include "services/behavior/schema.h"

#include <gtest/gtest.h>

#include "platform/core/json.h"

namespace emporium::behavior {
namespace {

constexpr int64_t kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

std::vector<FieldIssue> Issues(std::string_view body) {
  std::vector<FieldIssue> issues;
  auto events = ParseBatch(body, Limits{}, kNow, &issues);
  EXPECT_TRUE(events.empty() || issues.empty());
  return issues;
}

bool Names(const std::vector<FieldIssue>& issues, const std::string& field) {
  for (const FieldIssue& i : issues) {
    if (i.field == field) return true;
  }
  return false;
}

TEST(Ids, PatternAndLength) {
  EXPECT_TRUE(IsId("p-000042"));
  EXPECT_TRUE(IsId("srch_01HV.x:Y-9"));
  EXPECT_TRUE(IsId(std::string(64, 'a')));
  EXPECT_FALSE(IsId(std::string(65, 'a')));
  EXPECT_FALSE(IsId(""));
  EXPECT_FALSE(IsId("has space"));
  EXPECT_FALSE(IsId("slash/no"));
  EXPECT_FALSE(IsId("caf\xc3\xa9"));
}

TEST(Batch, ValidEventsKeepTheirFieldsAndDefaultTime) {
  std::vector<FieldIssue> issues;
  auto events = ParseBatch(
      R"({"events":[
        {"id":"e1","type":"search","search_id":"s1","query":"","filters":{"color":"red","max":20,"in_stock":true},
         "results":[{"product_id":"p-1","position":1},{"product_id":"p-2","position":2}]},
        {"id":"e2","type":"page_view","page":"https://shop.example/p/1","time":"2025-12-31T23:59:00+00:00",
         "session_id":"sess 1","device_id":"ios-7"},
        {"id":"e3","type":"remove_from_cart","product_id":"p-1"}]})",
      Limits{}, kNow, &issues);
  ASSERT_TRUE(issues.empty()) << issues[0].field << ": " << issues[0].message;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "search");
  EXPECT_EQ(events[0].time_ms, kNow);
  EXPECT_EQ(json::Dump(events[0].fields.at("filters")), R"({"color":"red","max":20,"in_stock":true})");
  EXPECT_EQ(events[0].fields.at("results").as_array().size(), 2u);
  EXPECT_EQ(events[1].time_ms, kNow - 60'000);
  EXPECT_EQ(events[1].session_id, "sess 1");
  EXPECT_EQ(events[1].device_id, "ios-7");
  EXPECT_EQ(events[2].fields.size(), 1u) << "quantity is optional for remove_from_cart";
}

TEST(Batch, EveryBadFieldIsNamed) {
  auto issues = Issues(R"({"events":[
      {"id":"e1","type":"recommendation_view","recommendation_id":"r1","placement":"footer",
       "model_version":"v1","items":[]},
      {"id":"e2","type":"search","search_id":"s1","query":"x","results":[{"product_id":"p1","position":0},
       {"product_id":"p2"},{"product_id":"p3","position":1,"score":0.5}],"filters":{"c":[1]}},
      {"id":"e3","type":"add_to_cart","product_id":"p1","quantity":1000},
      {"id":"e4","type":"search_click","search_id":"s1","product_id":"p1","position":1.5},
      {"id":"e5","type":"page_view","page":"home"},
      {"id":"e6","type":"product_view","product_id":"p1","session_id":""},
      "not an object"]})");
  for (const char* field :
       {"events[0].placement", "events[0].items", "events[1].results[0].position",
        "events[1].results[1].position", "events[1].results[2].score", "events[1].filters.c",
        "events[2].quantity", "events[3].position", "events[4].page", "events[5].session_id", "events[6]"}) {
    EXPECT_TRUE(Names(issues, field)) << field;
  }
  EXPECT_EQ(issues.size(), 11u);
}

TEST(Batch, TypeProblemsStillReportCommonFields) {
  auto issues = Issues(R"({"events":[{"id":"bad id","type":"purchase","order_id":"o1"},{"type":7}]})");
  EXPECT_TRUE(Names(issues, "events[0].id"));
  EXPECT_TRUE(Names(issues, "events[0].type"));
  EXPECT_TRUE(Names(issues, "events[1].id"));
  EXPECT_TRUE(Names(issues, "events[1].type"));
  for (const FieldIssue& i : issues) {
    if (i.field == "events[0].type") {
      EXPECT_NE(i.message.find("recorded by the server"), std::string::npos);
    }
  }
}

TEST(Batch, TimeWindowFollowsTheLimits) {
  Limits limits{.max_clock_skew_ms = 60'000, .max_event_age_ms = 3'600'000};
  std::vector<FieldIssue> issues;
  auto ok = ParseBatch(
      R"({"events":[{"id":"a","type":"product_view","product_id":"p","time":"2026-01-01T00:01:00Z"},
                                     {"id":"b","type":"product_view","product_id":"p","time":"2025-12-31T23:00:00Z"}]})",
      limits, kNow, &issues);
  EXPECT_EQ(ok.size(), 2u) << "both edges are inside";
  auto bad = ParseBatch(
      R"({"events":[{"id":"a","type":"product_view","product_id":"p","time":"2026-01-01T00:01:01Z"},
                                      {"id":"b","type":"product_view","product_id":"p","time":"2025-12-31T22:59:59Z"}]})",
      limits, kNow, &issues);
  EXPECT_TRUE(bad.empty());
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_NE(issues[0].message.find("future"), std::string::npos) << issues[0].message;
  EXPECT_NE(issues[1].message.find("older"), std::string::npos) << issues[1].message;
}

TEST(Batch, Envelope) {
  EXPECT_TRUE(Names(Issues("{"), "body"));
  EXPECT_TRUE(Names(Issues("[]"), "body"));
  EXPECT_TRUE(Names(Issues("{}"), "events"));
  EXPECT_TRUE(Names(Issues(R"({"events":{}})"), "events"));
  EXPECT_TRUE(Names(Issues(R"({"events":[]})"), "events"));
  EXPECT_TRUE(
      Names(Issues(R"({"events":[{"id":"a","type":"wishlist_add","product_id":"p"}],"extra":1})"), "extra"));
  std::string big = R"({"events":[)";
  for (int i = 0; i <= 100; ++i)
    big += (i ? "," : "") + std::string(R"({"id":"e)") + std::to_string(i) +
           R"(","type":"product_view","product_id":"p"})";
  big += "]}";
  EXPECT_TRUE(Names(Issues(big), "events"));
}

}  // namespace
}  // namespace emporium::behavior
