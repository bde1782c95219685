// Helpers shared by catalog's route files (http.cc, http_inventory.cc). Not for other modules.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "platform/core/json.h"
#include "platform/http/problem.h"
#include "platform/log/log.h"
#include "services/catalog/model.h"

namespace emporium::catalog {

inline http::Response JsonResponse(int status, const boost::json::value& v) {
  return http::Response::Json(status, json::Dump(v));
}

// A problem for s; field errors go along for 409/422 (kInvalidArgument with errors is 422).
inline http::Response Failure(const http::Request& req, const Status& s, const FieldErrors& errors = {}) {
  std::vector<http::FieldError> out;
  for (const auto& e : errors) out.push_back({e.field, e.message});
  if (s.code() == Code::kInvalidArgument && !out.empty())
    return http::Problem(422, "The request has invalid fields.", req.path, out);
  if ((s.code() == Code::kConflict || s.code() == Code::kAlreadyExists) && !out.empty())
    return http::Problem(409, s.message(), req.path, out);
  if (s.code() >= Code::kInternal)
    log::Error("catalog request failed", {{"route", req.path}, {"error", s.ToString()}});
  return http::ProblemFrom(s, req.path);
}

inline Result<boost::json::object> BodyObject(const http::Request& req) {
  auto doc = json::Parse(req.body);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("the body must be a JSON object");
  return std::move(doc->as_object());
}

// Field `name` as a string; a field error when present but not a string.
inline std::optional<std::string> StringField(const boost::json::object& o, const char* name,
                                              FieldErrors& errors, const std::string& prefix = "") {
  auto v = o.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    errors.push_back({prefix + name, "must be a string"});
    return std::nullopt;
  }
  return std::string(v->as_string());
}

// Field `name` as an integer; a field error when present but not an integer.
inline std::optional<int64_t> IntField(const boost::json::object& o, const char* name, FieldErrors& errors,
                                       const std::string& prefix = "") {
  auto v = o.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v->as_uint64());
  errors.push_back({prefix + name, "must be an integer"});
  return std::nullopt;
}

}  // namespace emporium::catalog
