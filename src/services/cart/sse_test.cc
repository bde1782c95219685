// Multi-device sync: GET /v1/cart/events streams, Last-Event-ID replay, heartbeats, fan-out.
#include <gtest/gtest.h>

#include "platform/bus/bus.h"
#include "services/cart/broadcaster.h"
#include "services/cart/sse.h"
#include "services/cart/test_env.h"

namespace emporium::cart::testing {
namespace {

using http::Method;

constexpr const char* kAda = "user:ada";

std::shared_ptr<http::BodyStream> Open(Env& env, const std::string& subject,
                                       const std::string& last_event_id = "") {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!last_event_id.empty()) headers.emplace_back("Last-Event-ID", last_event_id);
  auto r = env.Get("/v1/cart/events", subject, headers);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*r.headers.Get("Content-Type"), "text/event-stream");
  EXPECT_NE(r.stream, nullptr);
  return r.stream;
}

class SseTest : public ::testing::Test {
 protected:
  explicit SseTest(std::vector<std::string> flags = {}) : env_(std::move(flags)) {}
  void SetUp() override {
    env_.catalog().Set("p-1", 1999, 50);
    env_.catalog().Set("p-2", 500, 50);
    ASSERT_TRUE(env_.Start().ok());
  }
  Env env_;
};

TEST_F(SseTest, TwoConnectionsOfOneUserSeeAnAddWithinOneSecondOthersSeeNothing) {
  SseReader phone(Open(env_, kAda));
  SseReader laptop(Open(env_, kAda));
  SseReader bob(Open(env_, "user:bob"));
  SseReader guest(Open(env_, "guest:ada"));
  ASSERT_EQ(env_.Add(kAda, "p-1", 2).status, 200);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(phone.WaitFor("id: 1\nevent: cart.updated\ndata: ", Millis(1000))) << phone.Text();
  ASSERT_TRUE(laptop.WaitFor("id: 1\n", Millis(1000))) << laptop.Text();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_NE(phone.Text().find("\"type\":\"item_added\""), std::string::npos) << phone.Text();
  EXPECT_NE(phone.Text().find("\"product_id\":\"p-1\",\"quantity\":2"), std::string::npos) << phone.Text();

  ASSERT_EQ(env_.Add(kAda, "p-2", 1).status, 200);
  ASSERT_TRUE(laptop.WaitFor("id: 2\n")) << laptop.Text();
  EXPECT_FALSE(bob.WaitFor("event: cart.updated", Millis(200))) << bob.Text();
  EXPECT_FALSE(guest.WaitFor("event: cart.updated", Millis(10))) << guest.Text();
  EXPECT_EQ(bob.Text(), "retry: 2000\n\n") << "nothing but the reconnect hint";
}

TEST_F(SseTest, ReconnectWithLastEventIdReplaysWhatWasMissed) {
  {
    SseReader phone(Open(env_, kAda));
    ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
    ASSERT_TRUE(phone.WaitFor("id: 1\n"));
  }  // the phone goes offline
  ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
  ASSERT_EQ(env_.Call(Method::kDelete, "/v1/cart/items/p-1", kAda).status, 200);
  SseReader phone(Open(env_, kAda, "1"));
  ASSERT_TRUE(phone.WaitFor("id: 3\n")) << phone.Text();
  const std::string& text = phone.Text();
  size_t two = text.find("id: 2\n");
  ASSERT_NE(two, std::string::npos) << text;
  EXPECT_LT(two, text.find("id: 3\n")) << "in order";
  EXPECT_EQ(text.find("id: 1\n"), std::string::npos) << "nothing already seen";
  EXPECT_NE(text.find("\"type\":\"item_removed\""), std::string::npos);
  // Live changes continue after the replay.
  ASSERT_EQ(env_.Add(kAda, "p-2", 1).status, 200);
  EXPECT_TRUE(phone.WaitFor("id: 4\n")) << phone.Text();

  // A connection without Last-Event-ID starts from now; one that is up to date gets nothing old.
  SseReader fresh(Open(env_, kAda));
  SseReader current(Open(env_, kAda, "4"));
  EXPECT_FALSE(fresh.WaitFor("id: ", Millis(100))) << fresh.Text();
  EXPECT_FALSE(current.WaitFor("id: ", Millis(10))) << current.Text();
}

TEST_F(SseTest, MergeChangesReachTheUsersConnections) {
  SseReader laptop(Open(env_, kAda));
  ASSERT_EQ(env_.Add("guest:g1", "p-1", 2).status, 200);
  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto producer = (*bus)->NewProducer();
  ASSERT_TRUE(producer.ok());
  bus::Event e = bus::MakeEvent("/emporium/identity", "identity.guest_merged", "ada",
                                R"({"guest_id":"g1","user_id":"ada"})");
  ASSERT_TRUE((*producer)->Publish("identity.user", "ada", e).ok());
  ASSERT_TRUE(laptop.WaitFor("\"type\":\"merged\"", Millis(3000))) << laptop.Text();
  EXPECT_NE(laptop.Text().find("\"items\":[{\"product_id\":\"p-1\",\"quantity\":2}]"), std::string::npos);
}

TEST_F(SseTest, CheckoutChangesReachTheUsersConnections) {
  ASSERT_EQ(env_.Add(kAda, "p-1", 2).status, 200);
  SseReader phone(Open(env_, kAda));
  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto producer = (*bus)->NewProducer();
  ASSERT_TRUE(producer.ok());
  boost::json::object data{
      {"order_id", "o-1"},
      {"user_id", "ada"},
      {"created_at", FormatRfc3339(std::chrono::system_clock::now())},
      {"items", boost::json::array{boost::json::object{{"product_id", "p-1"}, {"quantity", 2}}}}};
  bus::Event e = bus::MakeEvent("/emporium/order", "order.confirmed", "o-1", json::Dump(data));
  ASSERT_TRUE((*producer)->Publish("order", "o-1", e).ok());
  ASSERT_TRUE(phone.WaitFor("\"type\":\"checked_out\"", Millis(3000))) << phone.Text();
  EXPECT_NE(phone.Text().find("\"items\":[]"), std::string::npos) << phone.Text();
}

class SmallRetentionTest : public SseTest {
 protected:
  SmallRetentionTest() : SseTest({"--cart-change-retention=2"}) {}
};

TEST_F(SmallRetentionTest, ReplayBeyondRetentionAsksForAResync) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
  SseReader old(Open(env_, kAda, "1"));
  ASSERT_TRUE(old.WaitFor("event: cart.resync\ndata: {\"version\":5}")) << old.Text();
  EXPECT_EQ(old.Text().find("id: "), std::string::npos);
  SseReader recent(Open(env_, kAda, "3"));
  ASSERT_TRUE(recent.WaitFor("id: 5\n")) << recent.Text();
  EXPECT_NE(recent.Text().find("id: 4\n"), std::string::npos);
  ASSERT_EQ(env_.Add(kAda, "p-1", 1).status, 200);
  EXPECT_TRUE(old.WaitFor("id: 6\n")) << "live changes follow a resync";
}

class FanoutTest : public SseTest {
 protected:
  FanoutTest() : SseTest({"--cart-sse-fanout=on"}) {}
};

TEST_F(FanoutTest, ChangesFromAnotherReplicaArriveThroughTheCartTopic) {
  SseReader phone(Open(env_, kAda));
  // Another replica's committed change, as its outbox relay publishes it.
  auto bus = env_.rt().Bus();
  ASSERT_TRUE(bus.ok());
  auto producer = (*bus)->NewProducer();
  ASSERT_TRUE(producer.ok());
  std::string data =
      R"({"subject":"user:ada","product_id":"p-2","quantity":1,"change":{"seq":7,"type":"item_added",)"
      R"("product_id":"p-2","quantity":1,"version":7,"items":[{"product_id":"p-2","quantity":1}]}})";
  bus::Event e = bus::MakeEvent("/emporium/cart", "cart.item_added", kAda, data);
  ASSERT_TRUE((*producer)->Publish(std::string(kCartTopic), kAda, e).ok());
  ASSERT_TRUE(phone.WaitFor("id: 7\nevent: cart.updated\n", Millis(1000))) << phone.Text();
  // This replica's own change arrives twice (locally and from the topic) but is sent once.
  ASSERT_EQ(env_.Add("user:bob", "p-1", 1).status, 200);
  SseReader bob(Open(env_, "user:bob", "0"));
  ASSERT_TRUE(bob.WaitFor("id: 1\n"));
  std::this_thread::sleep_for(Millis(400));
  const std::string& text = bob.Text();
  EXPECT_EQ(text.find("id: 1\n"), text.rfind("id: 1\n")) << text;
}

// ---- SseStream and Broadcaster on their own ----

TEST(SseStream, HeartbeatWhenIdleAndFramesInOrderWithoutDuplicates) {
  SseStream s(0, Millis(50));
  EXPECT_EQ(s.idle_interval(), Millis(50));
  s.FinishReplay();
  std::string out;
  ASSERT_TRUE(s.Read(out));
  EXPECT_EQ(out, "retry: 2000\n\n");
  out.clear();
  ASSERT_TRUE(s.Read(out));
  EXPECT_EQ(out, ": ping\n\n");
  s.Push({"user:a", 1, R"({"seq":1})"});
  s.Push({"user:a", 1, R"({"seq":1})"});
  s.Push({"user:a", 2, R"({"seq":2})"});
  out.clear();
  ASSERT_TRUE(s.Read(out));
  EXPECT_EQ(
      out,
      "id: 1\nevent: cart.updated\ndata: {\"seq\":1}\n\nid: 2\nevent: cart.updated\ndata: {\"seq\":2}\n\n");
  EXPECT_EQ(SseStream::Frame(std::nullopt, "x", "a\nb"), "event: x\ndata: a\ndata: b\n\n");
}

TEST(SseStream, LiveChangesWaitForTheReplay) {
  SseStream s(1, Millis(1000));
  s.Push({"user:a", 4, "four"});
  s.Replay({"user:a", 2, "two"});
  s.Replay({"user:a", 3, "three"});
  s.Push({"user:a", 3, "three"});
  s.FinishReplay();
  std::string out;
  ASSERT_TRUE(s.Read(out));
  EXPECT_LT(out.find("id: 2"), out.find("id: 3"));
  EXPECT_LT(out.find("id: 3"), out.find("id: 4"));
  EXPECT_EQ(out.find("id: 3"), out.rfind("id: 3"));
}

TEST(SseStream, SlowClientIsDisconnectedAndCloseUnsubscribes) {
  auto b = std::make_shared<Broadcaster>();
  auto s = std::make_shared<SseStream>(0, Millis(1000), 3);
  std::weak_ptr<SseStream> weak = s;
  uint64_t id = b->Subscribe("user:a", [weak](const Change& c) {
    if (auto p = weak.lock()) p->Push(c);
  });
  s->OnClose([b, id] { b->Unsubscribe(id); });
  s->FinishReplay();
  int wakes = 0;
  s->Subscribe([&] { ++wakes; });
  for (int i = 1; i <= 5; ++i) b->Publish({"user:a", i, "{}"});
  b->Publish({"user:b", 9, "{}"});
  EXPECT_GE(wakes, 3);
  std::string out;
  EXPECT_FALSE(s->Read(out)) << "the client fell behind: it must reconnect with Last-Event-ID";
  EXPECT_EQ(b->Subscribers("user:a"), 1u);
  s->Close();
  EXPECT_EQ(b->Subscribers("user:a"), 0u);
  s->Close();  // idempotent
  b->Publish({"user:a", 6, "{}"});
}

}  // namespace
}  // namespace emporium::cart::testing
