#include "platform/core/json.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <limits>

namespace emporium::json {
namespace {

TEST(Dump, NumbersLookLikeNumbers) {
  boost::json::object o{{"rating", 4.9}, {"whole", 5.0}, {"small", 0.001}, {"n", -3}, {"u", 7u}};
  EXPECT_EQ(Dump(o), R"({"rating":4.9,"whole":5,"small":0.001,"n":-3,"u":7})");
}

TEST(Dump, NonFiniteIsNullAndStructureIsKept) {
  boost::json::array a{std::numeric_limits<double>::infinity(), nullptr, true, "a\"b", boost::json::object{}};
  EXPECT_EQ(Dump(a), R"([null,null,true,"a\"b",{}])");
}

TEST(Dump, RoundTripsThroughParse) {
  const std::string text = R"({"a":[1,2.5,{"b":"\u00e9"}],"c":1e+300})";
  auto v = Parse(text);
  ASSERT_TRUE(v.ok());
  auto again = Parse(Dump(*v));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*v, *again);
}

}  // namespace
}  // namespace emporium::json
