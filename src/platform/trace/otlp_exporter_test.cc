#include "platform/trace/otlp_exporter.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/core/json.h"

namespace emporium::trace {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// A collector stand-in: accepts connections on a free loopback port, answers every request with
// `status`, and records method, target, content type and body.
class FakeCollector {
 public:
  struct Received {
    std::string method, target, content_type, body;
  };

  explicit FakeCollector(int status = 200)
      : status_(status), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeCollector() {
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

  // Waits up to 10 s for n requests; returns what arrived.
  std::vector<Received> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return received_.size() >= n; });
    return received_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return received_.size();
  }

 private:
  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      std::lock_guard lock(mu_);
      tcp::socket& s = sockets_.emplace_back(std::move(socket));
      workers_.emplace_back([this, &s] { Serve(s); });
    }
  }

  void Serve(tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      boost::system::error_code ec;
      bhttp::read(socket, buffer, req, ec);
      if (ec) return;
      {
        std::lock_guard lock(mu_);
        received_.push_back({std::string(req.method_string()), std::string(req.target()),
                             std::string(req[bhttp::field::content_type]), req.body()});
      }
      cv_.notify_all();
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status_), 11};
      res.body() = "{}";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(socket, res, ec);
      if (ec) return;
    }
  }

  const int status_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<tcp::socket> sockets_;
  std::vector<std::thread> workers_;
  std::vector<Received> received_;
};

Span MakeSpan(const std::string& name) {
  TraceContext ctx = ChildOf(NewRoot());
  Span span = Span::Start(ctx, name, SpanKind::kServer, SystemTime(std::chrono::seconds(1'700'000'000)));
  span.SetAttribute("http.route", "/v1/products/{id}");
  span.SetAttribute("http.response.status_code", int64_t{503});
  span.status = SpanStatus::kError;
  span.status_message = "upstream down";
  span.End(SystemTime(std::chrono::seconds(1'700'000'001)));
  return span;
}

OtlpOptions Options(const FakeCollector& collector) {
  OtlpOptions o;
  o.endpoint = collector.url();
  o.service_name = "catalog";
  o.flush_interval = Millis(60'000);  // only batch-full and Shutdown trigger sends in tests
  o.export_timeout = Millis(5'000);
  return o;
}

const boost::json::value* Find(const boost::json::value& v, std::string_view key) {
  return v.is_object() ? v.as_object().if_contains(key) : nullptr;
}

TEST(OtlpExporter, PostsOtlpJsonOnShutdown) {
  FakeCollector collector;
  std::unique_ptr<Exporter> exporter = NewOtlpHttpExporter(Options(collector));
  Span span = MakeSpan("GET /v1/products/{id}");
  exporter->Export(span);
  exporter->Shutdown();

  std::vector<FakeCollector::Received> got = collector.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/v1/traces");
  EXPECT_EQ(got[0].content_type, "application/json");
  EXPECT_EQ(exporter->stats().exported, 1u);

  Result<boost::json::value> parsed = json::Parse(got[0].body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << got[0].body;
  const boost::json::value& root = *parsed;
  const auto& rs = root.at("resourceSpans").as_array();
  ASSERT_EQ(rs.size(), 1u);
  const auto& resource_attrs = rs[0].at("resource").at("attributes").as_array();
  ASSERT_EQ(resource_attrs.size(), 1u);
  EXPECT_EQ(resource_attrs[0].at("key").as_string(), "service.name");
  EXPECT_EQ(resource_attrs[0].at("value").at("stringValue").as_string(), "catalog");

  const auto& scope_spans = rs[0].at("scopeSpans").as_array();
  ASSERT_EQ(scope_spans.size(), 1u);
  EXPECT_TRUE(scope_spans[0].at("scope").at("name").is_string());
  const auto& spans = scope_spans[0].at("spans").as_array();
  ASSERT_EQ(spans.size(), 1u);
  const boost::json::value& s = spans[0];
  EXPECT_EQ(s.at("traceId").as_string(), span.trace_id);
  EXPECT_EQ(s.at("spanId").as_string(), span.span_id);
  EXPECT_EQ(s.at("parentSpanId").as_string(), span.parent_id);
  EXPECT_EQ(s.at("name").as_string(), "GET /v1/products/{id}");
  EXPECT_EQ(s.at("kind").as_int64(), 2);  // SPAN_KIND_SERVER
  EXPECT_EQ(s.at("startTimeUnixNano").as_string(), "1700000000000000000");
  EXPECT_EQ(s.at("endTimeUnixNano").as_string(), "1700000001000000000");
  const auto& attrs = s.at("attributes").as_array();
  ASSERT_EQ(attrs.size(), 2u);
  EXPECT_EQ(attrs[0].at("key").as_string(), "http.route");
  EXPECT_EQ(attrs[0].at("value").at("stringValue").as_string(), "/v1/products/{id}");
  EXPECT_EQ(attrs[1].at("key").as_string(), "http.response.status_code");
  EXPECT_EQ(attrs[1].at("value").at("intValue").as_string(), "503");
  EXPECT_EQ(s.at("status").at("code").as_int64(), 2);  // STATUS_CODE_ERROR
  EXPECT_EQ(s.at("status").at("message").as_string(), "upstream down");
}

TEST(OtlpExporter, RootSpanHasNoParentField) {
  Span span = Span::Start(NewRoot(), "root", SpanKind::kInternal, SystemTime{});
  Result<boost::json::value> parsed = json::Parse(EncodeOtlpJson("svc", {span}));
  ASSERT_TRUE(parsed.ok());
  const auto& s = parsed->at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(Find(s, "parentSpanId"), nullptr);
  EXPECT_EQ(s.at("kind").as_int64(), 1);
}

TEST(OtlpExporter, FlushesWhenBatchIsFull) {
  FakeCollector collector;
  OtlpOptions options = Options(collector);
  options.max_batch = 3;
  std::unique_ptr<Exporter> exporter = NewOtlpHttpExporter(options);
  for (int i = 0; i < 3; ++i) exporter->Export(MakeSpan("span" + std::to_string(i)));

  // The interval is a minute: only the full batch can have triggered this request.
  std::vector<FakeCollector::Received> got = collector.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  Result<boost::json::value> parsed = json::Parse(got[0].body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().size(), 3u);
  exporter->Shutdown();
  EXPECT_EQ(collector.count(), 1u);
}

TEST(OtlpExporter, FlushesOnInterval) {
  FakeCollector collector;
  OtlpOptions options = Options(collector);
  options.flush_interval = Millis(20);
  std::unique_ptr<Exporter> exporter = NewOtlpHttpExporter(options);
  exporter->Export(MakeSpan("lonely"));
  EXPECT_EQ(collector.WaitFor(1).size(), 1u);
  exporter->Shutdown();
}

TEST(OtlpExporter, DropsAndCountsWhenQueueIsFull) {
  FakeCollector collector;
  OtlpOptions options = Options(collector);
  options.max_queue = 4;
  options.max_batch = 100;  // never full, so nothing leaves the queue before Shutdown
  std::unique_ptr<Exporter> exporter = NewOtlpHttpExporter(options);
  for (int i = 0; i < 10; ++i) exporter->Export(MakeSpan("s"));
  EXPECT_EQ(exporter->stats().dropped, 6u);
  exporter->Shutdown();
  EXPECT_EQ(exporter->stats().exported, 4u);
  exporter->Export(MakeSpan("after shutdown"));
  EXPECT_EQ(exporter->stats().dropped, 7u);
}

TEST(OtlpExporter, CountsRejectedBatchesAsFailed) {
  FakeCollector collector(500);
  std::unique_ptr<Exporter> exporter = NewOtlpHttpExporter(Options(collector));
  exporter->Export(MakeSpan("a"));
  exporter->Export(MakeSpan("b"));
  exporter->Shutdown();
  EXPECT_EQ(exporter->stats().failed, 2u);
  EXPECT_EQ(exporter->stats().exported, 0u);
}

TEST(OtlpExporter, NoEndpointMeansNoop) {
  std::unique_ptr<Exporter> exporter = NewExporter(OtlpOptions{});
  exporter->Export(MakeSpan("x"));
  exporter->Shutdown();
  EXPECT_EQ(exporter->stats().dropped, 1u);
}

}  // namespace
}  // namespace emporium::trace
