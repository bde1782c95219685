// An open-loop load generator: calls are sent at their *planned* time whatever happened to the
// calls before them, and each call's latency is measured from its planned time — so a stalled
// server shows up as the whole queue of calls that were due during the stall (no coordinated
// omission), not as one slow request. A pool of workers makes the calls; a dispatcher moves them
// from the time-ordered queue to the workers when due. (A history replay plans each call for
// "now", so it goes as soon as a worker is free.)
//
// Results per endpoint label ("GET /v1/products/{id}"): a latency histogram, successes, and
// errors by kind (transport, timeout, client_<status>, server_<status>).
// Thread-safe: Submit and Schedule may be called from any thread, including from a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "platform/core/clock.h"
#include "platform/core/status.h"
#include "sim/histogram.h"

namespace emporium::sim {

struct CallOutcome {
  int status = 0;  // HTTP status; 0 when the call failed without an answer
  std::string body;
  Status error;  // why there was no answer
};

struct EndpointStats {
  LatencyHistogram latency;
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;        // by kind
  std::map<std::string, std::string> examples;  // kind → the first such answer (truncated)
  int64_t error_count() const;
};

struct LoadGenOptions {
  int workers = 64;
};

class LoadGen {
 public:
  explicit LoadGen(LoadGenOptions options);
  ~LoadGen();
  LoadGen(const LoadGen&) = delete;
  LoadGen& operator=(const LoadGen&) = delete;

  // Makes `call` on a worker at `planned`, records it under
  // `endpoint`, then runs `then` with the outcome on the same worker.
  void Submit(SteadyTime planned, std::string endpoint, std::function<CallOutcome()> call,
              std::function<void(CallOutcome)> then);
  // Runs `fn` on a worker at `at` (not measured): session arrivals, delayed work.
  void Schedule(SteadyTime at, std::function<void()> fn);
  // Calls and tasks not finished yet.
  int64_t pending() const;
  // Stops taking work; waits for running calls; drops what is queued.
  void Stop();

  std::map<std::string, EndpointStats> Stats() const;
  // Calls recorded since construction, and a snapshot of latency for all endpoints together.
  EndpointStats Total() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The kind of error an outcome is ("" for success): what EndpointStats::errors counts.
std::string ErrorKind(const CallOutcome& outcome);

}  // namespace emporium::sim
