#include "platform/trace/trace.h"

#include <atomic>

#include "platform/core/random.h"

namespace emporium::trace {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    bool digit = c >= '0' && c <= '9';
    bool letter = c >= 'a' && c <= 'f';
    if (!digit && !letter) return false;
  }
  return true;
}

bool IsValidId(std::string_view id, size_t length) {
  return id.size() == length && IsLowerHex(id) && id.find_first_not_of('0') != std::string_view::npos;
}

// Ids need uniqueness, not secrecy: the fast generator keeps the per-request cost low. An id is
// all zeros with probability 2^-64; the spec forbids zero ids, so loop.
std::string NewId(size_t bytes) {
  for (;;) {
    std::string id = FastRandomHex(bytes);
    if (id.find_first_not_of('0') != std::string::npos) return id;
  }
}

class NoopExporter final : public Exporter {
 public:
  void Export(Span) override { dropped_.fetch_add(1, std::memory_order_relaxed); }
  void Shutdown() override {}
  ExporterStats stats() const override {
    ExporterStats s;
    s.dropped = dropped_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace

bool IsValidTraceId(std::string_view id) {
  return IsValidId(id, 32);
}
bool IsValidSpanId(std::string_view id) {
  return IsValidId(id, 16);
}

std::optional<TraceContext> ParseTraceparent(std::string_view header) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  constexpr size_t kV00Length = 55;
  if (header.size() < kV00Length) return std::nullopt;
  std::string_view version = header.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return std::nullopt;
  if (version == "00" && header.size() != kV00Length) return std::nullopt;
  if (header.size() > kV00Length && header[kV00Length] != '-') return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  std::string_view trace_id = header.substr(3, 32);
  std::string_view span_id = header.substr(36, 16);
  std::string_view flags = header.substr(53, 2);
  if (!IsValidTraceId(trace_id) || !IsValidSpanId(span_id) || !IsLowerHex(flags)) {
    return std::nullopt;
  }
  TraceContext ctx;
  ctx.trace_id = std::string(trace_id);
  ctx.span_id = std::string(span_id);
  int flag_bits = std::stoi(std::string(flags), nullptr, 16);
  ctx.sampled = (flag_bits & 1) != 0;
  return ctx;
}

std::string FormatTraceparent(const TraceContext& ctx) {
  return "00-" + ctx.trace_id + "-" + ctx.span_id + (ctx.sampled ? "-01" : "-00");
}

TraceContext NewRoot() {
  TraceContext ctx;
  ctx.trace_id = NewId(16);
  ctx.span_id = NewId(8);
  ctx.sampled = true;
  return ctx;
}

TraceContext ChildOf(const TraceContext& parent) {
  if (!IsValidTraceId(parent.trace_id)) return NewRoot();
  TraceContext ctx;
  ctx.trace_id = parent.trace_id;
  ctx.span_id = NewId(8);
  ctx.parent_id = IsValidSpanId(parent.span_id) ? parent.span_id : std::string();
  ctx.sampled = parent.sampled;
  return ctx;
}

TraceContext ContinueFrom(std::optional<std::string_view> traceparent) {
  if (!traceparent) return NewRoot();
  std::optional<TraceContext> caller = ParseTraceparent(*traceparent);
  if (!caller) return NewRoot();
  return ChildOf(*caller);
}

int64_t UnixNanos(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Span Span::Start(const TraceContext& ctx, std::string name, SpanKind kind, SystemTime start) {
  Span span;
  span.trace_id = ctx.trace_id;
  span.span_id = ctx.span_id;
  span.parent_id = ctx.parent_id;
  span.name = std::move(name);
  span.kind = kind;
  span.start_unix_nanos = UnixNanos(start);
  return span;
}

void Span::End(SystemTime end) {
  end_unix_nanos = UnixNanos(end);
}

void Span::SetAttribute(std::string key, std::string value) {
  attributes.emplace_back(std::move(key), std::move(value));
}

void Span::SetAttribute(std::string key, int64_t value) {
  attributes.emplace_back(std::move(key), value);
}

std::unique_ptr<Exporter> NewNoopExporter() {
  return std::make_unique<NoopExporter>();
}

}  // namespace emporium::trace
