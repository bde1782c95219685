#include "platform/core/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace emporium::json {

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
  return boost::json::serialize(v);
}

}  // namespace emporium::json
