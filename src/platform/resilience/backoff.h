// Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff and
// Jitter"): the delay before retry n is uniform in [0, min(cap, base·multiplier^n)). Full jitter
// spreads synchronised clients out best, which matters more than the mean delay.
//
// Thread-safety: Delay() and Ceiling() are const and safe to call concurrently as long as the
// jitter source is (the default, RandomUnit, uses a thread-local generator).
#pragma once

#include <chrono>
#include <functional>

namespace emporium::resilience {

struct BackoffOptions {
  std::chrono::nanoseconds base = std::chrono::milliseconds(25);
  std::chrono::nanoseconds cap = std::chrono::seconds(2);
  double multiplier = 2.0;  // values below 1 are treated as 1
};

class Backoff {
 public:
  // Returns a value in [0, 1); tests inject a fixed one.
  using JitterSource = std::function<double()>;

  // An empty jitter source means emporium::RandomUnit.
  explicit Backoff(BackoffOptions options = {}, JitterSource jitter = {});

  // Upper bound of the delay before retry `retry` (0 = the first retry):
  // min(cap, base·multiplier^retry).
  std::chrono::nanoseconds Ceiling(int retry) const;
  // Jittered delay before retry `retry`: jitter()·Ceiling(retry), in [0, Ceiling(retry)].
  std::chrono::nanoseconds Delay(int retry) const;

  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  JitterSource jitter_;
};

}  // namespace emporium::resilience
