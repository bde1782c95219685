#include "platform/bus/event.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace emporium::bus {
namespace {

TEST(EventTest, MakeEventFillsIdAndTime) {
  Event a = MakeEvent("/emporium/order", "order.created", "o-1", R"({"total":1250})");
  Event b = MakeEvent("/emporium/order", "order.created", "o-1", R"({"total":1250})");
  EXPECT_EQ(a.id.size(), 36u);
  EXPECT_EQ(a.id[14], '7');  // UUID version 7
  EXPECT_NE(a.id, b.id);
  ASSERT_EQ(a.time.size(), 24u);
  EXPECT_EQ(a.time.back(), 'Z');
  EXPECT_EQ(a.time[10], 'T');
}

TEST(EventTest, JsonEmbedsDataAsValueAndRoundTrips) {
  Event e = MakeEvent("/emporium/order", "order.created", "o-1", R"({"total":1250,"items":[1,2]})");
  e.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string text = ToJson(e);
  boost::json::value v = boost::json::parse(text);
  EXPECT_EQ(v.at("specversion").as_string(), "1.0");
  EXPECT_EQ(v.at("datacontenttype").as_string(), "application/json");
  ASSERT_TRUE(v.at("data").is_object());
  EXPECT_EQ(v.at("data").at("total").as_int64(), 1250);
  auto back = FromJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, e);
}

TEST(EventTest, EmptyDataIsOmitted) {
  Event e = MakeEvent("/s", "t", "", "");
  const std::string text = ToJson(e);
  EXPECT_EQ(text.find("\"data\""), std::string::npos);
  EXPECT_EQ(text.find("subject"), std::string::npos);
  auto back = FromJson(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, e);
}

TEST(EventTest, FromJsonRejectsInvalidEnvelopes) {
  const char* bad[] = {
      "not json",
      "[1,2]",
      R"({"id":"1","source":"/s","type":"t"})",                      // no specversion
      R"({"specversion":"0.3","id":"1","source":"/s","type":"t"})",  // wrong version
      R"({"specversion":"1.0","source":"/s","type":"t"})",           // no id
      R"({"specversion":"1.0","id":"","source":"/s","type":"t"})",   // empty id
      R"({"specversion":"1.0","id":"1","type":"t"})",                // no source
      R"({"specversion":"1.0","id":"1","source":"/s"})",             // no type
      R"({"specversion":"1.0","id":1,"source":"/s","type":"t"})",    // id not a string
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/xml","data":"<a/>"})",
  };
  for (const char* text : bad) {
    auto r = FromJson(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << text;
  }
}

TEST(EventTest, FromJsonAcceptsScalarData) {
  auto r = FromJson(R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":"hi"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "\"hi\"");
}

TEST(EventTest, ValidateRejectsNonJsonData) {
  Event e = MakeEvent("/s", "t", "k", "{oops");
  EXPECT_EQ(Validate(e).code(), Code::kInvalidArgument);
  e.data = "{}";
  EXPECT_TRUE(Validate(e).ok());
  e.type.clear();
  EXPECT_EQ(Validate(e).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace emporium::bus
