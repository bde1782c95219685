#include "platform/core/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <cmath>

namespace emporium::json {
namespace {

// Boost.JSON 1.81 prints doubles as "4.9E0"; numbers here print as people write them (the
// shortest form that reads back to the same double), and non-finite ones as null.
void Write(const boost::json::value& v, std::string& out) {
  char buf[32];
  switch (v.kind()) {
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        out += boost::json::serialize(boost::json::string_view(key));
        out.push_back(':');
        Write(value, out);
      }
      out.push_back('}');
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& value : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Write(value, out);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, r.ptr);
      return;
    }
    case boost::json::kind::int64: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out.append(buf, r.ptr);
      return;
    }
    case boost::json::kind::uint64: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
      out.append(buf, r.ptr);
      return;
    }
    default: out += boost::json::serialize(v);
  }
}

}  // namespace

Result<boost::json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return InvalidArgument("malformed JSON: " + ec.message());
  return v;
}

std::string Quote(std::string_view s) {
  return boost::json::serialize(boost::json::string(s));
}

std::string Dump(const boost::json::value& v) {
  std::string out;
  Write(v, out);
  return out;
}

std::string Str(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace emporium::json
