// The behavior module through its routes and topic: ingest, idempotency and exactly-once
// publication, validation, access, history, the guest merge and the retention sweep.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "platform/core/rfc3339.h"
#include "platform/sql/sql.h"
#include "services/behavior/service.h"
#include "services/behavior/test_env.h"

namespace emporium::behavior::testing {
namespace {

using boost::json::array;
using boost::json::object;
using http::Method;

constexpr const char* kAda = "user:ada";
constexpr const char* kBob = "user:bob";

object Ev(const std::string& id, const std::string& type, object fields = {}) {
  fields["id"] = id;
  fields["type"] = type;
  return fields;
}

object ProductView(const std::string& id, const std::string& product = "p-1") {
  return Ev(id, "product_view", {{"product_id", product}});
}

array Items(int n) {
  array a;
  for (int i = 1; i <= n; ++i) a.push_back(object{{"product_id", "p-" + std::to_string(i)}, {"position", i}});
  return a;
}

// One valid event of every type a client reports.
array EveryType(const std::string& prefix) {
  return array{
      Ev(prefix + "1", "page_view",
         {{"page", "/products/p-1"}, {"referrer", "https://search.example/?q=shoe"}}),
      Ev(prefix + "2", "product_view",
         {{"product_id", "p-1"}, {"session_id", "s-1"}, {"device_id", "web-1"}}),
      Ev(prefix + "3", "search",
         {{"search_id", "q-1"},
          {"query", "trail shoe"},
          {"filters", object{{"size", 42}}},
          {"results", Items(3)}}),
      Ev(prefix + "4", "search_click", {{"search_id", "q-1"}, {"product_id", "p-2"}, {"position", 2}}),
      Ev(prefix + "5", "recommendation_view",
         {{"recommendation_id", "r-1"},
          {"placement", "home"},
          {"model_version", "als-3"},
          {"items", Items(4)}}),
      Ev(prefix + "6", "recommendation_click",
         {{"recommendation_id", "r-1"},
          {"placement", "home"},
          {"model_version", "als-3"},
          {"product_id", "p-3"},
          {"position", 3}}),
      Ev(prefix + "7", "add_to_cart", {{"product_id", "p-3"}, {"quantity", 2}}),
      Ev(prefix + "8", "remove_from_cart", {{"product_id", "p-3"}, {"quantity", 1}}),
      Ev(prefix + "9", "wishlist_add", {{"product_id", "p-4"}}),
  };
}

int64_t Int(const http::Response& r, const char* key) {
  auto o = ParseObject(r.body);
  auto v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : -1;
}

std::vector<std::string> Fields(const http::Response& r) {
  std::vector<std::string> out;
  auto o = ParseObject(r.body);
  if (auto errors = o.if_contains("errors"); errors && errors->is_array()) {
    for (const auto& e : errors->as_array())
      out.push_back(std::string(e.as_object().at("field").as_string()));
  }
  return out;
}

std::vector<std::string> HistoryIds(Env& env, const std::string& subject, const std::string& query = "") {
  std::vector<std::string> ids;
  auto r = env.Get(subject, query);
  EXPECT_EQ(r.status, 200) << r.body;
  const object o = ParseObject(r.body);
  if (!o.contains("events")) return ids;
  for (const auto& e : o.at("events").as_array())
    ids.push_back(std::string(e.as_object().at("id").as_string()));
  return ids;
}

class BehaviorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.Start().ok()); }
  Env env_;
};

TEST_F(BehaviorTest, BatchesLandOnTheTopicExactlyOnceAcrossRetries) {
  TopicReader reader(env_.rt());
  array first = EveryType("a-");
  auto r = env_.Post(kAda, first);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Int(r, "accepted"), 9);
  EXPECT_EQ(Int(r, "duplicates"), 0);

  r = env_.Post(kAda, first);  // the client retries: nothing new
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Int(r, "accepted"), 0);
  EXPECT_EQ(Int(r, "duplicates"), 9);

  // A retry that overlaps a new batch, with an id repeated inside it.
  array mixed{first[0], first[1], ProductView("b-1"), ProductView("b-2"), ProductView("b-2")};
  r = env_.Post(kAda, mixed);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Int(r, "accepted"), 2);
  EXPECT_EQ(Int(r, "duplicates"), 3);

  // The same client ids from another user are that user's own events.
  ASSERT_EQ(Int(env_.Post(kBob, array{ProductView("b-1")}), "accepted"), 1);

  const auto& records = reader.WaitFor(12);
  ASSERT_EQ(records.size(), 12u);
  std::map<std::string, int> by_client_id;
  std::set<std::string> event_ids;
  for (const bus::Record& rec : records) {
    auto data = ParseObject(rec.event.data);
    by_client_id[Str(data, "user_id") + "/" + Str(data, "client_event_id")]++;
    event_ids.insert(rec.event.id);
    EXPECT_EQ(rec.key, Str(data, "user_id"));
    EXPECT_EQ(rec.event.subject, Str(data, "user_id"));
    EXPECT_EQ(rec.partition, bus::PartitionFor(rec.key, kPartitions));
    EXPECT_EQ(rec.event.source, "/emporium/behavior");
    EXPECT_EQ(rec.event.type, "behavior." + Str(data, "type"));
  }
  EXPECT_EQ(event_ids.size(), 12u);
  EXPECT_EQ(by_client_id.size(), 12u);
  for (const auto& [id, n] : by_client_id) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(by_client_id.count("user:bob/b-1"), 1u);

  // Ada's events stay in the order she posted them (one key, one partition).
  std::vector<std::string> ada;
  for (const bus::Record& rec : records) {
    if (rec.key == kAda) ada.push_back(Str(ParseObject(rec.event.data), "client_event_id"));
  }
  EXPECT_EQ(ada, (std::vector<std::string>{"a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-8", "a-9",
                                           "b-1", "b-2"}));

  std::string metrics = env_.rt().metrics().Render();
  EXPECT_NE(metrics.find("behavior_events_total{type=\"product_view\"} 4"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("behavior_events_total{type=\"search\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("behavior_duplicates_total 12"), std::string::npos);
  EXPECT_NE(metrics.find("behavior_rejected_batches_total 0"), std::string::npos);
}

TEST_F(BehaviorTest, EventDataCarriesTheClientTheTimeAndTheTypeFields) {
  TopicReader reader(env_.rt());
  const std::string sent = FormatRfc3339(std::chrono::system_clock::now() - std::chrono::hours(2));
  auto r = env_.Post(
      kAda, array{Ev("c-1", "add_to_cart",
                     {{"product_id", "p-9"}, {"quantity", 3}, {"time", sent}, {"session_id", "s-9"}}),
                  Ev("c-2", "search", {{"search_id", "q-2"}, {"query", ""}, {"results", array{}}})});
  ASSERT_EQ(r.status, 202) << r.body;
  const auto& records = reader.WaitFor(2);
  ASSERT_EQ(records.size(), 2u);
  auto data = ParseObject(records[0].event.data);
  EXPECT_EQ(Str(data, "user_id"), kAda);
  EXPECT_EQ(Str(data, "client_event_id"), "c-1");
  EXPECT_EQ(Str(data, "type"), "add_to_cart");
  EXPECT_EQ(Str(data, "time"), sent);
  EXPECT_FALSE(Str(data, "received_at").empty());
  EXPECT_EQ(Str(data, "session_id"), "s-9");
  EXPECT_FALSE(data.contains("device_id"));
  EXPECT_EQ(Str(data, "ip"), "198.51.100.7");
  EXPECT_EQ(Str(data, "user_agent"), "EmporiumTest/1.0");
  EXPECT_EQ(Str(data, "product_id"), "p-9");
  EXPECT_EQ(data.at("quantity").as_int64(), 3);
  auto search = ParseObject(records[1].event.data);
  EXPECT_EQ(Str(search, "query"), "");
  EXPECT_TRUE(search.at("results").as_array().empty());
  EXPECT_EQ(Str(search, "time"), Str(search, "received_at")) << "no time: the received time";
}

TEST_F(BehaviorTest, TimesWithAnOffsetAreStoredAsTheSameInstantInUtc) {
  const auto t =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now() - std::chrono::hours(3));
  const std::string utc = FormatRfc3339(t);
  // t written at +02:00: its wall clock is two hours later.
  std::string shifted = FormatRfc3339(t + std::chrono::hours(2));
  shifted = shifted.substr(0, shifted.size() - 1) + "+02:00";
  ASSERT_EQ(
      env_.Post(kAda, array{Ev("o-1", "product_view", {{"product_id", "p-1"}, {"time", shifted}})}).status,
      202);
  auto events = ParseObject(env_.Get(kAda).body).at("events").as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].as_object().at("time").as_string(), utc);
}

struct BadCase {
  const char* name;
  std::string body;
  std::string field;
  std::string message_part;
};

TEST_F(BehaviorTest, EachKindOfBadInputIsRejectedWholeNamingTheField) {
  TopicReader reader(env_.rt());
  auto batch = [](const array& events) { return json::Dump(object{{"events", events}}); };
  const auto now = std::chrono::system_clock::now();
  array oversize;
  for (int i = 0; i < 101; ++i) oversize.push_back(ProductView("o-" + std::to_string(i)));
  const std::vector<BadCase> cases = {
      {"unknown type", batch({Ev("x-1", "teleport")}), "events[0].type", "recorded by the server"},
      {"purchase", batch({ProductView("x-0"), Ev("x-1", "purchase", {{"order_id", "o-1"}})}),
       "events[1].type",
       "purchases, carts and payments are recorded by the server, never reported by clients"},
      {"missing field", batch({Ev("x-1", "product_view")}), "events[0].product_id", "required"},
      {"wrong type", batch({Ev("x-1", "add_to_cart", {{"product_id", "p-1"}, {"quantity", "2"}})}),
       "events[0].quantity", "integer"},
      {"quantity out of range", batch({Ev("x-1", "add_to_cart", {{"product_id", "p-1"}, {"quantity", 0}})}),
       "events[0].quantity", "1 to 999"},
      {"unknown field", batch({Ev("x-1", "product_view", {{"product_id", "p-1"}, {"price", 10}})}),
       "events[0].price", "unknown field"},
      {"oversize batch", batch(oversize), "events", "1 to 100"},
      {"empty batch", batch({}), "events", "1 to 100"},
      {"future time",
       batch({Ev("x-1", "product_view",
                 {{"product_id", "p-1"}, {"time", FormatRfc3339(now + std::chrono::minutes(10))}})}),
       "events[0].time", "future"},
      {"too old",
       batch({Ev("x-1", "product_view",
                 {{"product_id", "p-1"}, {"time", FormatRfc3339(now - std::chrono::hours(24 * 31))}})}),
       "events[0].time", "older than 30 days"},
      {"time without offset",
       batch({Ev("x-1", "product_view", {{"product_id", "p-1"}, {"time", "2026-01-01T00:00:00"}})}),
       "events[0].time", "RFC 3339"},
      {"bad event id", batch({ProductView("has space")}), "events[0].id", "A-Z"},
      {"bad product id", batch({ProductView("x-1", std::string(65, 'p'))}), "events[0].product_id",
       "1 to 64"},
      {"bad position",
       batch({Ev("x-1", "search",
                 {{"search_id", "q"},
                  {"query", "a"},
                  {"results", array{object{{"product_id", "p"}, {"position", 0}}}}})}),
       "events[0].results[0].position", "integer"},
      {"bad placement",
       batch({Ev("x-1", "recommendation_view",
                 {{"recommendation_id", "r"},
                  {"placement", "footer"},
                  {"model_version", "v1"},
                  {"items", Items(1)}})}),
       "events[0].placement", "home, product, cart, email"},
      {"malformed JSON", R"({"events":[{"id":"x-1",)", "body", "not valid JSON"},
      {"not an object", "[1,2]", "body", "JSON object"},
      {"unknown top-level field",
       R"({"events":[{"id":"x-1","type":"product_view","product_id":"p"}],"user_id":"bob"})", "user_id",
       "unknown field"},
      {"null for a field", batch({Ev("x-1", "product_view", {{"product_id", nullptr}})}),
       "events[0].product_id", "string"},
  };
  for (const BadCase& c : cases) {
    auto r = env_.Call(Method::kPost, "/v1/events", kAda, c.body);
    EXPECT_EQ(r.status, 400) << c.name << ": " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json") << c.name;
    auto fields = Fields(r);
    EXPECT_NE(std::find(fields.begin(), fields.end(), c.field), fields.end()) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find(c.message_part), std::string::npos) << c.name << ": " << r.body;
  }

  // All or nothing: the good events of a rejected batch are not stored, and every bad one is named.
  auto r = env_.Post(kAda, array{ProductView("g-1"), Ev("g-2", "product_view"),
                                 Ev("g-3", "add_to_cart", {{"product_id", "p-1"}, {"quantity", 1000}})});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Fields(r), (std::vector<std::string>{"events[1].product_id", "events[2].quantity"}));
  EXPECT_TRUE(HistoryIds(env_, kAda).empty());
  EXPECT_TRUE(reader.WaitFor(1, Millis(300)).empty()) << "nothing was published";
  EXPECT_NE(env_.rt().metrics().Render().find("behavior_rejected_batches_total " +
                                              std::to_string(cases.size() + 1)),
            std::string::npos);
}

TEST_F(BehaviorTest, ServiceTokensAreForbiddenAndATokenIsRequired) {
  const std::string body = json::Dump(object{{"events", array{ProductView("z-1")}}});
  auto r = env_.Call(Method::kPost, "/v1/events", "client:ops", body);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(env_.Get("client:ops").status, 403);
  r = env_.Call(Method::kPost, "/v1/events", "", body);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(env_.Get("").status, 401);
  ASSERT_EQ(env_.Post("guest:g-7", array{ProductView("z-1")}).status, 202) << "guests report events";
}

TEST_F(BehaviorTest, HistoryIsTheCallersOwnNewestFirstWithPagesAndTypes) {
  const auto now = std::chrono::system_clock::now();
  array events;
  for (int i = 0; i < 5; ++i) {
    events.push_back(Ev("h-" + std::to_string(i), i % 2 ? "wishlist_add" : "product_view",
                        {{"product_id", "p-" + std::to_string(i)},
                         {"time", FormatRfc3339(now - std::chrono::minutes(10 - i))}}));
  }
  ASSERT_EQ(env_.Post(kAda, events).status, 202);
  ASSERT_EQ(env_.Post(kBob, array{ProductView("bob-1")}).status, 202);

  EXPECT_EQ(HistoryIds(env_, kAda), (std::vector<std::string>{"h-4", "h-3", "h-2", "h-1", "h-0"}));
  EXPECT_EQ(HistoryIds(env_, kAda, "?type=wishlist_add"), (std::vector<std::string>{"h-3", "h-1"}));
  EXPECT_EQ(HistoryIds(env_, kBob), (std::vector<std::string>{"bob-1"})) << "never another user's events";
  EXPECT_TRUE(HistoryIds(env_, "user:carol").empty());

  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    auto r = env_.Get(kAda, "?page_size=2" + (token.empty() ? "" : "&page_token=" + token));
    ASSERT_EQ(r.status, 200) << r.body;
    auto o = ParseObject(r.body);
    for (const auto& e : o.at("events").as_array())
      paged.push_back(std::string(e.as_object().at("id").as_string()));
    token = o.at("next_page_token").is_string() ? std::string(o.at("next_page_token").as_string()) : "";
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, HistoryIds(env_, kAda));

  auto first = ParseObject(env_.Get(kAda, "?page_size=1").body).at("events").as_array()[0].as_object();
  EXPECT_EQ(first.at("type").as_string(), "product_view");
  EXPECT_EQ(first.at("product_id").as_string(), "p-4");
  EXPECT_TRUE(first.at("received_at").is_string());
  EXPECT_FALSE(first.contains("ip")) << "the history does not echo request metadata";

  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"?page_size=0", "page_size"},
                                                        {"?page_size=101", "page_size"},
                                                        {"?page_size=ten", "page_size"},
                                                        {"?type=purchase", "type"},
                                                        {"?page_token=%%%", "page_token"},
                                                        {"?page_token=bm90LWEtY3Vyc29y", "page_token"},
                                                        {"?user=bob", "user"}}) {
    auto r = env_.Get(kAda, query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(Fields(r), std::vector<std::string>{field}) << query << ": " << r.body;
  }
}

// Waits until subject's history has n events.
bool WaitHistory(Env& env, const std::string& subject, size_t n) {
  for (int i = 0; i < 500; ++i) {
    if (HistoryIds(env, subject).size() == n) return true;
    std::this_thread::sleep_for(Millis(20));
  }
  return false;
}

TEST_F(BehaviorTest, AGuestsEventsFollowTheUserAfterTheMerge) {
  TopicReader reader(env_.rt());
  const array guest_batch{ProductView("g-1", "p-1"), ProductView("g-2", "p-2"),
                          Ev("g-3", "add_to_cart", {{"product_id", "p-2"}, {"quantity", 1}})};
  ASSERT_EQ(Int(env_.Post("guest:g1", guest_batch), "accepted"), 3);
  ASSERT_EQ(Int(env_.Post(kAda, array{ProductView("u-1", "p-9")}), "accepted"), 1);
  EXPECT_EQ(HistoryIds(env_, "guest:g1").size(), 3u);

  ASSERT_TRUE(env_.PublishGuestMerged("g1", "ada", "merge-1").ok());
  ASSERT_TRUE(WaitHistory(env_, kAda, 4));
  auto ids = HistoryIds(env_, kAda);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            (std::set<std::string>{"g-1", "g-2", "g-3", "u-1"}));

  // Later posts with the guest token are the user's; a retry of the old guest batch stays a retry.
  auto r = env_.Post("guest:g1", array{ProductView("g-4", "p-4")});
  EXPECT_EQ(Int(r, "accepted"), 1);
  r = env_.Post("guest:g1", guest_batch);
  EXPECT_EQ(Int(r, "accepted"), 0);
  EXPECT_EQ(Int(r, "duplicates"), 3);
  EXPECT_EQ(HistoryIds(env_, kAda).size(), 5u);
  // The guest token still reads only what it posted itself, not the user's other devices.
  EXPECT_EQ(HistoryIds(env_, "guest:g1"), (std::vector<std::string>{"g-4", "g-3", "g-2", "g-1"}));

  // A redelivered merge is skipped by the inbox; a marker merge after it shows it was handled.
  ASSERT_TRUE(env_.PublishGuestMerged("g1", "ada", "merge-1").ok());
  ASSERT_EQ(Int(env_.Post("guest:g2", array{ProductView("m-1")}), "accepted"), 1);
  ASSERT_TRUE(env_.PublishGuestMerged("g2", "ada", "merge-2").ok());
  ASSERT_TRUE(WaitHistory(env_, kAda, 6));

  const auto& records = reader.WaitFor(3 + 1 + 1 + 1 + 2);
  std::vector<object> merged;
  std::string g4_user;
  for (const bus::Record& rec : records) {
    auto data = ParseObject(rec.event.data);
    if (rec.event.type == "behavior.guest_merged") {
      EXPECT_EQ(rec.key, kAda);
      merged.push_back(data);
    }
    if (Str(data, "client_event_id") == "g-4") g4_user = Str(data, "user_id");
  }
  ASSERT_EQ(merged.size(), 2u) << "one announcement per merge, none for the redelivery";
  EXPECT_EQ(Str(merged[0], "guest_id"), "guest:g1");
  EXPECT_EQ(Str(merged[0], "user_id"), kAda);
  EXPECT_EQ(merged[0].at("events").as_int64(), 3);
  EXPECT_EQ(Str(merged[1], "guest_id"), "guest:g2");
  EXPECT_EQ(merged[1].at("events").as_int64(), 1);
  EXPECT_EQ(g4_user, kAda) << "published as the user's";
}

TEST(BehaviorConfig, EventAgeBeyondRetentionFailsAtStart) {
  Env env({"--behavior-max-event-age=100h", "--behavior-retention=10h"});
  Status s = env.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("behavior-max-event-age"), std::string::npos) << s.ToString();
}

// The sweep, on the service directly with a fake clock.
TEST(BehaviorRetention, SweepDeletesEventsAndAliasesOlderThanTheRetention) {
  DataDir dir("behavior-retention", {}, DataDir::Cleanup::kRemove);
  auto db = sql::Open("sqlite://" + (dir.path() / "behavior.db").string());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Store store(**db);
  ASSERT_TRUE(store.Migrate().ok());
  FakeClock clock;
  metrics::Registry registry;
  Options options;
  options.retention_ms = 90LL * 24 * 3600 * 1000;
  BehaviorService service(store, clock, options, registry, [] {});
  auto post = [&](const std::string& subject, const std::string& id) {
    std::vector<FieldIssue> issues;
    auto r = service.Ingest(Origin{subject, "", ""}, json::Dump(object{{"events", array{ProductView(id)}}}),
                            &issues);
    return r.ok() ? r->accepted : -1;
  };
  auto ids = [&](const std::string& subject) {
    std::vector<FieldIssue> issues;
    std::vector<std::string> out;
    auto page = service.History(subject, "", 100, "", &issues);
    EXPECT_TRUE(page.ok());
    if (page.ok()) {
      for (const auto& e : page->events) out.push_back(e.event.client_event_id);
    }
    return out;
  };
  const auto day = std::chrono::hours(24);

  ASSERT_EQ(post(kAda, "old"), 1);
  ASSERT_EQ(post("guest:g9", "guest-old"), 1);
  ASSERT_TRUE((*db)->Transact([&](sql::Tx& tx) { return service.Merge(tx, "g9", "ada"); }).ok());
  clock.Advance(60 * day);
  ASSERT_EQ(post(kAda, "newer"), 1);
  auto swept = service.Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 0) << "nothing is 90 days old yet";

  clock.Advance(31 * day);
  swept = service.Sweep();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 2);
  EXPECT_EQ(ids(kAda), std::vector<std::string>{"newer"});
  // The alias went with the retention: the guest token posts as the guest again.
  ASSERT_EQ(post("guest:g9", "guest-new"), 1);
  EXPECT_EQ(ids("guest:g9"), std::vector<std::string>{"guest-new"});
  EXPECT_EQ(ids(kAda), std::vector<std::string>{"newer"});
}

}  // namespace
}  // namespace emporium::behavior::testing
