// Test helper: the behavior module in a Runtime over a fresh temp data dir, driven through
// Runtime::Dispatch with the caller's principal set directly (as an in-process call would), a
// reader of topic "behavior", and a publisher of identity's guest-merge event.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "platform/bus/bus.h"
#include "platform/core/json.h"
#include "platform/module/testing.h"
#include "services/behavior/api.h"

namespace emporium::behavior::testing {

using ::emporium::testing::DataDir;
using ::emporium::testing::JoinFlags;
using ::emporium::testing::ParseObject;
using ::emporium::testing::Str;
using ::emporium::testing::TestRuntime;

// A principal as the auth middleware makes it from a user, guest or client_credentials token.
inline auth::Principal PrincipalOf(const std::string& subject) {
  auth::Principal p;
  p.subject = subject;
  p.guest = subject.starts_with("guest:");
  if (subject.starts_with("client:")) {
    p.client_id = subject.substr(7);
  } else {
    p.roles = {"customer"};
    p.client_id = "storefront";
  }
  return p;
}

class Env {
 public:
  explicit Env(std::vector<std::string> flags = {}, Clock& clock = SystemClock::Get())
      : rt_(dir_.path(), {Module()}, JoinFlags({"--log-level=warn"}, flags), clock) {}

  Status Start() { return rt_.Start(); }

  // subject "" sends no token.
  http::Response Call(http::Method method, const std::string& target, const std::string& subject,
                      const std::string& body = "") {
    http::Request req = http::NewRequest(method, target, body);
    req.remote_addr = "198.51.100.7";
    req.headers.Set("User-Agent", "EmporiumTest/1.0");
    if (!subject.empty()) req.principal = PrincipalOf(subject);
    return rt_.rt().Dispatch(req);
  }
  http::Response Post(const std::string& subject, const boost::json::array& events) {
    return Call(http::Method::kPost, "/v1/events", subject,
                json::Dump(boost::json::object{{"events", events}}));
  }
  http::Response Get(const std::string& subject, const std::string& query = "") {
    return Call(http::Method::kGet, "/v1/events" + query, subject);
  }

  // identity.guest_merged as identity writes it: ids without their "guest:"/"user:" prefixes.
  Status PublishGuestMerged(const std::string& guest_id, const std::string& user_id,
                            const std::string& event_id = "") {
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.rt().Bus());
    EMP_ASSIGN_OR_RETURN(auto producer, bus->NewProducer());
    boost::json::object data{{"guest_id", guest_id}, {"user_id", user_id}};
    bus::Event e = bus::MakeEvent("/emporium/identity", "identity.guest_merged", user_id, json::Dump(data));
    if (!event_id.empty()) e.id = event_id;
    return producer->Publish("identity.user", user_id, e);
  }

  Runtime& rt() { return rt_.rt(); }

 private:
  DataDir dir_{"behavior", {}, DataDir::Cleanup::kRemove};
  TestRuntime rt_;
};

// Everything published on topic "behavior", read by a consumer group of its own.
class TopicReader {
 public:
  explicit TopicReader(Runtime& rt, const std::string& group = "behavior-test") {
    auto bus = rt.Bus();
    if (!bus.ok()) return;
    auto consumer = (*bus)->Subscribe(group, {std::string(kBehaviorTopic)});
    if (consumer.ok()) consumer_ = std::move(consumer).value();
  }

  // Polls until `n` records arrived in total or `timeout` passed; then a short quiet period
  // catches any that should not be there.
  const std::vector<bus::Record>& WaitFor(size_t n, Millis timeout = Millis(10000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (consumer_ && records_.size() < n && std::chrono::steady_clock::now() < deadline) Poll(Millis(50));
    if (consumer_) Poll(Millis(200));
    return records_;
  }
  const std::vector<bus::Record>& records() const { return records_; }

 private:
  void Poll(Millis wait) {
    auto got = consumer_->Poll(wait);
    if (!got.ok()) return;
    for (auto& r : *got) records_.push_back(std::move(r));
  }

  std::unique_ptr<bus::Consumer> consumer_;
  std::vector<bus::Record> records_;
};

}  // namespace emporium::behavior::testing
