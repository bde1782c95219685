#include "platform/http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <ctime>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "platform/core/random.h"
#include "platform/http/problem.h"
#include "platform/http/url.h"
#include "platform/log/log.h"
#include "platform/metrics/metrics.h"
#include "platform/trace/trace.h"

namespace emporium::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

// Date header value, recomputed at most once per second per thread.
const std::string& HttpDate() {
  thread_local std::string cached;
  thread_local std::time_t cached_at = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string NextRequestId() {
  static const std::string prefix = RandomHex(6);
  static std::atomic<uint64_t> counter{0};
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, counter.fetch_add(1, std::memory_order_relaxed), 16);
  (void)ec;
  return prefix + "-" + std::string(buf, end);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

void AppendStatusLine(std::string& out, unsigned version, int status) {
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += ReasonPhrase(status);
  out += "\r\n";
}

// Writes "Name: value\r\n"; CR and LF in a value are dropped so no handler can split the response.
void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  out += "\r\n";
}

bool NeedsMediaType(Method m) {
  return m == Method::kPost || m == Method::kPut || m == Method::kPatch;
}

bool AcceptedMediaType(std::string_view ct) {
  size_t semi = ct.find(';');
  std::string_view base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower;
  for (char c : base) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || lower == "application/x-www-form-urlencoded" ||
         (lower.starts_with("application/") && lower.ends_with("+json"));
}

}  // namespace

struct Server::Impl {
  ServerOptions opts;
  const Router& router;
  trace::Exporter* exporter;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::unique_ptr<asio::thread_pool> pool;
  uint16_t bound_port = 0;
  std::atomic<size_t> inflight{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::mutex shutdown_mu;

  // Per-thread set of idle connections, touched only on that context's thread.
  // A connection's I/O deadline is a plain time stamp that a per-thread sweeper checks a few
  // times a second (cancelling the socket when it passed), instead of a timer per operation.
  struct Conn {
    tcp::socket* socket;
    bool idle = true;
    bool streaming = false;  // sending a BodyStream: ended by Shutdown like an idle connection
    bool timed_out = false;
    SteadyTime deadline = SteadyTime::max();
  };
  std::vector<std::list<Conn>> conns;

  // Metric series per (route, method, status), cached per I/O thread so the hot path does not
  // build label strings or take the family's lock.
  struct SeriesKey {
    const Route* route;
    Method method;
    int status;
    bool operator==(const SeriesKey&) const = default;
  };
  struct SeriesKeyHash {
    size_t operator()(const SeriesKey& k) const {
      return std::hash<const void*>()(k.route) ^ (static_cast<size_t>(k.status) << 4) ^
             static_cast<size_t>(k.method);
    }
  };
  struct Series {
    metrics::Counter* count;
    metrics::Histogram* duration;
  };
  std::vector<std::unordered_map<SeriesKey, Series, SeriesKeyHash>> series_cache;

  const Series& SeriesFor(size_t index, const Route* route, Method method, int status) {
    auto [it, inserted] = series_cache[index].try_emplace(SeriesKey{route, method, status});
    if (inserted) {
      std::string label = route ? route->pattern : "unmatched";
      std::string m(MethodName(method));
      it->second = Series{&requests.With({label, m, std::to_string(status)}), &durations.With({label, m})};
    }
    return it->second;
  }

  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& durations;
  metrics::Gauge& inflight_gauge;
  metrics::Counter& rejected_malformed;

  Impl(ServerOptions o, const Router& r, metrics::Registry& reg, trace::Exporter* e)
      : opts(std::move(o)),
        router(r),
        exporter(e),
        requests(reg.AddCounter("http_requests_total", "HTTP requests by route, method and status.",
                                {"route", "method", "status"})),
        durations(reg.AddHistogram("http_request_duration_seconds",
                                   "HTTP request latency by route and method.", {"route", "method"})),
        inflight_gauge(reg.AddGauge("http_requests_in_flight", "HTTP requests being handled.").With({})),
        rejected_malformed(reg.AddCounter("http_malformed_requests_total",
                                          "Connections closed because the request could not be parsed.")
                               .With({})) {}
  // Sessions still suspended when the contexts stop (a request past the shutdown grace, a body
  // being read) are destroyed with their io_context, and their frames touch conns and the
  // acceptors: the contexts must go first, before the members declared after them.
  ~Impl() {
    acceptors.clear();
    contexts.clear();
  }

  awaitable<void> Accept(size_t index);
  awaitable<void> PumpStream(tcp::socket& socket, Conn& conn, BodyStream& body, bool chunked);
  awaitable<void> Sweep(size_t index);
  awaitable<void> Session(size_t index, tcp::socket socket);
  awaitable<Response> Handle(Request& req, Match m);
  Response RunHandler(const Route& route, Request& req);
  void CloseIdle(size_t index);
};

Response Server::Impl::RunHandler(const Route& route, Request& req) {
  if (SystemClock::Get().Now() > req.deadline) {
    return Problem(503, "The server is overloaded; the request timed out before it could run.", req.path);
  }
  try {
    return router.Invoke(route, req);
  } catch (const std::exception& e) {
    log::Error("handler threw",
               {{"route", route.pattern}, {"error", e.what()}, {"request_id", req.request_id}});
  } catch (...) {
    log::Error("handler threw", {{"route", route.pattern}, {"request_id", req.request_id}});
  }
  return Problem(500, "The server could not complete the request.", req.path);
}

awaitable<Response> Server::Impl::Handle(Request& req, Match m) {
  if (!m.route) {
    if (!m.allow.empty()) {
      Response r = Problem(
          405, "Method " + std::string(req.method_name) + " is not allowed on " + req.path + ".", req.path);
      r.headers.Set("Allow", m.allow);
      co_return r;
    }
    co_return Problem(404, "No resource at " + req.path + ".", req.path);
  }
  const Route& route = *m.route;
  req.path_params = std::move(m.params);
  if (route.options.max_body_bytes && req.body.size() > route.options.max_body_bytes) {
    co_return Problem(413,
                      "The request body exceeds " + std::to_string(route.options.max_body_bytes) + " bytes.",
                      req.path);
  }
  if (NeedsMediaType(req.method) && !req.body.empty()) {
    auto ct = req.headers.Get("Content-Type");
    if (!ct || !AcceptedMediaType(*ct)) {
      co_return Problem(415, "Send the body as application/json (or a form where the API says so).",
                        req.path);
    }
  }
  if (route.options.timeout.count() > 0) {
    req.deadline = std::min(req.deadline, SystemClock::Get().Now() + route.options.timeout);
  }
  if (!route.options.blocking) co_return RunHandler(route, req);
  co_return co_await asio::co_spawn(
      pool->get_executor(),
      [this, &route, &req]() -> awaitable<Response> { co_return RunHandler(route, req); }, use_awaitable);
}

awaitable<void> Server::Impl::Session(size_t index, tcp::socket socket) {
  tcp::socket& stream = socket;
  beast::flat_buffer buffer;
  std::string remote;
  {
    boost::system::error_code ec;
    auto ep = stream.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  std::string out;  // serialized response, reused across the connection's requests
  conns[index].push_front(Conn{&stream});
  auto self_it = conns[index].begin();
  auto arm = [&](Millis d) {
    self_it->deadline = SystemClock::Get().Now() + d;
    self_it->timed_out = false;
  };
  struct Unlink {
    std::list<Conn>& l;
    std::list<Conn>::iterator it;
    ~Unlink() { l.erase(it); }
  } unlink{conns[index], self_it};

  for (;;) {
    if (draining.load()) break;
    self_it->idle = true;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);
    arm(opts.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    self_it->idle = false;
    if (!ec && !parser.is_done()) {
      arm(opts.body_timeout);
      std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    }
    if (ec) {
      int status = 0;
      std::string detail;
      if (ec == bhttp::error::header_limit) {
        status = 431;
        detail = "Request headers exceed " + std::to_string(opts.max_header_bytes) + " bytes.";
      } else if (ec == bhttp::error::body_limit) {
        status = 413;
        detail = "The request body exceeds " + std::to_string(opts.max_body_bytes) + " bytes.";
      } else if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                 ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
                 self_it->timed_out) {
        // The client went away, was too slow (the sweeper cancelled the read), or the server is
        // draining: just disconnect.
        break;
      } else {
        status = 400;
        detail = "The request could not be parsed as HTTP/1.1: " + ec.message() + ".";
      }
      rejected_malformed.Inc();
      Response r = Problem(status, detail);
      out.clear();
      AppendStatusLine(out, 11, status);
      for (const auto& [k, v] : r.headers.all()) AppendField(out, k, v);
      AppendField(out, "Connection", "close");
      AppendField(out, "Date", HttpDate());
      AppendField(out, "Content-Length", std::to_string(r.body.size()));
      out += "\r\n";
      out += r.body;
      arm(Millis(5000));
      co_await asio::async_write(stream, asio::buffer(out), kTuple);
      break;
    }

    self_it->deadline = SteadyTime::max();  // no I/O while the handler runs
    auto& breq = parser.get();
    const SteadyTime start = SystemClock::Get().Now();
    inflight.fetch_add(1);
    inflight_gauge.Add(1);

    Request req;
    req.method_name = std::string(breq.method_string());
    req.method = ParseMethod(req.method_name);
    req.target = std::string(breq.target());
    std::string_view target = req.target;
    size_t q = target.find('?');
    req.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
    auto decoded = DecodePath(target.substr(0, q));
    for (const auto& f : breq) req.headers.Add(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(breq.body());
    req.peer_addr = remote;
    {
      auto country = req.headers.Get("X-Client-Country");
      if (!country) country = req.headers.Get("CF-IPCountry");
      ClientOrigin origin =
          ResolveClient(remote, req.headers.Get("X-Forwarded-For"), country, opts.trusted_proxies);
      req.remote_addr = std::move(origin.address);
      req.client_country = std::move(origin.country);
    }
    auto rid = req.headers.Get("X-Request-Id");
    req.request_id = rid && SaneRequestId(*rid) ? std::string(*rid) : NextRequestId();
    auto tp = req.headers.Get("traceparent");
    auto parent = tp ? trace::ParseTraceparent(*tp) : std::nullopt;
    req.trace = parent ? trace::ChildOf(*parent) : trace::NewRoot();
    req.deadline = start + opts.request_timeout;
    if (auto d = req.headers.Get("X-Emporium-Deadline-Ms")) {
      int64_t ms = 0;
      auto [p, perr] = std::from_chars(d->data(), d->data() + d->size(), ms);
      if (perr == std::errc() && ms >= 0) req.deadline = std::min(req.deadline, start + Millis(ms));
    }

    Response resp;
    const Route* matched = nullptr;
    if (!decoded || target.empty() || target[0] != '/') {
      resp = Problem(400, "The request target is not a valid origin-form path.");
    } else if (inflight.load() > opts.max_inflight) {
      resp = Problem(503, "The server is at capacity; retry shortly.", *decoded);
      resp.headers.Set("Retry-After", "1");
    } else {
      req.path = std::move(*decoded);
      Match m = router.Find(req.method, req.path);
      matched = m.route;
      resp = co_await Handle(req, std::move(m));
    }

    const bool head = req.method == Method::kHead;
    const bool streaming = resp.stream && !head;
    // A streamed response ends the connection: its end is the end of the body.
    const bool keep_alive = breq.keep_alive() && !draining.load() && !streaming;
    out.clear();
    AppendStatusLine(out, breq.version(), resp.status);
    for (const auto& [k, v] : resp.headers.all()) {
      if (EqualsIgnoreCase(k, "Content-Length") || EqualsIgnoreCase(k, "Connection")) continue;
      AppendField(out, k, v);
    }
    AppendField(out, "X-Request-Id", req.request_id);
    AppendField(out, "traceparent", req.trace.ToTraceparent());
    AppendField(out, "Date", HttpDate());
    if (!keep_alive) {
      AppendField(out, "Connection", "close");
    } else if (breq.version() == 10) {
      AppendField(out, "Connection", "keep-alive");
    }
    const bool chunked = streaming && breq.version() == 11;
    if (chunked) {
      AppendField(out, "Transfer-Encoding", "chunked");
    } else if (!streaming) {
      AppendField(out, "Content-Length", std::to_string(resp.body.size()));
    }
    out += "\r\n";
    if (!head && !streaming) out += resp.body;

    arm(opts.body_timeout);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
    if (!wec && streaming) {
      self_it->streaming = true;
      co_await PumpStream(stream, *self_it, *resp.stream, chunked);
    }
    if (resp.stream) resp.stream->Close();

    const SteadyTime end = SystemClock::Get().Now();
    const double seconds = std::chrono::duration<double>(end - start).count();
    const std::string_view method = MethodName(req.method);
    const std::string_view route_label = matched ? std::string_view(matched->pattern) : "unmatched";
    const Series& series = SeriesFor(index, matched, req.method, resp.status);
    series.count->Inc();
    series.duration->Observe(seconds);
    inflight.fetch_sub(1);
    inflight_gauge.Add(-1);
    if (exporter) {
      trace::Span span;
      span.trace_id = req.trace.trace_id;
      span.span_id = req.trace.span_id;
      span.parent_id = req.trace.parent_id;
      span.name = std::string(method) + " " + std::string(route_label);
      span.kind = trace::SpanKind::kServer;
      span.end_unix_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                SystemClock::Get().WallNow().time_since_epoch())
                                .count();
      span.start_unix_nanos = span.end_unix_nanos - static_cast<int64_t>(seconds * 1e9);
      span.attributes.emplace_back("http.request.method", std::string(method));
      span.attributes.emplace_back("http.route", std::string(route_label));
      span.attributes.emplace_back("http.response.status_code", int64_t{resp.status});
      if (resp.status >= 500) span.status = trace::SpanStatus::kError;
      exporter->Export(std::move(span));
    }
    if (opts.access_log) {
      log::Info("request", {{"method", req.method_name},
                            {"path", req.path},
                            {"route", route_label},
                            {"status", resp.status},
                            {"duration_ms", seconds * 1000.0},
                            {"remote", remote},
                            {"request_id", req.request_id},
                            {"trace_id", req.trace.trace_id}});
    }
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.shutdown(tcp::socket::shutdown_both, ignored);
}

// Sends what the BodyStream yields whenever it wakes us (or every idle_interval), until it ends,
// the client closes (a read on the socket completes) or the server drains (the socket is
// cancelled).
awaitable<void> Server::Impl::PumpStream(tcp::socket& stream, Conn& conn, BodyStream& body, bool chunked) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = stream.get_executor();
  auto timer = std::make_shared<asio::steady_timer>(executor);
  auto woken = std::make_shared<std::atomic<bool>>(true);
  std::weak_ptr<asio::steady_timer> weak_timer = timer;
  body.Subscribe([weak_timer, woken, executor] {
    woken->store(true);
    asio::post(executor, [weak_timer] {
      if (auto t = weak_timer.lock()) t->cancel();
    });
  });
  std::array<char, 256> sink;
  std::string data;
  std::string frame;
  bool open = true;
  while (open && !draining.load()) {
    woken->store(false);
    data.clear();
    open = body.Read(data);
    if (!data.empty()) {
      frame.clear();
      if (chunked) {
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", data.size());
        frame += size;
      }
      frame += data;
      if (chunked) frame += "\r\n";
      conn.deadline = SystemClock::Get().Now() + opts.body_timeout;
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(frame), kTuple);
      conn.deadline = SteadyTime::max();
      if (ec) co_return;
    }
    if (!open || woken->load()) continue;
    timer->expires_after(body.idle_interval());
    auto result = co_await (timer->async_wait(kTuple) || stream.async_read_some(asio::buffer(sink), kTuple));
    if (result.index() == 1) {
      auto [ec, n] = std::get<1>(result);
      if (ec) co_return;  // the client closed the connection, or the server is draining
    }
  }
  if (chunked && !draining.load()) {
    conn.deadline = SystemClock::Get().Now() + Millis(1000);
    co_await asio::async_write(stream, asio::buffer(std::string_view("0\r\n\r\n")), kTuple);
  }
}

awaitable<void> Server::Impl::Sweep(size_t index) {
  asio::steady_timer timer(*contexts[index]);
  while (!stopped.load()) {
    timer.expires_after(Millis(100));
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec) co_return;
    const SteadyTime now = SystemClock::Get().Now();
    for (Conn& c : conns[index]) {
      if (c.deadline < now && !c.timed_out) {
        c.timed_out = true;
        boost::system::error_code ignored;
        c.socket->cancel(ignored);
      }
    }
  }
}

awaitable<void> Server::Impl::Accept(size_t index) {
  auto& acceptor = *acceptors[index];
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(*contexts[index], Session(index, std::move(socket)), asio::detached);
  }
}

void Server::Impl::CloseIdle(size_t index) {
  for (auto& c : conns[index]) {
    if (c.idle || c.streaming) {
      boost::system::error_code ignored;
      c.socket->cancel(ignored);
    }
  }
}

Server::Server(ServerOptions options, const Router& router, metrics::Registry& registry,
               trace::Exporter* exporter)
    : impl_(std::make_unique<Impl>(std::move(options), router, registry, exporter)) {}

Server::~Server() {
  Shutdown();
}

Status Server::Start() {
  Impl& s = *impl_;
  int n = s.opts.threads > 0 ? s.opts.threads
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.pool = std::make_unique<asio::thread_pool>(std::max(1, s.opts.blocking_threads));
  s.conns.resize(static_cast<size_t>(n));
  s.series_cache.resize(static_cast<size_t>(n));
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(s.opts.host, ec);
  if (ec) return InvalidArgument("http-host '" + s.opts.host + "' is not an IP address");
  uint16_t port = s.opts.port;
  if (port != 0) {
    // SO_REUSEPORT below would let a second process of the same user bind this port too, and the
    // kernel would then split connections between the two servers. A bind without it fails on a
    // port that anyone listens on, so a busy port fails Start (the probe is released just before
    // the real binds; only two servers starting in the same instant can slip through).
    asio::io_context probe_ctx(1);
    tcp::acceptor probe(probe_ctx);
    tcp::endpoint ep(addr, port);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) {
      return Unavailable("cannot listen on " + s.opts.host + ":" + std::to_string(port) + ": " +
                         ec.message() + " (is another server using the port? set --http-port)");
    }
  }
  for (int i = 0; i < n; ++i) {
    // One thread runs each context; other threads only post to it, so the reactor needs no locking.
    s.contexts.push_back(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
    auto acc = std::make_unique<tcp::acceptor>(*s.contexts.back());
    tcp::endpoint ep(addr, port);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return Internal("SO_REUSEPORT is not available");
      }
    }
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("cannot listen on " + s.opts.host + ":" + std::to_string(port) + ": " +
                         ec.message() + " (is another server using the port? set --http-port)");
    }
    if (port == 0) port = acc->local_endpoint().port();
    s.acceptors.push_back(std::move(acc));
  }
  s.bound_port = port;
  for (int i = 0; i < n; ++i) {
    asio::co_spawn(*s.contexts[static_cast<size_t>(i)], s.Accept(static_cast<size_t>(i)), asio::detached);
    asio::co_spawn(*s.contexts[static_cast<size_t>(i)], s.Sweep(static_cast<size_t>(i)), asio::detached);
    s.threads.emplace_back([&s, i] { s.contexts[static_cast<size_t>(i)]->run(); });
  }
  log::Info("http server listening", {{"host", s.opts.host}, {"port", int64_t{port}}, {"threads", n}});
  return Status::Ok();
}

uint16_t Server::port() const {
  return impl_->bound_port;
}
size_t Server::inflight() const {
  return impl_->inflight.load();
}

void Server::Shutdown() {
  Impl& s = *impl_;
  std::lock_guard lock(s.shutdown_mu);
  if (s.stopped.exchange(true) || s.contexts.empty()) return;
  s.draining = true;
  for (size_t i = 0; i < s.contexts.size(); ++i) {
    asio::post(*s.contexts[i], [&s, i] {
      boost::system::error_code ignored;
      s.acceptors[i]->close(ignored);
      s.CloseIdle(i);
    });
  }
  const SteadyTime give_up = SystemClock::Get().Now() + s.opts.shutdown_grace;
  while (s.inflight.load() > 0 && SystemClock::Get().Now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (size_t i = 0; i < s.contexts.size(); ++i) asio::post(*s.contexts[i], [&s, i] { s.CloseIdle(i); });
  }
  const size_t left = s.inflight.load();
  if (left > 0) log::Warn("shutdown grace elapsed with requests in flight", {{"inflight", left}});
  // Let the last responses flush before the contexts stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& ctx : s.contexts) ctx->stop();
  for (auto& t : s.threads) t.join();
  s.pool->join();
  log::Info("http server stopped", {});
}

}  // namespace emporium::http
