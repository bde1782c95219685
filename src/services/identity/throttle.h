// Brute-force protection for password logins, with counters in the shared KV store (so every
// identity process sees the same counts).
//
// Per account (the email's blind index, whether or not the account exists, so the answer does
// not reveal which emails are registered): after `account_failures` failures within
// `account_window` the account is locked for 1 s, doubling with each further failure up to
// `account_window`. Per client IP: `ip_failures` failures within `ip_window` block that IP until
// the window ends. Thread-safety: thread-safe.
#pragma once

#include <optional>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"

namespace emporium::kv {
class Store;
}

namespace emporium::identity {

struct ThrottleLimits {
  int account_failures = 5;
  Millis account_window{15 * 60 * 1000};
  int ip_failures = 20;
  Millis ip_window{60 * 1000};
};

class Throttle {
 public:
  Throttle(kv::Store& kv, ThrottleLimits limits);
  // How long the caller must wait, or nullopt when the attempt may proceed.
  Result<std::optional<Millis>> Check(const std::string& account, const std::string& ip);
  Status RecordFailure(const std::string& account, const std::string& ip);
  Status RecordSuccess(const std::string& account);

 private:
  kv::Store& kv_;
  ThrottleLimits limits_;
};

}  // namespace emporium::identity
