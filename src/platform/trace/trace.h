// Distributed tracing core: W3C Trace Context (https://www.w3.org/TR/trace-context/) parsing and
// formatting of `traceparent`, new traces and child spans; the Span record; the Exporter
// interface and a no-op exporter. The context type itself lives in http.h because requests carry
// it. No network dependency here: the OTLP/HTTP exporter is in otlp_exporter.h.
//
// Thread-safety: the free functions have no shared state (ids come from a per-thread generator seeded by the
// OS CSPRNG); every Exporter is safe to call from any thread; a Span is plain data built by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "platform/core/clock.h"
#include "platform/http/http.h"

namespace emporium::trace {

using TraceContext = http::TraceContext;

inline constexpr std::string_view kTraceparentHeader = "traceparent";

// 32 lowercase hex digits, not all zero.
bool IsValidTraceId(std::string_view id);
// 16 lowercase hex digits, not all zero.
bool IsValidSpanId(std::string_view id);

// Parses "<version>-<trace-id>-<parent-id>-<flags>". In the result, span_id is the header's
// parent-id (the caller's span) and parent_id is empty. nullopt when the header is invalid:
// version "ff" or not two lowercase hex digits, version 00 with extra fields or a wrong length,
// ids of the wrong length, non-lowercase-hex or all zero. Later versions are parsed leniently as
// the spec asks (the first four fields, anything after a '-' ignored).
std::optional<TraceContext> ParseTraceparent(std::string_view header);

// "00-<trace_id>-<span_id>-<01|00>".
std::string FormatTraceparent(const TraceContext& ctx);

// A new trace: fresh trace and span ids, no parent, sampled.
TraceContext NewRoot();

// A new span in parent's trace: same trace id and flags, fresh span id, parent_id = parent's
// span id. A parent with an invalid trace id yields NewRoot() instead.
TraceContext ChildOf(const TraceContext& parent);

// The context for work done on behalf of a caller that sent `traceparent` (absent or invalid
// starts a new trace, as the spec requires).
TraceContext ContinueFrom(std::optional<std::string_view> traceparent);

// Values match OTLP's Span.SpanKind so the encoder can write them as-is.
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };
// Values match OTLP's Status.StatusCode.
enum class SpanStatus { kUnset = 0, kOk = 1, kError = 2 };

using AttributeValue = std::variant<std::string, int64_t>;

struct Span {
  std::string trace_id;   // 32 hex
  std::string span_id;    // 16 hex
  std::string parent_id;  // 16 hex, empty for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  SpanStatus status = SpanStatus::kUnset;
  std::string status_message;

  // A span for ctx starting at `start`.
  static Span Start(const TraceContext& ctx, std::string name, SpanKind kind, SystemTime start);
  void End(SystemTime end);
  void SetAttribute(std::string key, std::string value);
  void SetAttribute(std::string key, int64_t value);
};

int64_t UnixNanos(SystemTime t);

struct ExporterStats {
  uint64_t exported = 0;  // spans the collector accepted
  uint64_t dropped = 0;   // spans refused because the queue was full or after Shutdown
  uint64_t failed = 0;    // spans lost because their batch could not be delivered
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  // Queues a finished span; returns at once. Spans that do not fit are dropped and counted.
  virtual void Export(Span span) = 0;
  // Delivers what is queued (bounded by the exporter's timeout) and stops. Idempotent; later
  // Export calls drop.
  virtual void Shutdown() = 0;
  virtual ExporterStats stats() const = 0;
};

// Discards every span (counted as dropped).
std::unique_ptr<Exporter> NewNoopExporter();

}  // namespace emporium::trace
