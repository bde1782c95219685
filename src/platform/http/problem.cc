#include "platform/http/problem.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

namespace emporium::http {
namespace {

std::string Slug(std::string_view title) {
  std::string out;
  for (char c : title) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  return out;
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

Response Problem(int status, std::string_view detail, std::string_view instance,
                 const std::vector<FieldError>& errors) {
  std::string_view title = ReasonPhrase(status);
  boost::json::object body;
  body["type"] = errors.empty() ? "https://emporium.dev/problems/" + Slug(title)
                                : std::string("https://emporium.dev/problems/validation");
  body["title"] = errors.empty() ? title : std::string_view("Validation failed");
  body["status"] = status;
  body["detail"] = detail;
  if (!instance.empty()) body["instance"] = instance;
  if (!errors.empty()) {
    boost::json::array arr;
    for (const auto& e : errors)
      arr.push_back(boost::json::object{{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(arr);
  }
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::string(kProblemContentType));
  r.body = boost::json::serialize(body);
  return r;
}

Response ProblemFrom(const Status& status, std::string_view instance) {
  int code = HttpStatusFor(status.code());
  if (code >= 500 && status.code() != Code::kUnavailable && status.code() != Code::kDeadlineExceeded) {
    return Problem(code, "The server could not complete the request.", instance);
  }
  Response r = Problem(code, status.message(), instance);
  if (code == 503) r.headers.Set("Retry-After", "1");
  return r;
}

}  // namespace emporium::http
