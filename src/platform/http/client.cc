#include "platform/http/client.h"

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace emporium::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using OutMessage = bhttp::request<bhttp::string_body>;

struct Endpoint {
  std::string host;  // without IPv6 brackets
  std::string port;
  std::string host_header;  // authority as written in the URL
  std::string prefix;       // path prefix without trailing '/'
  std::string key;          // pool key
};

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int value = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  return value > 0 && value <= 65535;
}

Result<Endpoint> ParseBaseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("base URL must start with http://: '" + std::string(url) + "'");
  }
  url.remove_prefix(kScheme.size());
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Endpoint ep;
  if (slash != std::string_view::npos) {
    ep.prefix = std::string(url.substr(slash));
    while (!ep.prefix.empty() && ep.prefix.back() == '/') ep.prefix.pop_back();
  }
  if (authority.empty()) return InvalidArgument("base URL has no host");
  std::string_view rest;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("base URL has a bad IPv6 host");
    ep.host = std::string(authority.substr(1, close - 1));
    rest = authority.substr(close + 1);
  } else {
    size_t colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || !IsPort(rest.substr(1))) {
      return InvalidArgument("base URL has a bad port: '" + std::string(authority) + "'");
    }
    ep.port = std::string(rest.substr(1));
  } else {
    ep.port = "80";
  }
  if (ep.host.empty()) return InvalidArgument("base URL has no host");
  ep.host_header = std::string(authority);
  ep.key = ep.host + "|" + ep.port;
  return ep;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

OutMessage BuildMessage(const Endpoint& ep, const Request& req) {
  OutMessage msg;
  std::string_view name =
      req.method == Method::kOther ? std::string_view(req.method_name) : MethodName(req.method);
  bhttp::verb verb = bhttp::string_to_verb(name);
  if (verb == bhttp::verb::unknown) {
    msg.method_string(name);
  } else {
    msg.method(verb);
  }
  std::string target = req.target;
  if (target.empty()) {
    target = req.path.empty() ? "/" : req.path;
    if (!req.query.empty()) target += "?" + req.query;
  }
  msg.target(ep.prefix + target);
  msg.version(11);
  for (const auto& [field, value] : req.headers.all()) {
    // Framing and connection management belong to this client, not to the caller.
    if (IEquals(field, "content-length") || IEquals(field, "transfer-encoding") ||
        IEquals(field, "connection") || IEquals(field, "host")) {
      continue;
    }
    msg.insert(field, value);
  }
  msg.set(bhttp::field::host, ep.host_header);
  msg.keep_alive(true);
  msg.body() = req.body;
  msg.prepare_payload();
  return msg;
}

// One TCP connection with a private io_context: the client is synchronous, so each exchange
// runs the connection's pending asynchronous operations to completion on the calling thread.
// Asynchronous operations are what give tcp_stream's deadline its teeth.
struct Connection {
  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  SteadyTime idle_since;

  void RunPending() {
    ioc.restart();
    ioc.run();
  }
  void ExpireAt(SteadyTime deadline) {
    if (deadline == SteadyTime::max()) {
      stream.expires_never();
    } else {
      stream.expires_at(deadline);
    }
  }
};

// False when the peer closed or reset an idle connection, or sent bytes nobody asked for:
// such a connection cannot carry a new exchange.
bool LooksAlive(Connection& c) {
  if (c.buffer.size() != 0) return false;
  tcp::socket& socket = c.stream.socket();
  ErrorCode ec;
  socket.non_blocking(true, ec);
  if (ec) return false;
  char byte = 0;
  socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  ErrorCode ignored;
  socket.non_blocking(false, ignored);
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

Status Connect(Connection& c, const Endpoint& ep, SteadyTime deadline) {
  ErrorCode ec;
  std::vector<tcp::endpoint> endpoints;
  uint16_t port = static_cast<uint16_t>(std::stoi(ep.port));
  asio::ip::address address = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else {
    tcp::resolver resolver(c.ioc);
    bool done = false;
    resolver.async_resolve(ep.host, ep.port,
                           [&](const ErrorCode& e, const tcp::resolver::results_type& results) {
                             done = true;
                             ec = e;
                             for (const auto& r : results) endpoints.push_back(r.endpoint());
                           });
    c.ioc.restart();
    if (deadline == SteadyTime::max()) {
      c.ioc.run();
    } else {
      c.ioc.run_until(deadline);
    }
    if (!done) {
      resolver.cancel();
      c.RunPending();
      return DeadlineExceeded("resolving " + ep.host + ": deadline exceeded");
    }
    if (ec) return Unavailable("resolving " + ep.host + ": " + ec.message());
    if (endpoints.empty()) return Unavailable("resolving " + ep.host + ": no addresses");
  }
  c.ExpireAt(deadline);
  c.stream.async_connect(endpoints, [&](const ErrorCode& e, const tcp::endpoint&) { ec = e; });
  c.RunPending();
  if (ec == beast::error::timeout) {
    return DeadlineExceeded("connecting to " + ep.host_header + ": deadline exceeded");
  }
  if (ec) return Unavailable("connecting to " + ep.host_header + ": " + ec.message());
  c.stream.socket().set_option(tcp::no_delay(true), ec);
  return Status::Ok();
}

bool IsConnectionLoss(const ErrorCode& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == bhttp::error::partial_message;
}

struct Exchanged {
  Result<Response> result = Internal("exchange not run");
  bool keep_alive = false;
  // The peer closed a reused connection before answering: safe to send again on a fresh one.
  bool stale = false;
};

Exchanged Exchange(Connection& c, const Endpoint& ep, const OutMessage& msg, bool reused, SteadyTime deadline,
                   size_t max_body) {
  Exchanged out;
  ErrorCode ec;
  c.ExpireAt(deadline);
  bhttp::async_write(c.stream, msg, [&](const ErrorCode& e, size_t) { ec = e; });
  c.RunPending();
  if (ec == beast::error::timeout) {
    out.result = DeadlineExceeded("sending to " + ep.host_header + ": deadline exceeded");
    return out;
  }
  if (ec) {
    out.stale = reused;
    out.result = Unavailable("sending to " + ep.host_header + ": " + ec.message());
    return out;
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  parser.header_limit(64 * 1024);
  if (msg.method() == bhttp::verb::head) parser.skip(true);
  bhttp::async_read(c.stream, c.buffer, parser, [&](const ErrorCode& e, size_t) { ec = e; });
  c.RunPending();
  if (ec == beast::error::timeout) {
    out.result = DeadlineExceeded("waiting for " + ep.host_header + ": deadline exceeded");
    return out;
  }
  if (ec == bhttp::error::body_limit) {
    out.result =
        Internal("response from " + ep.host_header + " exceeds " + std::to_string(max_body) + " bytes");
    return out;
  }
  if (ec) {
    if (IsConnectionLoss(ec)) {
      out.stale = reused && !parser.got_some();
      out.result = Unavailable("reading from " + ep.host_header + ": " + ec.message());
    } else {
      out.result = Internal("malformed response from " + ep.host_header + ": " + ec.message());
    }
    return out;
  }

  bhttp::response<bhttp::string_body> res = parser.release();
  Response response;
  response.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    response.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(res.body());
  out.keep_alive = res.keep_alive() && c.buffer.size() == 0;
  out.result = std::move(response);
  return out;
}

}  // namespace

class HttpClient::Impl {
 public:
  explicit Impl(ClientOptions options) : options_(options) {}

  Result<Response> Send(std::string_view base_url, const Request& req, SteadyTime deadline) {
    EMP_ASSIGN_OR_RETURN(Endpoint ep, ParseBaseUrl(base_url));
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("deadline passed before calling " + ep.host_header);
    }
    OutMessage msg = BuildMessage(ep, req);
    for (int attempt = 0;; ++attempt) {
      // Only the first attempt may take a pooled connection; the retry must be fresh.
      std::unique_ptr<Connection> conn = attempt == 0 ? Acquire(ep.key) : nullptr;
      bool reused = conn != nullptr;
      if (!conn) {
        conn = std::make_unique<Connection>();
        EMP_RETURN_IF_ERROR(Connect(*conn, ep, deadline));
        opened_.fetch_add(1, std::memory_order_relaxed);
      }
      Exchanged out = Exchange(*conn, ep, msg, reused, deadline, options_.max_body_bytes);
      if (out.stale && attempt == 0) continue;
      if (out.result.ok() && out.keep_alive) Release(ep.key, std::move(conn));
      return std::move(out.result);
    }
  }

  uint64_t connections_opened() const { return opened_.load(std::memory_order_relaxed); }

  size_t idle_connections() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [key, conns] : idle_) n += conns.size();
    return n;
  }

 private:
  std::unique_ptr<Connection> Acquire(const std::string& key) {
    std::vector<std::unique_ptr<Connection>> discarded;  // closed outside the lock
    std::unique_lock lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& conns = it->second;
    SteadyTime now = std::chrono::steady_clock::now();
    while (!conns.empty()) {
      std::unique_ptr<Connection> conn = std::move(conns.back());
      conns.pop_back();
      if (now - conn->idle_since <= options_.max_idle_time && LooksAlive(*conn)) return conn;
      discarded.push_back(std::move(conn));
    }
    lock.unlock();
    return nullptr;
  }

  void Release(const std::string& key, std::unique_ptr<Connection> conn) {
    conn->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    auto& conns = idle_[key];
    if (conns.size() < options_.max_idle_per_host) conns.push_back(std::move(conn));
  }

  const ClientOptions options_;
  mutable std::mutex mu_;
  // Most recently used last: reusing the warmest connection lets the others age out.
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::atomic<uint64_t> opened_{0};
};

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(options)) {}
HttpClient::~HttpClient() = default;

Result<Response> HttpClient::Send(std::string_view base_url, const Request& req, SteadyTime deadline) {
  try {
    return impl_->Send(base_url, req, deadline);
  } catch (const std::exception& e) {
    return Internal(std::string("http client: ") + e.what());
  }
}

uint64_t HttpClient::connections_opened() const {
  return impl_->connections_opened();
}
size_t HttpClient::idle_connections() const {
  return impl_->idle_connections();
}

}  // namespace emporium::http
