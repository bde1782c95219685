#include "platform/http/problem.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace emporium::http {
namespace {

TEST(Problem, HasRfc9457Members) {
  Response r = Problem(404, "No product 7.", "/v1/products/7");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.Get("content-type").value(), "application/problem+json");
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("status").as_int64(), 404);
  EXPECT_EQ(v.at("title").as_string(), "Not Found");
  EXPECT_EQ(v.at("detail").as_string(), "No product 7.");
  EXPECT_EQ(v.at("instance").as_string(), "/v1/products/7");
  EXPECT_EQ(v.at("type").as_string(), "https://emporium.dev/problems/not-found");
  EXPECT_FALSE(v.contains("errors"));
}

TEST(Problem, ValidationErrorsListFields) {
  Response r = Problem(422, "Fix the fields.", "",
                       {{"email", "must be an email address"}, {"quantity", "must be > 0"}});
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("type").as_string(), "https://emporium.dev/problems/validation");
  ASSERT_EQ(v.at("errors").as_array().size(), 2u);
  EXPECT_EQ(v.at("errors").as_array()[0].at("field").as_string(), "email");
}

TEST(Problem, EscapesDetail) {
  Response r = Problem(400, "bad \"quote\" and \n newline");
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("detail").as_string(), "bad \"quote\" and \n newline");
}

TEST(Problem, InternalErrorsHideTheirMessage) {
  Response r = ProblemFrom(Internal("sqlite: table orders has no column secret_sauce"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret_sauce"), std::string::npos);
}

TEST(Problem, StatusCodesMap) {
  EXPECT_EQ(ProblemFrom(NotFound("x")).status, 404);
  EXPECT_EQ(ProblemFrom(Conflict("x")).status, 409);
  EXPECT_EQ(ProblemFrom(InvalidArgument("x")).status, 422);
  EXPECT_EQ(ProblemFrom(ResourceExhausted("x")).status, 429);
  Response unavailable = ProblemFrom(Unavailable("catalog is down"));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.headers.Get("Retry-After").value(), "1");
}

}  // namespace
}  // namespace emporium::http
