// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Families are created at start-up; series are looked up by label values (cache the returned
// reference on hot paths). All operations are thread-safe; increments are lock-free atomics.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace emporium::metrics {

class Counter {
 public:
  void Inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  // Cumulative counts per bound, then +Inf.
  std::vector<uint64_t> Cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

// Default latency buckets in seconds (0.5 ms .. 10 s).
const std::vector<double>& LatencyBuckets();

template <typename T>
class Family;

class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::vector<std::string> labels = {},
                                  std::vector<double> bounds = LatencyBuckets());
  // A gauge whose value is computed at scrape time (process metrics, queue lengths, bus lag).
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> fn);
  // Text exposition of every family.
  std::string Render() const;

  // The process-wide registry; modules register their families here at start-up.
  static Registry& Default();

  struct FamilyBase;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  template <typename T>
  friend class Family;
};

struct Registry::FamilyBase {
  virtual ~FamilyBase() = default;
  virtual void Render(std::string& out) const = 0;
};

template <typename T>
class Family final : public Registry::FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  // The series for these label values (in the order of the family's label names).
  T& With(const std::vector<std::string>& values);
  void Render(std::string& out) const override;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

// Registers process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
// process_start_time_seconds, process_threads (read from /proc at scrape time).
void RegisterProcessMetrics(Registry& registry);

// Escapes a label value for the text format (backslash, double quote, newline).
std::string EscapeLabel(const std::string& v);

}  // namespace emporium::metrics
