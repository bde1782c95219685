// RFC 9457 problem details (application/problem+json): the only error body Emporium sends.
//
// {"type","title","status","detail","instance"} plus "errors":[{"field","message"}] for
// validation failures. Never a stack trace or internal message for 5xx.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"
#include "platform/http/http.h"

namespace emporium::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";

struct FieldError {
  std::string field;
  std::string message;
};

// A problem response. `type` defaults to "https://emporium.dev/problems/<slug of title>".
Response Problem(int status, std::string_view detail, std::string_view instance = {},
                 const std::vector<FieldError>& errors = {});
// Maps a Status to its HTTP status and a problem body. The message of an internal error is
// replaced by a generic text (it is logged by the caller, never sent).
Response ProblemFrom(const Status& status, std::string_view instance = {});
// The standard reason phrase: "Not Found".
std::string_view ReasonPhrase(int status);

}  // namespace emporium::http
