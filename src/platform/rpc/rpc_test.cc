#include "platform/rpc/rpc.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/trace/trace.h"

namespace emporium::rpc {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

// A real HTTP/1.1 server on a free loopback port: one thread per connection, keep-alive, and a
// handler the test supplies. Counts connections and requests.
class TestServer {
 public:
  using Handler = std::function<BeastResponse(const BeastRequest&)>;

  explicit TestServer(Handler handler, bool close_after_each = false)
      : handler_(std::move(handler)),
        close_after_each_(close_after_each),
        acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestServer() {
    stopping_ = true;
    {
      tcp::socket wake(ioc_);
      boost::system::error_code ec;
      wake.connect(acceptor_.local_endpoint(), ec);
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (tcp::socket& s : sockets_) ::shutdown(s.native_handle(), SHUT_RDWR);
    }
    for (std::thread& t : workers_) t.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }
  // Headers of the latest request.
  std::string LastHeader(bhttp::field f) {
    std::lock_guard lock(mu_);
    return std::string(last_[f]);
  }
  std::string LastHeader(std::string_view name) {
    std::lock_guard lock(mu_);
    return std::string(last_[name]);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      ++connections_;
      std::lock_guard lock(mu_);
      tcp::socket& s = sockets_.emplace_back(std::move(socket));
      workers_.emplace_back([this, &s] { Serve(s); });
    }
  }

  void Serve(tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      BeastRequest req;
      boost::system::error_code ec;
      bhttp::read(socket, buffer, req, ec);
      if (ec) return;
      ++requests_;
      {
        std::lock_guard lock(mu_);
        last_ = req;
      }
      BeastResponse res = handler_(req);
      res.version(11);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(socket, res, ec);
      if (ec || !req.keep_alive() || close_after_each_) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }

  const Handler handler_;
  const bool close_after_each_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<tcp::socket> sockets_;
  std::vector<std::thread> workers_;
  BeastRequest last_;
};

BeastResponse Reply(int status, std::string body = "ok") {
  BeastResponse res{static_cast<bhttp::status>(status), 11};
  res.body() = std::move(body);
  return res;
}

http::Request Get(std::string target) {
  http::Request req;
  req.method = http::Method::kGet;
  req.target = std::move(target);
  return req;
}

http::Request ParentRequest(SteadyTime deadline) {
  http::Request parent;
  parent.trace = trace::ChildOf(trace::NewRoot());
  parent.request_id = "req-parent-42";
  parent.deadline = deadline;
  return parent;
}

RemoteOptions FastRetries() {
  RemoteOptions o;
  o.backoff.base = Millis(1);
  o.backoff.cap = Millis(5);
  return o;
}

// ---- local transport ----

TEST(LocalClient, DispatchesWithDeadlineTraceAndRequestId) {
  FakeClock clock;
  http::Request parent = ParentRequest(clock.Now() + Millis(500));
  http::Request seen;
  int calls = 0;
  auto client = NewLocalClient(
      "catalog",
      [&](http::Request& req) {
        ++calls;
        seen = req;
        return http::Response::Json(200, R"({"id":1})");
      },
      clock);
  EXPECT_EQ(client->module(), "catalog");
  EXPECT_FALSE(client->remote());
  EXPECT_FALSE(client->breaker().has_value());

  CallOptions options;
  options.timeout = Millis(2000);
  options.parent = &parent;
  Result<http::Response> res = client->Call(Get("/v1/products/7?fields=name"), options);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen.path, "/v1/products/7");
  EXPECT_EQ(seen.query, "fields=name");
  EXPECT_EQ(seen.method_name, "GET");
  // The parent's deadline is sooner than now + timeout, so it wins.
  EXPECT_EQ(seen.deadline, parent.deadline);
  EXPECT_EQ(seen.request_id, "req-parent-42");
  EXPECT_EQ(seen.trace.trace_id, parent.trace.trace_id);
  EXPECT_EQ(seen.trace.parent_id, parent.trace.span_id);
  EXPECT_NE(seen.trace.span_id, parent.trace.span_id);
  EXPECT_TRUE(trace::IsValidSpanId(seen.trace.span_id));
  EXPECT_EQ(seen.headers.Get("traceparent").value_or(""), trace::FormatTraceparent(seen.trace));
}

TEST(LocalClient, PassedDeadlineFailsWithoutCallingDispatch) {
  FakeClock clock;
  http::Request parent = ParentRequest(clock.Now() - Millis(1));
  int calls = 0;
  auto client = NewLocalClient(
      "catalog",
      [&](http::Request&) {
        ++calls;
        return http::Response::Json(200, "{}");
      },
      clock);
  CallOptions options;
  options.parent = &parent;
  Result<http::Response> res = client->Call(Get("/x"), options);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(calls, 0);

  options.parent = nullptr;
  options.timeout = Millis(0);
  EXPECT_EQ(client->Call(Get("/x"), options).status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(calls, 0);
}

TEST(LocalClient, DispatchThatOverrunsTheDeadlineReportsIt) {
  FakeClock clock;
  auto client = NewLocalClient(
      "slow",
      [&](http::Request&) {
        clock.Advance(Millis(150));
        return http::Response::Json(200, "{}");
      },
      clock);
  CallOptions options;
  options.timeout = Millis(100);
  EXPECT_EQ(client->Call(Get("/x"), options).status().code(), Code::kDeadlineExceeded);
}

TEST(LocalClient, WithoutParentStartsNewTraceAndRequestId) {
  http::Request seen;
  auto client = NewLocalClient("a", [&](http::Request& req) {
    seen = req;
    return http::Response::Json(200, "{}");
  });
  ASSERT_TRUE(client->Call(Get("/x"), CallOptions{}).ok());
  EXPECT_TRUE(trace::IsValidTraceId(seen.trace.trace_id));
  EXPECT_TRUE(seen.trace.parent_id.empty());
  EXPECT_FALSE(seen.request_id.empty());
}

TEST(LocalClient, ExceptionBecomesInternal) {
  auto client =
      NewLocalClient("a", [](http::Request&) -> http::Response { throw std::runtime_error("boom"); });
  EXPECT_EQ(client->Call(Get("/x"), CallOptions{}).status().code(), Code::kInternal);
}

// ---- remote transport ----

TEST(RemoteClient, PropagatesTraceDeadlineAndRequestId) {
  TestServer server([](const BeastRequest& req) { return Reply(200, std::string(req.target())); });
  auto client = NewRemoteClient("catalog", server.url(), RemoteOptions{}, SystemClock::Get());
  EXPECT_TRUE(client->remote());

  http::Request parent = ParentRequest(SystemClock::Get().Now() + Millis(800));
  CallOptions options;
  options.timeout = Millis(2000);
  options.parent = &parent;
  http::Request req = Get("/v1/products/7");
  req.headers.Set("Accept", "application/json");
  Result<http::Response> res = client->Call(std::move(req), options);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "/v1/products/7");

  std::optional<trace::TraceContext> sent = trace::ParseTraceparent(server.LastHeader("traceparent"));
  ASSERT_TRUE(sent.has_value()) << server.LastHeader("traceparent");
  EXPECT_EQ(sent->trace_id, parent.trace.trace_id);
  EXPECT_NE(sent->span_id, parent.trace.span_id);  // the callee's parent is our child span
  EXPECT_EQ(server.LastHeader("X-Request-Id"), "req-parent-42");
  EXPECT_EQ(server.LastHeader("Accept"), "application/json");
  int deadline_ms = std::stoi(server.LastHeader("X-Emporium-Deadline-Ms"));
  EXPECT_GT(deadline_ms, 0);
  EXPECT_LE(deadline_ms, 800);  // the parent's deadline, not the 2 s timeout
}

TEST(RemoteClient, PostSendsBodyWithContentLength) {
  TestServer server([](const BeastRequest& req) {
    return Reply(201, std::string(req[bhttp::field::content_length]) + ":" + req.body());
  });
  auto client = NewRemoteClient("orders", server.url(), RemoteOptions{}, SystemClock::Get());
  http::Request req;
  req.method = http::Method::kPost;
  req.target = "/v1/orders";
  req.body = R"({"sku":"A1"})";
  Result<http::Response> res = client->Call(std::move(req), CallOptions{});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, R"(12:{"sku":"A1"})");
}

TEST(RemoteClient, RetriesIdempotentCallAfter503) {
  std::atomic<int> calls{0};
  TestServer server(
      [&](const BeastRequest&) { return ++calls == 1 ? Reply(503, "busy") : Reply(200, "fine"); });
  auto client = NewRemoteClient("catalog", server.url(), FastRetries(), SystemClock::Get());
  CallOptions options;
  options.idempotent = true;
  Result<http::Response> res = client->Call(Get("/x"), options);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "fine");
  EXPECT_EQ(server.requests(), 2);
}

TEST(RemoteClient, DoesNotRetryNonIdempotentCall) {
  TestServer server([](const BeastRequest&) { return Reply(503, "busy"); });
  auto client = NewRemoteClient("orders", server.url(), FastRetries(), SystemClock::Get());
  Result<http::Response> res = client->Call(Get("/x"), CallOptions{});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 503);  // the upstream's answer, not a synthesized error
  EXPECT_EQ(res->body, "busy");
  EXPECT_EQ(server.requests(), 1);
}

TEST(RemoteClient, GivesBackLast503WhenRetriesRunOut) {
  TestServer server([](const BeastRequest&) { return Reply(503, "still busy"); });
  RemoteOptions o = FastRetries();
  o.max_attempts = 3;
  auto client = NewRemoteClient("catalog", server.url(), o, SystemClock::Get());
  CallOptions options;
  options.idempotent = true;
  Result<http::Response> res = client->Call(Get("/x"), options);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(server.requests(), 3);
}

TEST(RemoteClient, BreakerOpensAfterFailuresAndFailsFast) {
  TestServer server([](const BeastRequest&) { return Reply(500, "bug"); });
  RemoteOptions o = FastRetries();
  o.breaker.consecutive_failures = 3;
  o.breaker.open_interval = std::chrono::seconds(60);
  auto client = NewRemoteClient("payments", server.url(), o, SystemClock::Get());
  for (int i = 0; i < 3; ++i) {
    Result<http::Response> res = client->Call(Get("/x"), CallOptions{});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 500);
  }
  ASSERT_TRUE(client->breaker().has_value());
  EXPECT_EQ(client->breaker()->state, resilience::BreakerState::kOpen);
  Result<http::Response> res = client->Call(Get("/x"), CallOptions{});
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kUnavailable);
  EXPECT_EQ(server.requests(), 3);  // failed fast: never reached the server
}

TEST(RemoteClient, ClientErrorsDoNotTripTheBreaker) {
  TestServer server([](const BeastRequest&) { return Reply(404, "nope"); });
  RemoteOptions o;
  o.breaker.consecutive_failures = 2;
  auto client = NewRemoteClient("catalog", server.url(), o, SystemClock::Get());
  for (int i = 0; i < 5; ++i) {
    Result<http::Response> res = client->Call(Get("/missing"), CallOptions{});
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->status, 404);
  }
  EXPECT_EQ(client->breaker()->state, resilience::BreakerState::kClosed);
}

TEST(RemoteClient, SlowServerExceedsDeadline) {
  TestServer server([](const BeastRequest&) {
    std::this_thread::sleep_for(Millis(700));
    return Reply(200);
  });
  auto client = NewRemoteClient("slow", server.url(), FastRetries(), SystemClock::Get());
  CallOptions options;
  options.timeout = Millis(100);
  SteadyTime start = std::chrono::steady_clock::now();
  Result<http::Response> res = client->Call(Get("/x"), options);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kDeadlineExceeded) << res.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(600));
}

TEST(RemoteClient, ParentDeadlineAlreadyPassedSendsNothing) {
  TestServer server([](const BeastRequest&) { return Reply(200); });
  auto client = NewRemoteClient("catalog", server.url(), RemoteOptions{}, SystemClock::Get());
  http::Request parent = ParentRequest(SystemClock::Get().Now() - Millis(1));
  CallOptions options;
  options.parent = &parent;
  EXPECT_EQ(client->Call(Get("/x"), options).status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(server.requests(), 0);
}

TEST(RemoteClient, KeepAliveReusesOneConnection) {
  TestServer server([](const BeastRequest&) { return Reply(200); });
  http::HttpClient http_client;
  RemoteOptions o;
  o.http_client = &http_client;
  auto client = NewRemoteClient("catalog", server.url(), o, SystemClock::Get());
  for (int i = 0; i < 5; ++i) {
    Result<http::Response> res = client->Call(Get("/x"), CallOptions{});
    ASSERT_TRUE(res.ok()) << res.status().ToString();
  }
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(http_client.connections_opened(), 1u);
  EXPECT_EQ(http_client.idle_connections(), 1u);
}

TEST(RemoteClient, ConnectionRefusedIsUnavailable) {
  std::string url;
  {
    TestServer gone([](const BeastRequest&) { return Reply(200); });
    url = gone.url();
  }
  auto client = NewRemoteClient("gone", url, FastRetries(), SystemClock::Get());
  EXPECT_EQ(client->Call(Get("/x"), CallOptions{}).status().code(), Code::kUnavailable);
}

// ---- the HTTP client underneath ----

TEST(HttpClient, ReplacesPooledConnectionThePeerClosed) {
  TestServer server([](const BeastRequest&) { return Reply(200); }, /*close_after_each=*/true);
  http::HttpClient client;
  for (int i = 0; i < 3; ++i) {
    Result<http::Response> res =
        client.Send(server.url(), Get("/x"), std::chrono::steady_clock::now() + Millis(2000));
    ASSERT_TRUE(res.ok()) << "call " << i << ": " << res.status().ToString();
    // Give the server's close time to reach us, so the pool sees a dead connection.
    std::this_thread::sleep_for(Millis(20));
  }
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(client.connections_opened(), 3u);
}

TEST(HttpClient, RejectsOversizedBody) {
  TestServer server([](const BeastRequest&) { return Reply(200, std::string(4096, 'x')); });
  http::ClientOptions options;
  options.max_body_bytes = 1024;
  http::HttpClient client(options);
  Result<http::Response> res =
      client.Send(server.url(), Get("/x"), std::chrono::steady_clock::now() + Millis(2000));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kInternal);
}

TEST(HttpClient, BaseUrlPrefixAndValidation) {
  TestServer server([](const BeastRequest& req) { return Reply(200, std::string(req.target())); });
  http::HttpClient client;
  SteadyTime deadline = std::chrono::steady_clock::now() + Millis(2000);
  Result<http::Response> res = client.Send(server.url() + "/api/", Get("/v1/x?a=1"), deadline);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "/api/v1/x?a=1");
  EXPECT_EQ(client.Send("https://example.com", Get("/"), deadline).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client.Send("http://127.0.0.1:99999", Get("/"), deadline).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(client.Send("http://127.0.0.1:notaport", Get("/"), deadline).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(client.Send(server.url(), Get("/"), std::chrono::steady_clock::now() - Millis(1)).status().code(),
            Code::kDeadlineExceeded);
}

}  // namespace
}  // namespace emporium::rpc
