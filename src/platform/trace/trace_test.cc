#include "platform/trace/trace.h"

#include <gtest/gtest.h>

#include <set>

namespace emporium::trace {
namespace {

constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kSpanId = "00f067aa0ba902b7";

struct ParseCase {
  std::string name;
  std::string header;
  bool valid;
};

class TraceparentParse : public testing::TestWithParam<ParseCase> {};

TEST_P(TraceparentParse, AcceptsOnlyWellFormedHeaders) {
  const ParseCase& c = GetParam();
  std::optional<TraceContext> ctx = ParseTraceparent(c.header);
  EXPECT_EQ(ctx.has_value(), c.valid) << c.header;
  if (ctx) {
    EXPECT_EQ(ctx->trace_id, kTraceId);
    EXPECT_EQ(ctx->span_id, kSpanId);
    EXPECT_TRUE(ctx->parent_id.empty());
  }
}

const std::string kT(kTraceId);
const std::string kS(kSpanId);

INSTANTIATE_TEST_SUITE_P(
    Table, TraceparentParse,
    testing::Values(
        ParseCase{"valid_sampled", "00-" + kT + "-" + kS + "-01", true},
        ParseCase{"valid_unsampled", "00-" + kT + "-" + kS + "-00", true},
        ParseCase{"future_version_with_extra_field", "01-" + kT + "-" + kS + "-01-whatever", true},
        ParseCase{"future_version_plain", "cc-" + kT + "-" + kS + "-01", true},
        ParseCase{"version_ff", "ff-" + kT + "-" + kS + "-01", false},
        ParseCase{"version_not_hex", "0x-" + kT + "-" + kS + "-01", false},
        ParseCase{"version_00_with_extra_field", "00-" + kT + "-" + kS + "-01-extra", false},
        ParseCase{"future_version_extra_without_dash", "01-" + kT + "-" + kS + "-01x", false},
        ParseCase{"short_trace_id", "00-" + kT.substr(1) + "-" + kS + "-01", false},
        ParseCase{"long_span_id", "00-" + kT + "-" + kS + "0-01", false},
        ParseCase{"short_flags", "00-" + kT + "-" + kS + "-1", false},
        ParseCase{"uppercase_trace_id", "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + kS + "-01", false},
        ParseCase{"uppercase_span_id", "00-" + kT + "-00F067AA0BA902B7-01", false},
        ParseCase{"non_hex_span_id", "00-" + kT + "-00f067aa0ba902bz-01", false},
        ParseCase{"zero_trace_id", "00-" + std::string(32, '0') + "-" + kS + "-01", false},
        ParseCase{"zero_span_id", "00-" + kT + "-" + std::string(16, '0') + "-01", false},
        ParseCase{"wrong_separator", "00_" + kT + "-" + kS + "-01", false}, ParseCase{"empty", "", false}),
    [](const testing::TestParamInfo<ParseCase>& info) { return info.param.name; });

TEST(Traceparent, SampledFlagIsBitZero) {
  EXPECT_TRUE(ParseTraceparent("00-" + kT + "-" + kS + "-01")->sampled);
  EXPECT_FALSE(ParseTraceparent("00-" + kT + "-" + kS + "-00")->sampled);
  EXPECT_TRUE(ParseTraceparent("00-" + kT + "-" + kS + "-03")->sampled);
}

TEST(Traceparent, FormatRoundTrips) {
  TraceContext ctx = NewRoot();
  std::string header = FormatTraceparent(ctx);
  EXPECT_EQ(header.size(), 55u);
  std::optional<TraceContext> parsed = ParseTraceparent(header);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->trace_id, ctx.trace_id);
  EXPECT_EQ(parsed->span_id, ctx.span_id);
  ctx.sampled = false;
  EXPECT_EQ(FormatTraceparent(ctx).substr(53), "00");
}

TEST(TraceContextIds, NewRootHasValidFreshIds) {
  TraceContext a = NewRoot();
  TraceContext b = NewRoot();
  EXPECT_TRUE(IsValidTraceId(a.trace_id));
  EXPECT_TRUE(IsValidSpanId(a.span_id));
  EXPECT_TRUE(a.parent_id.empty());
  EXPECT_NE(a.trace_id, b.trace_id);
}

TEST(TraceContextIds, ChildKeepsTraceAndGetsNewSpan) {
  TraceContext root = NewRoot();
  std::set<std::string> span_ids{root.span_id};
  for (int i = 0; i < 100; ++i) {
    TraceContext child = ChildOf(root);
    EXPECT_EQ(child.trace_id, root.trace_id);
    EXPECT_EQ(child.parent_id, root.span_id);
    EXPECT_TRUE(IsValidSpanId(child.span_id));
    EXPECT_TRUE(span_ids.insert(child.span_id).second) << "span id repeated";
  }
  root.sampled = false;
  EXPECT_FALSE(ChildOf(root).sampled);
}

TEST(TraceContextIds, ChildOfInvalidParentStartsNewTrace) {
  TraceContext bad;
  bad.trace_id = std::string(32, '0');
  TraceContext child = ChildOf(bad);
  EXPECT_TRUE(IsValidTraceId(child.trace_id));
  EXPECT_TRUE(child.parent_id.empty());
}

TEST(TraceContextIds, ContinueFromHeaderOrStartsNew) {
  TraceContext continued = ContinueFrom("00-" + kT + "-" + kS + "-01");
  EXPECT_EQ(continued.trace_id, kTraceId);
  EXPECT_EQ(continued.parent_id, kSpanId);
  EXPECT_NE(continued.span_id, kSpanId);

  TraceContext fresh = ContinueFrom("00-garbage");
  EXPECT_NE(fresh.trace_id, kTraceId);
  EXPECT_TRUE(IsValidTraceId(fresh.trace_id));
  EXPECT_TRUE(fresh.parent_id.empty());
  EXPECT_TRUE(IsValidTraceId(ContinueFrom(std::nullopt).trace_id));
}

TEST(SpanRecord, StartEndAndAttributes) {
  TraceContext ctx = ChildOf(NewRoot());
  SystemTime t0{std::chrono::seconds(1'700'000'000)};
  Span span = Span::Start(ctx, "GET /v1/products", SpanKind::kServer, t0);
  span.SetAttribute("http.route", "/v1/products");
  span.SetAttribute("http.response.status_code", int64_t{200});
  span.End(t0 + std::chrono::milliseconds(5));
  EXPECT_EQ(span.trace_id, ctx.trace_id);
  EXPECT_EQ(span.parent_id, ctx.parent_id);
  EXPECT_EQ(span.start_unix_nanos, 1'700'000'000'000'000'000);
  EXPECT_EQ(span.end_unix_nanos - span.start_unix_nanos, 5'000'000);
  ASSERT_EQ(span.attributes.size(), 2u);
  EXPECT_EQ(std::get<std::string>(span.attributes[0].second), "/v1/products");
  EXPECT_EQ(std::get<int64_t>(span.attributes[1].second), 200);
}

TEST(NoopExporter, CountsDroppedSpans) {
  std::unique_ptr<Exporter> exporter = NewNoopExporter();
  exporter->Export(Span{});
  exporter->Export(Span{});
  exporter->Shutdown();
  EXPECT_EQ(exporter->stats().dropped, 2u);
  EXPECT_EQ(exporter->stats().exported, 0u);
}

}  // namespace
}  // namespace emporium::trace
