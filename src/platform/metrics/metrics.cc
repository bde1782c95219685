#include "platform/metrics/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace emporium::metrics {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + EscapeLabel(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + EscapeHelp(help) + "\n# TYPE " + name + " " + type + "\n";
}

struct CallbackGauge final : Registry::FamilyBase {
  std::string name, help;
  std::function<double()> fn;
  void Render(std::string& out) const override {
    Header(out, name, help, "gauge");
    out += name + " " + FormatValue(fn()) + "\n";
  }
};

}  // namespace

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Counter::Inc(double v) {
  AtomicAdd(value_, v);
}
void Gauge::Add(double v) {
  AtomicAdd(value_, v);
}

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds->size() + 1)) {}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::Cumulative() const {
  std::vector<uint64_t> out(bounds_->size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& values) {
  {
    std::shared_lock lock(mu_);
    auto it = series_.find(values);
    if (it != series_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = series_[values];
  if (!slot) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<Histogram>(&bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return *slot;
}

template <typename T>
void Family<T>::Render(std::string& out) const {
  std::shared_lock lock(mu_);
  if constexpr (std::is_same_v<T, Counter>) {
    Header(out, name_, help_, "counter");
    for (const auto& [values, c] : series_)
      out += name_ + LabelSet(labels_, values) + " " + FormatValue(c->value()) + "\n";
  } else if constexpr (std::is_same_v<T, Gauge>) {
    Header(out, name_, help_, "gauge");
    for (const auto& [values, g] : series_)
      out += name_ + LabelSet(labels_, values) + " " + FormatValue(g->value()) + "\n";
  } else {
    Header(out, name_, help_, "histogram");
    for (const auto& [values, h] : series_) {
      auto cum = h->Cumulative();
      for (size_t i = 0; i < cum.size(); ++i) {
        std::string le = i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
        out += name_ + "_bucket" + LabelSet(labels_, values, "le=\"" + le + "\"") + " " +
               std::to_string(cum[i]) + "\n";
      }
      out += name_ + "_sum" + LabelSet(labels_, values) + " " + FormatValue(h->sum()) + "\n";
      out += name_ + "_count" + LabelSet(labels_, values) + " " + std::to_string(cum.back()) + "\n";
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::AddCounter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  auto f = std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  auto f = std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                          std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto f = std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(labels),
                                               std::move(bounds));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

void Registry::AddCallbackGauge(std::string name, std::string help, std::function<double()> fn) {
  std::lock_guard lock(mu_);
  auto g = std::make_unique<CallbackGauge>();
  g->name = std::move(name);
  g->help = std::move(help);
  g->fn = std::move(fn);
  families_.push_back(std::move(g));
}

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) f->Render(out);
  return out;
}

Registry& Registry::Default() {
  static Registry registry;
  return registry;
}

namespace {

// Fields of /proc/self/stat after the command name.
std::vector<std::string> ProcStat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  size_t close = line.rfind(')');
  std::istringstream rest(close == std::string::npos ? "" : line.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
  }
  return 0;
}

}  // namespace

void RegisterProcessMetrics(Registry& registry) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  registry.AddCallbackGauge(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", [ticks] {
        auto f = ProcStat();  // utime is field 14, stime 15 (1-based); after ')' index 11 and 12
        return f.size() > 12 ? (std::stod(f[11]) + std::stod(f[12])) / ticks : 0.0;
      });
  registry.AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.", [page] {
    auto f = ProcStat();  // rss is field 24 → index 21
    return f.size() > 21 ? std::stod(f[21]) * page : 0.0;
  });
  registry.AddCallbackGauge("process_threads", "Number of OS threads in the process.", [] {
    auto f = ProcStat();  // num_threads is field 20 → index 17
    return f.size() > 17 ? std::stod(f[17]) : 0.0;
  });
  registry.AddCallbackGauge("process_open_fds", "Number of open file descriptors.", [] {
    double n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d)) ++n;
      closedir(d);
      n -= 3;  // ".", ".." and the directory's own descriptor
    }
    return n;
  });
  const double start = [ticks] {
    auto f = ProcStat();  // starttime is field 22 → index 19
    return f.size() > 19 ? BootTimeSeconds() + std::stod(f[19]) / ticks : 0.0;
  }();
  registry.AddCallbackGauge("process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.",
                            [start] { return start; });
}

}  // namespace emporium::metrics
