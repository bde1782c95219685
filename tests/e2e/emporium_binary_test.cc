// End-to-end checks of the real `emporium` binary: it is started as a child process (fresh data
// dir, free loopback port, EMPORIUM_* variables removed from its environment) and probed over
// HTTP and raw sockets; startup errors are checked through exit codes and the captured output.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "gtest/gtest.h"
#include "platform/http/client.h"

namespace emporium {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using e2e::Child;
using e2e::FreePort;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// Sends bytes on a fresh connection and returns everything the server sends until it closes.
std::string RawExchange(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The data dir flag for a child made by EmporiumBinaryTest::NewChild.
std::string DataDirFlag(const Child& c) {
  return "--data-dir=" + (c.dir() / "data").string();
}

class EmporiumBinaryTest : public ::testing::Test {
 protected:
  EmporiumBinaryTest() {
    char tmpl[] = "/tmp/emporium-e2e.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~EmporiumBinaryTest() override {
    children_.clear();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A new child with its own sub-directory for output and data.
  Child& NewChild() {
    fs::path d = dir_ / ("child" + std::to_string(children_.size()));
    fs::create_directories(d / "data");
    children_.push_back(std::make_unique<Child>(EMPORIUM_BINARY, d));
    return *children_.back();
  }

  // Runs the binary to completion (bounded) and returns its exit code and output.
  std::pair<int, std::string> RunToExit(const std::vector<std::string>& args,
                                        const std::vector<std::string>& env = {}) {
    Child& c = NewChild();
    c.Spawn(args, env);
    auto code = c.Wait(milliseconds(10'000));
    EXPECT_TRUE(code.has_value()) << "emporium did not exit within 10 s; output:\n" << c.Output();
    return {code.value_or(-999), c.Output()};
  }

  Result<http::Response> Get(uint16_t port, const std::string& target) {
    http::Request req;
    req.method = http::Method::kGet;
    req.target = target;
    return client_.Send("http://127.0.0.1:" + std::to_string(port), req,
                        SystemClock::Get().Now() + milliseconds(3000));
  }

  // Starts `emporium serve` with args on a free port and waits until /readyz says 200. The
  // default target is every module but the payment and carrier sandboxes: they listen on fixed
  // ports, which tests running in parallel would fight over.
  Child& StartServing(uint16_t port,
                      std::vector<std::string> args = {
                          "serve",
                          "--target=info,identity,catalog,cart,search,order,payment,fulfillment,gateway"}) {
    Child& c = NewChild();
    args.push_back(DataDirFlag(c));
    args.push_back("--http-port=" + std::to_string(port));
    c.Spawn(args);
    const auto give_up = Steady::now() + milliseconds(15'000);
    for (;;) {
      auto r = Get(port, "/readyz");
      if (r.ok() && r->status == 200) break;
      if (!c.running()) {
        ADD_FAILURE() << "emporium exited before it was ready; output:\n" << c.Output();
        break;
      }
      if (Steady::now() >= give_up) {
        ADD_FAILURE() << "emporium was not ready within 15 s; output:\n" << c.Output();
        break;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return c;
  }

  fs::path dir_;
  std::vector<std::unique_ptr<Child>> children_;
  http::HttpClient client_;
};

TEST_F(EmporiumBinaryTest, ServesOpsRoutesInfoAndProblems) {
  const uint16_t port = FreePort();
  Child& c = StartServing(port);
  ASSERT_TRUE(c.running());

  auto ready = Get(port, "/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(json::parse(ready->body).at("status").as_string(), "ready");
  auto live = Get(port, "/livez");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->status, 200);

  auto info = Get(port, "/v1/info");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->status, 200) << info->body;
  auto info_body = json::parse(info->body).as_object();
  EXPECT_EQ(info_body.at("name").as_string(), "emporium");
  EXPECT_FALSE(info_body.at("version").as_string().empty());
  bool has_info = false;
  for (const auto& m : info_body.at("modules").as_array()) has_info = has_info || m.as_string() == "info";
  EXPECT_TRUE(has_info) << info->body;
  EXPECT_TRUE(info->headers.Get("X-Request-Id").has_value());

  // Request metrics are recorded just after the response is written: poll briefly.
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    auto m = Get(port, "/metrics");
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(m->status, 200);
    metrics = m->body;
    if (metrics.find(R"(http_requests_total{route="/v1/info")") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_NE(metrics.find(R"(http_requests_total{route="/v1/info",method="GET",status="200"})"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("# TYPE http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(metrics.find("process_resident_memory_bytes"), std::string::npos);

  auto doc = Get(port, "/openapi.json");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->status, 200);
  EXPECT_EQ(doc->headers.Get("Content-Type").value_or(""), "application/json");
  json::object api = json::parse(doc->body).as_object();
  EXPECT_EQ(api.at("openapi").as_string(), "3.1.0");
  EXPECT_FALSE(api.at("info").at("title").as_string().empty());
  const json::object& paths = api.at("paths").as_object();
  for (const char* p : {"/v1/info", "/livez", "/readyz", "/metrics", "/openapi.json", "/docs"}) {
    EXPECT_TRUE(paths.contains(p)) << "openapi.json lacks " << p;
  }
  const std::set<std::string> methods{"get", "put", "post", "delete", "patch", "head", "options", "trace"};
  for (const auto& [path, item] : paths) {
    int operations = 0;
    for (const auto& [key, op] : item.as_object()) {
      if (!methods.contains(std::string(key))) continue;
      ++operations;
      ASSERT_TRUE(op.is_object()) << path << " " << key;
      const json::value* responses = op.as_object().if_contains("responses");
      EXPECT_TRUE(responses && responses->is_object() && !responses->as_object().empty())
          << path << " " << key << " has no responses";
    }
    EXPECT_GE(operations, 1) << path << " has no operation";
  }

  auto docs = Get(port, "/docs");
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->status, 200);
  EXPECT_TRUE(docs->headers.Get("Content-Type").value_or("").starts_with("text/html"));

  auto missing = Get(port, "/no/such/thing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->headers.Get("Content-Type").value_or(""), "application/problem+json");
  json::object problem = json::parse(missing->body).as_object();
  EXPECT_TRUE(problem.at("type").is_string());
  EXPECT_EQ(problem.at("title").as_string(), "Not Found");
  EXPECT_EQ(problem.at("status").as_int64(), 404);
  EXPECT_TRUE(problem.at("detail").is_string());

  std::string garbage = RawExchange(port, std::string("\x01\x02\xff\xfe GARBAGE\r\n\r\n", 16));
  EXPECT_TRUE(garbage.starts_with("HTTP/1.1 400 ")) << garbage;
  EXPECT_NE(garbage.find("application/problem+json"), std::string::npos) << garbage;
  EXPECT_TRUE(c.running()) << "garbage must not take the server down";
  auto after = Get(port, "/livez");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
}

TEST_F(EmporiumBinaryTest, SigtermExitsCleanlyWithinTenSeconds) {
  const uint16_t port = FreePort();
  Child& c = StartServing(port);
  ASSERT_TRUE(c.running());
  ASSERT_TRUE(Get(port, "/v1/info").ok());
  const auto start = Steady::now();
  c.Signal(SIGTERM);
  auto code = c.Wait(milliseconds(10'000));
  const auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - start);
  ASSERT_TRUE(code.has_value()) << "no exit within 10 s of SIGTERM; output:\n" << c.Output();
  EXPECT_EQ(*code, 0) << c.Output();
  EXPECT_LT(took.count(), 10'000);
  RecordProperty("sigterm_exit_ms", std::to_string(took.count()));
  EXPECT_NE(c.Output().find("stopped cleanly"), std::string::npos) << c.Output();
  EXPECT_FALSE(Get(port, "/livez").ok()) << "the port is still served after exit";
}

TEST_F(EmporiumBinaryTest, ListTargetsNamesInfo) {
  auto [code, out] = RunToExit({"--list-targets"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("info"), std::string::npos) << out;
}

TEST_F(EmporiumBinaryTest, VersionAndUsage) {
  auto [vcode, vout] = RunToExit({"version"});
  EXPECT_EQ(vcode, 0);
  EXPECT_TRUE(vout.starts_with("emporium ")) << vout;
  auto [ncode, nout] = RunToExit({});
  EXPECT_EQ(ncode, 2);
  EXPECT_NE(nout.find("Usage"), std::string::npos) << nout;
  auto [ccode, cout] = RunToExit({"frobnicate"});
  EXPECT_EQ(ccode, 2);
  EXPECT_NE(cout.find("unknown command"), std::string::npos) << cout;
}

TEST_F(EmporiumBinaryTest, ServeTargetInfoRunsOnlyInfo) {
  const uint16_t port = FreePort();
  Child& c = StartServing(port, {"serve", "--target=info"});
  ASSERT_TRUE(c.running());
  auto ready = Get(port, "/readyz");
  ASSERT_TRUE(ready.ok());
  ASSERT_EQ(ready->status, 200);
  const json::value body = json::parse(ready->body);
  const json::array& modules = body.at("modules").as_array();
  ASSERT_EQ(modules.size(), 1u) << ready->body;
  EXPECT_EQ(modules[0].as_string(), "info");
}

TEST_F(EmporiumBinaryTest, UnknownTargetExits2) {
  auto [code, out] = RunToExit({"serve", "--target=nope", "--http-port=0"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("unknown target"), std::string::npos) << out;
  EXPECT_NE(out.find("nope"), std::string::npos) << out;
}

TEST_F(EmporiumBinaryTest, UnknownFlagExits2) {
  auto [code, out] = RunToExit({"serve", "--nope=1"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("unknown flag"), std::string::npos) << out;
  EXPECT_NE(out.find("--nope"), std::string::npos) << out;
}

TEST_F(EmporiumBinaryTest, UnknownEnvironmentVariableExits2) {
  auto [code, out] = RunToExit({"serve"}, {"EMPORIUM_NOPE=1"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("EMPORIUM_NOPE"), std::string::npos) << out;
}

TEST_F(EmporiumBinaryTest, BadValuesExit2NamingTheKey) {
  for (const std::string& flag : {std::string("--http-port=abc"), std::string("--http-port=70000"),
                                  std::string("--idle-timeout=soon"), std::string("--access-log=maybe")}) {
    auto [code, out] = RunToExit({"serve", flag});
    EXPECT_EQ(code, 2) << flag << ": " << out;
    std::string key = flag.substr(2, flag.find('=') - 2);
    EXPECT_NE(out.find(key), std::string::npos) << flag << ": " << out;
  }
  auto [code, out] = RunToExit({"serve"}, {"EMPORIUM_HTTP_PORT=abc"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("EMPORIUM_HTTP_PORT"), std::string::npos) << out;
}

TEST_F(EmporiumBinaryTest, SecondProcessOnTheSamePortFails) {
  const uint16_t port = FreePort();
  Child& first = StartServing(port);
  ASSERT_TRUE(first.running());
  Child& second = NewChild();
  second.Spawn({"serve", "--target=info", DataDirFlag(second), "--http-port=" + std::to_string(port)});
  auto code = second.Wait(milliseconds(10'000));
  ASSERT_TRUE(code.has_value()) << "the second server kept running on a taken port; output:\n"
                                << second.Output();
  EXPECT_NE(*code, 0);
  const std::string out = second.Output();
  EXPECT_NE(out.find("port"), std::string::npos) << out;
  EXPECT_NE(out.find(std::to_string(port)), std::string::npos) << out;
  EXPECT_TRUE(first.running());
  auto still = Get(port, "/readyz");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->status, 200);
}

}  // namespace
}  // namespace emporium
