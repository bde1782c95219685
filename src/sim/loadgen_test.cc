// The load generator is open loop: a server that stalls for a second shows the stall in the
// reported p99, because every call that was due during the stall is timed from when it was due.
#include "sim/loadgen.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "platform/http/client.h"
#include "platform/http/router.h"
#include "platform/http/server.h"
#include "platform/metrics/metrics.h"

namespace emporium::sim {
namespace {

TEST(LatencyHistogram, PercentilesKeepTheirPrecision) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 100'000; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 100'000);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 50'000, 50'000 * 0.02);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.99)), 99'000, 99'000 * 0.02);
  EXPECT_EQ(h.Percentile(1.0), 100'000);
  EXPECT_EQ(h.max(), 100'000);
  LatencyHistogram small;
  small.Record(3);
  EXPECT_EQ(small.Percentile(0.5), 3);
  h.Merge(small);
  EXPECT_EQ(h.count(), 100'001);
}

class StallingServer {
 public:
  StallingServer() {
    EXPECT_TRUE(router_
                    .Add(http::Method::kGet, "/x",
                         [this](http::Request&) {
                           // Every request that arrives during the stall waits for its end, as in a
                           // garbage-collection pause or a lock held for a second.
                           const SteadyTime until = stall_until_.load();
                           if (std::chrono::steady_clock::now() < until) std::this_thread::sleep_until(until);
                           return http::Response::Json(200, "{}");
                         })
                    .ok());
    http::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.blocking_threads = 32;
    o.access_log = false;
    server_ = std::make_unique<http::Server>(o, router_, registry_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~StallingServer() { server_->Shutdown(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void StallUntil(SteadyTime t) { stall_until_ = t; }

 private:
  http::Router router_;
  metrics::Registry registry_;
  std::unique_ptr<http::Server> server_;
  std::atomic<SteadyTime> stall_until_{SteadyTime::min()};
};

TEST(LoadGen, AStallOfOneSecondShowsInTheP99) {
  StallingServer server;
  http::HttpClient client;
  LoadGen gen(LoadGenOptions{64});
  const SteadyTime t0 = std::chrono::steady_clock::now() + Millis(200);
  // 200 calls a second for three seconds; the server stalls from 1.0 s to 2.0 s.
  std::atomic<int> done{0};
  const int calls = 600;
  for (int i = 0; i < calls; ++i) {
    gen.Submit(
        t0 + Millis(i * 5), "GET /x",
        [&] {
          http::Request req = http::NewRequest(http::Method::kGet, "/x");
          auto r = client.Send(server.url(), req, std::chrono::steady_clock::now() + Millis(10'000));
          return r.ok() ? CallOutcome{r->status, r->body, Status::Ok()} : CallOutcome{0, "", r.status()};
        },
        [&](CallOutcome) { ++done; });
  }
  gen.Schedule(t0 + Millis(1000), [&] { server.StallUntil(t0 + Millis(2000)); });
  for (int i = 0; i < 200 && done.load() < calls; ++i) std::this_thread::sleep_for(Millis(50));
  ASSERT_EQ(done.load(), calls);
  const EndpointStats s = gen.Stats().at("GET /x");
  EXPECT_EQ(s.ok, calls);
  // A fifth of the calls were due during the stall and waited up to its end: p90 and p99 show it.
  EXPECT_GT(s.latency.Percentile(0.99), 800'000);
  EXPECT_GT(s.latency.Percentile(0.9), 400'000);
  EXPECT_LT(s.latency.Percentile(0.5), 100'000);
}

TEST(LoadGen, ErrorsAreClassifiedWithAnExample) {
  LoadGen gen(LoadGenOptions{4});
  std::atomic<int> done{0};
  const SteadyTime later = std::chrono::steady_clock::now();
  for (int status : {200, 404, 503, 0}) {
    gen.Submit(
        later, "GET /y",
        [status] {
          return status ? CallOutcome{status, "{\"status\":" + std::to_string(status) + "}", Status::Ok()}
                        : CallOutcome{0, "", DeadlineExceeded("slow")};
        },
        [&](CallOutcome) { ++done; });
  }
  for (int i = 0; i < 100 && done.load() < 4; ++i) std::this_thread::sleep_for(Millis(20));
  ASSERT_EQ(done.load(), 4);
  const EndpointStats s = gen.Stats().at("GET /y");
  EXPECT_EQ(s.ok, 1);
  EXPECT_EQ(s.errors.at("client_404"), 1);
  EXPECT_EQ(s.errors.at("server_503"), 1);
  EXPECT_EQ(s.errors.at("timeout"), 1);
  EXPECT_EQ(s.examples.at("client_404"), "{\"status\":404}");
  EXPECT_EQ(s.examples.at("timeout"), "slow");
}

}  // namespace
}  // namespace emporium::sim
