// OTLP/HTTP JSON span exporter: batches spans in a bounded queue and POSTs them to
// `{endpoint}/v1/traces` from a background thread, every flush_interval or as soon as a batch is
// full. Lives apart from trace.h so that code which only propagates context (the HTTP server)
// does not depend on the HTTP client.
//
// Thread-safe. Delivery is best effort: a batch the collector refuses or that times out is
// counted in stats().failed and not retried, so a dead collector costs memory for at most one
// queue of spans.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/clock.h"
#include "platform/trace/trace.h"

namespace emporium::trace {

struct OtlpOptions {
  std::string endpoint;  // "http://127.0.0.1:4318"; empty means tracing export is off
  std::string service_name = "emporium";
  size_t max_queue = 2048;
  size_t max_batch = 512;
  Millis flush_interval{1000};
  Millis export_timeout{5000};  // per POST
};

// Starts the background thread; Shutdown() (or destruction) flushes and joins it.
std::unique_ptr<Exporter> NewOtlpHttpExporter(OtlpOptions options);

// NewOtlpHttpExporter, or NewNoopExporter() when options.endpoint is empty.
std::unique_ptr<Exporter> NewExporter(OtlpOptions options);

// The OTLP/JSON ExportTraceServiceRequest for spans from one service:
// resourceSpans[0].resource carries service.name; scopeSpans[0] holds the spans; ids are hex;
// times are decimal strings of Unix nanoseconds; int attributes are decimal strings.
std::string EncodeOtlpJson(std::string_view service_name, const std::vector<Span>& spans);

}  // namespace emporium::trace
