#include "platform/trace/otlp_exporter.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace emporium::trace {
namespace {

boost::json::object Attribute(std::string_view key, const AttributeValue& value) {
  boost::json::object v;
  if (const auto* s = std::get_if<std::string>(&value)) {
    v["stringValue"] = *s;
  } else {
    // proto3's JSON mapping writes int64 as a string: JSON numbers lose precision past 2^53.
    v["intValue"] = std::to_string(std::get<int64_t>(value));
  }
  return {{"key", key}, {"value", std::move(v)}};
}

boost::json::object SpanJson(const Span& span) {
  boost::json::object o;
  o["traceId"] = span.trace_id;
  o["spanId"] = span.span_id;
  if (!span.parent_id.empty()) o["parentSpanId"] = span.parent_id;
  o["name"] = span.name;
  o["kind"] = static_cast<int>(span.kind);
  o["startTimeUnixNano"] = std::to_string(span.start_unix_nanos);
  o["endTimeUnixNano"] = std::to_string(span.end_unix_nanos);
  boost::json::array attributes;
  for (const auto& [key, value] : span.attributes) attributes.push_back(Attribute(key, value));
  o["attributes"] = std::move(attributes);
  boost::json::object status;
  status["code"] = static_cast<int>(span.status);
  if (!span.status_message.empty()) status["message"] = span.status_message;
  o["status"] = std::move(status);
  return o;
}

}  // namespace

std::string EncodeOtlpJson(std::string_view service_name, const std::vector<Span>& spans) {
  boost::json::array span_array;
  for (const Span& span : spans) span_array.push_back(SpanJson(span));
  boost::json::object scope_spans{{"scope", {{"name", "emporium"}}}, {"spans", std::move(span_array)}};
  boost::json::object resource{
      {"attributes", boost::json::array{Attribute("service.name", std::string(service_name))}}};
  boost::json::object resource_spans{{"resource", std::move(resource)},
                                     {"scopeSpans", boost::json::array{std::move(scope_spans)}}};
  boost::json::object request{{"resourceSpans", boost::json::array{std::move(resource_spans)}}};
  return boost::json::serialize(request);
}

}  // namespace emporium::trace
