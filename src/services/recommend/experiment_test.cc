// The A/B experiment: variants parsed with clear errors, stable buckets in the configured shares,
// the variant carried in the recommendation id, and outcomes attributed to the variant whose list
// was clicked (within the windows, across a guest's sign-in).
#include "services/recommend/experiment.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"

namespace emporium::recommend {
namespace {

using boost::json::object;

constexpr int64_t kT0 = 1'780'000'000'000;  // 2026-05-28

bus::Event Behaviour(const std::string& subject, object fields, int64_t at_ms) {
  fields["user_id"] = subject;
  fields["time"] = FormatRfc3339UnixMillis(at_ms);
  const std::string type = json::Str(fields, "type");
  return bus::MakeEvent("/emporium/behavior", "behavior." + type, subject, json::Dump(fields));
}

bus::Event View(const std::string& subject, const std::string& rec, size_t items, int64_t at_ms) {
  boost::json::array shown;
  for (size_t i = 0; i < items; ++i) shown.push_back(object{{"product_id", "p" + std::to_string(i)}});
  return Behaviour(subject,
                   object{{"type", "recommendation_view"},
                          {"recommendation_id", rec},
                          {"placement", "home"},
                          {"model_version", "m1"},
                          {"items", shown}},
                   at_ms);
}

bus::Event Click(const std::string& subject, const std::string& rec, const std::string& product,
                 int64_t at_ms) {
  return Behaviour(subject,
                   object{{"type", "recommendation_click"},
                          {"recommendation_id", rec},
                          {"placement", "home"},
                          {"model_version", "m1"},
                          {"product_id", product},
                          {"position", 1}},
                   at_ms);
}

bus::Event Cart(const std::string& subject, const std::string& product, int64_t at_ms) {
  return Behaviour(subject, object{{"type", "add_to_cart"}, {"product_id", product}, {"quantity", 1}}, at_ms);
}

bus::Event Order(const std::string& user_id, const std::vector<std::pair<std::string, int64_t>>& lines,
                 int64_t at_ms) {
  boost::json::array items;
  for (const auto& [product, price] : lines)
    items.push_back(object{{"product_id", product}, {"quantity", 2}, {"unit_price", price}});
  return bus::MakeEvent("/emporium/order", "order.confirmed", "o1",
                        json::Dump(object{{"order_id", "o1"},
                                          {"user_id", user_id},
                                          {"items", items},
                                          {"at", FormatRfc3339UnixMillis(at_ms)}}));
}

std::map<std::string, VariantStats> ByName(const Experiment& e) {
  std::map<std::string, VariantStats> out;
  for (const VariantStats& s : e.Stats()) out[s.name] = s;
  return out;
}

TEST(ExperimentTest, VariantsParseWithClearErrors) {
  auto v = ParseVariants("fused=30, ranked=70");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].strategy, Strategy::kFused);
  EXPECT_EQ((*v)[0].weight, 30u);
  EXPECT_EQ((*v)[1].strategy, Strategy::kRanked);
  auto single = ParseVariants("popularity");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*single)[0].weight, 1u);
  EXPECT_EQ((*single)[0].strategy, Strategy::kPopularity);

  for (const char* bad : {"", "random=1", "fused=-1", "fused=x", "fused=0", "fused=1,fused=2", "fused=1.5"}) {
    auto r = ParseVariants(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ParseVariants("fused=0,ranked=1").ok());  // a retired variant keeps its counters
}

TEST(ExperimentTest, BucketsAreStableAndFollowTheShares) {
  metrics::Registry registry;
  Experiment e("exp-a", ParseVariants("fused=30,ranked=70").value(), registry);
  std::map<std::string, int> count;
  for (int u = 0; u < 20000; ++u) {
    const std::string subject = "user:" + std::to_string(u);
    const Variant& v = e.Assign(subject);
    EXPECT_EQ(&v, &e.Assign(subject));
    ++count[v.name];
  }
  EXPECT_NEAR(count["fused"] / 20000.0, 0.30, 0.02);
  EXPECT_NEAR(count["ranked"] / 20000.0, 0.70, 0.02);

  // Another experiment name reshuffles: about 30 % × 30 % + 70 % × 70 % stay where they were.
  metrics::Registry other_registry;
  Experiment other("exp-b", ParseVariants("fused=30,ranked=70").value(), other_registry);
  int same = 0;
  for (int u = 0; u < 20000; ++u) {
    const std::string subject = "user:" + std::to_string(u);
    same += e.Assign(subject).name == other.Assign(subject).name;
  }
  EXPECT_NEAR(same / 20000.0, 0.58, 0.03);

  metrics::Registry r3;
  Experiment retired("exp-a", ParseVariants("fused=0,ranked=1").value(), r3);
  for (int u = 0; u < 100; ++u) EXPECT_EQ(retired.Assign("user:" + std::to_string(u)).name, "ranked");
}

TEST(ExperimentTest, TheRecommendationIdCarriesTheVariant) {
  metrics::Registry registry;
  Experiment e("exp", ParseVariants("fused=1,popularity=1").value(), registry);
  const Variant& v = e.Assign("user:1");
  const std::string id = e.NewRecommendationId(v);
  EXPECT_TRUE(id.starts_with("rec_" + v.name + "_")) << id;
  EXPECT_EQ(VariantOfRecommendation(id), v.name);
  EXPECT_NE(id, e.NewRecommendationId(v));
  EXPECT_EQ(VariantOfRecommendation("rec_0123456789ab"), std::nullopt);
  EXPECT_EQ(VariantOfRecommendation("xyz_fused_1"), std::nullopt);
}

TEST(ExperimentTest, OutcomesCountForTheVariantWhoseListWasClicked) {
  metrics::Registry registry;
  Experiment e("exp", ParseVariants("fused=1,ranked=1").value(), registry);
  const std::string fused = "rec_fused_aaaaaaaaaaaa", ranked = "rec_ranked_bbbbbbbbbbbb";

  e.Served(e.Assign("user:1"));
  e.Observe(View("user:1", fused, 10, kT0));
  e.Observe(View("user:2", ranked, 8, kT0));
  e.Observe(Click("user:1", fused, "p-boot", kT0 + 1000));
  e.Observe(Click("user:2", ranked, "p-tent", kT0 + 1000));
  e.Observe(Click("user:2", ranked, "p-lamp", kT0 + 2000));
  // Carted: a clicked product (counts), one never clicked (does not), one clicked by someone else.
  e.Observe(Cart("user:1", "p-boot", kT0 + 60'000));
  e.Observe(Cart("user:1", "p-other", kT0 + 60'000));
  e.Observe(Cart("user:1", "p-tent", kT0 + 60'000));
  // Too late for the cart window (24 h), still within the conversion window (7 d).
  e.Observe(Cart("user:2", "p-lamp", kT0 + 2000 + Experiment::kCartWindowMs + 1));
  e.Observe(
      Order("2", {{"p-tent", 1500}, {"p-lamp", 700}, {"p-unrelated", 99}}, kT0 + 3 * 24 * 3600 * 1000LL));
  // A week and more after the click: not attributed.
  e.Observe(Order("1", {{"p-boot", 4000}}, kT0 + 1000 + Experiment::kConversionWindowMs + 1));
  // A list from an unknown variant or an id without one changes nothing.
  e.Observe(Click("user:3", "rec_other_cccccccccccc", "p-x", kT0));
  e.Observe(Click("user:3", "rec_cccccccccccc", "p-x", kT0));

  auto s = ByName(e);
  EXPECT_EQ(s["fused"].impressions, 10);
  EXPECT_EQ(s["ranked"].impressions, 8);
  EXPECT_EQ(s["fused"].clicks, 1);
  EXPECT_EQ(s["ranked"].clicks, 2);
  EXPECT_EQ(s["fused"].add_to_cart, 1);
  EXPECT_EQ(s["ranked"].add_to_cart, 0);
  EXPECT_EQ(s["fused"].conversions, 0);
  EXPECT_EQ(s["ranked"].conversions, 2);
  EXPECT_EQ(s["ranked"].revenue, 2 * 1500 + 2 * 700);
  EXPECT_EQ(s["fused"].served + s["ranked"].served, 1);

  const std::string text = registry.Render();
  EXPECT_NE(text.find("recommend_clicks_total{variant=\"ranked\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("recommend_impressions_total{variant=\"fused\"} 10"), std::string::npos) << text;
}

TEST(ExperimentTest, AGuestsClicksFollowThemWhenTheySignIn) {
  metrics::Registry registry;
  Experiment e("exp", ParseVariants("ranked").value(), registry);
  e.Observe(Click("guest:g1", "rec_ranked_aaaaaaaaaaaa", "p-boot", kT0));
  e.Observe(bus::MakeEvent("/emporium/behavior", "behavior.guest_merged", "user:u1",
                           json::Dump(object{{"guest_id", "g1"}, {"user_id", "u1"}, {"events", 1}})));
  e.Observe(Cart("user:u1", "p-boot", kT0 + 1000));
  e.Observe(Order("u1", {{"p-boot", 5000}}, kT0 + 2000));
  auto s = ByName(e);
  EXPECT_EQ(s["ranked"].add_to_cart, 1);
  EXPECT_EQ(s["ranked"].conversions, 1);
  EXPECT_EQ(s["ranked"].revenue, 10000);
}

}  // namespace
}  // namespace emporium::recommend
