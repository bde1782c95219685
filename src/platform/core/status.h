// Error values for expected failures (LevelDB-style Status) and a small Result<T>.
//
// Expected failures (not found, conflict, invalid input, upstream down) travel as values; a Code
// maps to an HTTP status and a problem+json type (see http/problem.h). Exceptions never cross a
// module boundary. Status and Result are cheap to move; they are not thread-safe to share mutably.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace emporium {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // 400/422: the caller sent something wrong
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kConflict,            // 409: optimistic concurrency, state does not allow it
  kFailedPrecondition,  // 412/422
  kResourceExhausted,   // 429
  kCancelled,           // 499
  kInternal,            // 500
  kUnimplemented,       // 501
  kUnavailable,         // 503: retryable
  kDeadlineExceeded,    // 504: retryable
};

std::string_view CodeName(Code code);
int HttpStatusFor(Code code);
// True for failures a caller may retry (unavailable, deadline exceeded).
bool IsRetryable(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: product 12 does not exist"
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {Code::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {Code::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {Code::kAlreadyExists, std::move(m)};
}
inline Status Conflict(std::string m) {
  return {Code::kConflict, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {Code::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {Code::kPermissionDenied, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {Code::kResourceExhausted, std::move(m)};
}
inline Status Internal(std::string m) {
  return {Code::kInternal, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {Code::kUnavailable, std::move(m)};
}
inline Status DeadlineExceeded(std::string m) {
  return {Code::kDeadlineExceeded, std::move(m)};
}
inline Status Cancelled(std::string m) {
  return {Code::kCancelled, std::move(m)};
}
inline Status Unimplemented(std::string m) {
  return {Code::kUnimplemented, std::move(m)};
}

// Either a value or a non-OK Status. Accessing value() of an error is a programming error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace emporium

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define EMP_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::emporium::Status emp_status_ = (expr);   \
    if (!emp_status_.ok()) return emp_status_; \
  } while (0)

#define EMP_CONCAT_INNER(a, b) a##b
#define EMP_CONCAT(a, b) EMP_CONCAT_INNER(a, b)
// `EMP_ASSIGN_OR_RETURN(auto x, Compute());` binds the value or returns the error.
#define EMP_ASSIGN_OR_RETURN(lhs, expr)                                                           \
  auto EMP_CONCAT(emp_result_, __LINE__) = (expr);                                                \
  if (!EMP_CONCAT(emp_result_, __LINE__).ok()) return EMP_CONCAT(emp_result_, __LINE__).status(); \
  lhs = std::move(EMP_CONCAT(emp_result_, __LINE__)).value()
