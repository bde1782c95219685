#include "platform/metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace emporium::metrics {
namespace {

TEST(Metrics, CounterRendersWithLabels) {
  Registry r;
  auto& f = r.AddCounter("http_requests_total", "Requests.", {"route", "status"});
  f.With({"/v1/info", "200"}).Inc();
  f.With({"/v1/info", "200"}).Inc(2);
  f.With({"/a\"b\\c\nd", "500"}).Inc();
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/v1/info\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("route=\"/a\\\"b\\\\c\\nd\""), std::string::npos);
}

TEST(Metrics, HistogramIsCumulative) {
  Registry r;
  auto& h = r.AddHistogram("latency_seconds", "Latency.", {"route"}, {0.1, 1.0});
  auto& s = h.With({"/x"});
  s.Observe(0.05);
  s.Observe(0.5);
  s.Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"0.10000000000000001\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_count{route=\"/x\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_sum{route=\"/x\"} 5.5499999999999998\n"), std::string::npos) << text;
}

TEST(Metrics, ConcurrentIncrementsAddUp) {
  Registry r;
  auto& f = r.AddCounter("c_total", "C.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, t] {
      for (int i = 0; i < 10000; ++i) f.With({i % 2 ? "a" : "b"}).Inc();
      (void)t;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.With({"a"}).value() + f.With({"b"}).value(), 40000);
}

TEST(Metrics, ProcessMetricsArePresent) {
  Registry r;
  RegisterProcessMetrics(r);
  std::string text = r.Render();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                           "process_start_time_seconds", "process_threads"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " gauge"), std::string::npos) << name;
  }
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos);
}

}  // namespace
}  // namespace emporium::metrics
