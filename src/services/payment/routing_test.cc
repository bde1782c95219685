#include "services/payment/routing.h"

#include <gtest/gtest.h>

#include "services/payment/money.h"
#include "services/payment/reconcile.h"

namespace emporium::payment {
namespace {

const std::vector<std::string> kAll = {"intents", "acquirer", "wallet"};

TEST(Routing, FirstMatchingRuleGivesTheFailoverOrder) {
  auto r = Routing::Parse({"EUR;amount>=100000:acquirer", "method=wallet:wallet", "amount<500:wallet|intents",
                           "*:intents|acquirer|wallet"},
                          kAll);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Route({"EUR", 200000, "card"}), std::vector<std::string>{"acquirer"});
  EXPECT_EQ(r->Route({"EUR", 1000, "card"}), (std::vector<std::string>{"intents", "acquirer", "wallet"}));
  EXPECT_EQ(r->Route({"USD", 1000, "wallet"}), std::vector<std::string>{"wallet"});
  EXPECT_EQ(r->Route({"USD", 499, "card"}), (std::vector<std::string>{"wallet", "intents"}));
}

TEST(Routing, RejectsUnknownProvidersAndConditions) {
  EXPECT_FALSE(Routing::Parse({"*:stripe"}, kAll).ok());
  EXPECT_FALSE(Routing::Parse({"usd:intents"}, kAll).ok());
  EXPECT_FALSE(Routing::Parse({"intents"}, kAll).ok());
  EXPECT_TRUE(Routing::Parse({"*:intents"}, kAll)->Route({"USD", 1, "card"}).size() == 1);
  EXPECT_TRUE(Routing::Parse({"EUR:intents"}, kAll)->Route({"USD", 1, "card"}).empty());
}

TEST(Money, DecimalStringsRoundTrip) {
  EXPECT_EQ(DecimalAmount(1234, "USD"), "12.34");
  EXPECT_EQ(DecimalAmount(5, "EUR"), "0.05");
  EXPECT_EQ(DecimalAmount(500, "JPY"), "500");
  EXPECT_EQ(*MinorAmount("12.34", "USD"), 1234);
  EXPECT_EQ(*MinorAmount("12.3", "USD"), 1230);
  EXPECT_EQ(*MinorAmount("12", "USD"), 1200);
  EXPECT_FALSE(MinorAmount("12.345", "USD").ok());
  EXPECT_FALSE(MinorAmount("1.5", "JPY").ok());
}

TEST(Reconcile, FlagsSecondAuthorizationsAndStatusDrift) {
  Payment a;
  a.order_id = "o1";
  a.provider = "intents";
  a.status = "captured";
  a.amount = a.captured = 1000;
  Payment b;
  b.order_id = "o2";
  b.provider = "acquirer";
  b.status = "authorized";
  b.amount = 500;
  std::vector<LedgerItem> ledger = {
      {"intents", "pi_1", "o1", 1000, "USD", "captured", 1000, 0},
      {"acquirer", "p2", "o2", 500, "USD", "authorized", 0, 0},
  };
  EXPECT_TRUE(Reconcile({a, b}, ledger).empty());
  ledger.push_back({"wallet", "ORD-3", "o2", 500, "USD", "authorized", 0, 0});
  auto m = Reconcile({a, b}, ledger);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].provider, "wallet");
  ledger.pop_back();
  ledger[0].refunded = 100;
  EXPECT_EQ(Reconcile({a, b}, ledger).size(), 1u);
  ledger[0].refunded = 0;
  ledger[1].status = "voided";
  m = Reconcile({a, b}, ledger);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].order_id, "o2");
}

}  // namespace
}  // namespace emporium::payment
