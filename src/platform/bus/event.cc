#include "platform/bus/event.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "platform/core/clock.h"
#include "platform/core/json.h"
#include "platform/core/random.h"

namespace emporium::bus {
namespace {

constexpr std::string_view kSpecVersion = "1.0";
constexpr std::string_view kContentType = "application/json";

// Reads an optional string attribute; a present non-string value is an error.
Status ReadString(const boost::json::object& o, std::string_view name, bool required, std::string& out) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) return InvalidArgument("cloudevent: missing attribute '" + std::string(name) + "'");
    return Status::Ok();
  }
  if (!v->is_string()) {
    return InvalidArgument("cloudevent: attribute '" + std::string(name) + "' is not a string");
  }
  out = std::string(v->as_string());
  if (required && out.empty()) {
    return InvalidArgument("cloudevent: attribute '" + std::string(name) + "' is empty");
  }
  return Status::Ok();
}

}  // namespace

Event MakeEvent(std::string source, std::string type, std::string subject, std::string data_json) {
  Event e;
  e.id = NewUuidV7();
  e.source = std::move(source);
  e.type = std::move(type);
  e.subject = std::move(subject);
  e.time = FormatRfc3339(SystemClock::Get().WallNow());
  e.data = std::move(data_json);
  return e;
}

Status Validate(const Event& e) {
  if (e.id.empty()) return InvalidArgument("cloudevent: id is empty");
  if (e.source.empty()) return InvalidArgument("cloudevent: source is empty");
  if (e.type.empty()) return InvalidArgument("cloudevent: type is empty");
  if (e.data.empty()) return Status::Ok();
  auto parsed = json::Parse(e.data);
  if (!parsed.ok()) return InvalidArgument("cloudevent: data is not JSON: " + parsed.status().message());
  return Status::Ok();
}

std::string ToJson(const Event& e) {
  boost::json::object o;
  o["specversion"] = kSpecVersion;
  o["id"] = e.id;
  o["source"] = e.source;
  o["type"] = e.type;
  if (!e.subject.empty()) o["subject"] = e.subject;
  if (!e.time.empty()) o["time"] = e.time;
  if (!e.data.empty()) {
    o["datacontenttype"] = kContentType;
    auto parsed = json::Parse(e.data);
    // Validate() rejects non-JSON data before publishing; keeping it as a string here only
    // avoids losing bytes if a caller skipped that check.
    o["data"] = parsed.ok() ? std::move(parsed).value() : boost::json::value(e.data);
  }
  if (!e.traceparent.empty()) o["traceparent"] = e.traceparent;
  return json::Dump(o);
}

Result<Event> FromJson(std::string_view text) {
  EMP_ASSIGN_OR_RETURN(boost::json::value v, json::Parse(text));
  if (!v.is_object()) return InvalidArgument("cloudevent: not a JSON object");
  const boost::json::object& o = v.as_object();
  std::string spec;
  EMP_RETURN_IF_ERROR(ReadString(o, "specversion", true, spec));
  if (spec != kSpecVersion) return InvalidArgument("cloudevent: specversion '" + spec + "' is not 1.0");
  Event e;
  EMP_RETURN_IF_ERROR(ReadString(o, "id", true, e.id));
  EMP_RETURN_IF_ERROR(ReadString(o, "source", true, e.source));
  EMP_RETURN_IF_ERROR(ReadString(o, "type", true, e.type));
  EMP_RETURN_IF_ERROR(ReadString(o, "subject", false, e.subject));
  EMP_RETURN_IF_ERROR(ReadString(o, "time", false, e.time));
  EMP_RETURN_IF_ERROR(ReadString(o, "traceparent", false, e.traceparent));
  std::string content_type;
  EMP_RETURN_IF_ERROR(ReadString(o, "datacontenttype", false, content_type));
  if (!content_type.empty() && content_type.rfind(kContentType, 0) != 0) {
    return InvalidArgument("cloudevent: datacontenttype '" + content_type + "' is not JSON");
  }
  if (o.contains("data_base64")) return InvalidArgument("cloudevent: data_base64 is not supported");
  if (const boost::json::value* data = o.if_contains("data"); data != nullptr) {
    e.data = json::Dump(*data);
  }
  return e;
}

}  // namespace emporium::bus
