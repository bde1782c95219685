// Index behaviour on small generated catalogs: weights, stemming, synonyms, spelling, filters,
// facets, pagination, ranking, updates and suggestions.
#include <gtest/gtest.h>

#include <filesystem>

#include "platform/core/random.h"
#include "services/search/generate.h"
#include "services/search/index.h"

namespace emporium::search {
namespace {

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("search-index-" + NewUuid());
    auto index = Index::Open(dir_);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(index).value();
  }
  void TearDown() override {
    index_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Add(ProductSpec s) {
    auto p = ParseProduct(ProductJson(s));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(index_->Upsert(*p).ok());
  }
  static ProductSpec Spec(std::string id, std::string title, std::string brand = "Acme",
                          std::string category = "Misc", int64_t price = 1999, bool in_stock = true,
                          std::string description = "something plain for sale") {
    ProductSpec s;
    s.id = std::move(id);
    s.title = std::move(title);
    s.brand = std::move(brand);
    s.category_id = "c-" + category;
    s.category_path = {"Root", category};
    s.price = price;
    s.in_stock = in_stock;
    s.available = in_stock ? 3 : 0;
    s.description = std::move(description);
    return s;
  }
  SearchResult Run(Query q, SearchOptions o = {}) {
    auto r = index_->Search(q, std::nullopt, ranker_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SearchResult{};
  }
  SearchResult Run(const std::string& text, SearchOptions o = {}) {
    Query q;
    q.text = text;
    return Run(q, o);
  }
  static std::vector<std::string> Ids(const SearchResult& r) {
    std::vector<std::string> ids;
    for (const auto& h : r.hits) ids.push_back(h.product_id);
    return ids;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Index> index_;
  BusinessRulesRanker ranker_;
};

TEST_F(IndexTest, FieldWeightsRankTitleOverBrandOverCategoryOverDescription) {
  Add(Spec("p-desc", "Plain Widget One", "Acme", "Misc", 1000, true, "a zephyr inside"));
  Add(Spec("p-cat", "Plain Widget Two", "Acme", "Zephyr", 1000, true, "nothing more"));
  Add(Spec("p-brand", "Plain Widget Six", "Zephyr", "Misc", 1000, true, "nothing more"));
  Add(Spec("p-title", "Zephyr Widget Ten", "Acme", "Misc", 1000, true, "nothing more"));
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_EQ(Ids(Run("zephyr")), (std::vector<std::string>{"p-title", "p-brand", "p-cat", "p-desc"}));
}

TEST_F(IndexTest, StemmingMatchesOtherFormsAndCanBeTurnedOff) {
  Add(Spec("p-1", "Trail Running Shoes"));
  Add(Spec("p-2", "Garden Hose"));
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_EQ(Ids(Run("run shoe")), std::vector<std::string>{"p-1"});
  EXPECT_TRUE(Run("run shoe", SearchOptions{.stemming = false, .spelling = false}).hits.empty());
}

TEST_F(IndexTest, SynonymsFindTheOtherWord) {
  Add(Spec("p-trainer", "Stride Road Trainers"));
  Add(Spec("p-tv", "Visionix 55 inch Television"));
  Add(Spec("p-tshirt", "Cotton Co Crew T-Shirt"));
  Add(Spec("p-sofa", "Oakline Three Seat Sofa"));
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_EQ(Ids(Run("sneakers")), std::vector<std::string>{"p-trainer"});
  EXPECT_EQ(Ids(Run("tv")), std::vector<std::string>{"p-tv"});
  EXPECT_EQ(Ids(Run("tee")), std::vector<std::string>{"p-tshirt"});
  EXPECT_EQ(Ids(Run("t shirt")), std::vector<std::string>{"p-tshirt"});
  EXPECT_EQ(Ids(Run("couch")), std::vector<std::string>{"p-sofa"});
  EXPECT_TRUE(Run("couch", SearchOptions{.synonyms = false}).hits.empty());
}

TEST_F(IndexTest, MisspelledQueryIsCorrectedWhenTheCorrectionFindsMore) {
  Add(Spec("p-1", "Sonara Wireless Headphones"));
  Add(Spec("p-2", "Beatline Studio Headphones"));
  ASSERT_TRUE(index_->Commit().ok());
  SearchResult r = Run("wireless hedphones");
  EXPECT_EQ(r.corrected_query, "wireless headphones");
  EXPECT_EQ(Ids(r), std::vector<std::string>{"p-1"});
  SearchResult exact = Run("headphones");
  EXPECT_TRUE(exact.corrected_query.empty());
  EXPECT_EQ(exact.total, 2);
}

TEST_F(IndexTest, FiltersByCategoryBrandPriceAndStock) {
  Add(Spec("p-1", "Red Lamp", "Lumen", "Lighting", 1500, true));
  Add(Spec("p-2", "Blue Lamp", "Lumen", "Lighting", 4500, false));
  Add(Spec("p-3", "Green Lamp", "Glow", "Lighting", 9000, true));
  Add(Spec("p-4", "Desk Lamp", "Glow", "Desks", 3000, true));
  ASSERT_TRUE(index_->Commit().ok());
  auto ids = [&](Query q) {
    q.text = "lamp";
    auto v = Ids(Run(q));
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(ids(Query{.category = "c-Desks"}), std::vector<std::string>{"p-4"});
  EXPECT_EQ(ids(Query{.category = "lighting"}), (std::vector<std::string>{"p-1", "p-2", "p-3"}));
  EXPECT_EQ(ids(Query{.category = "Root"}).size(), 4u);
  EXPECT_EQ(ids(Query{.brand = "glow"}), (std::vector<std::string>{"p-3", "p-4"}));
  EXPECT_EQ(ids(Query{.min_price = 3000, .max_price = 4500}), (std::vector<std::string>{"p-2", "p-4"}));
  EXPECT_EQ(ids(Query{.min_price = 5000}), std::vector<std::string>{"p-3"});
  EXPECT_EQ(ids(Query{.in_stock_only = true}), (std::vector<std::string>{"p-1", "p-3", "p-4"}));
  EXPECT_EQ(ids(Query{.brand = "Lumen", .in_stock_only = true}), std::vector<std::string>{"p-1"});
  // An empty query browses by filters alone.
  EXPECT_EQ(Run(Query{.brand = "Glow"}).total, 2);
}

TEST_F(IndexTest, FacetsCountEveryMatch) {
  Add(Spec("p-1", "Red Lamp", "Lumen", "Lighting", 500));
  Add(Spec("p-2", "Blue Lamp", "Lumen", "Lighting", 4500));
  Add(Spec("p-3", "Green Lamp", "Glow", "Lighting", 4900));
  Add(Spec("p-4", "Desk Lamp", "Glow", "Desks", 150000));
  Add(Spec("p-5", "Desk", "Glow", "Desks", 20000));
  ASSERT_TRUE(index_->Commit().ok());
  SearchResult r = Run(Query{.text = "lamp", .page_size = 1});
  EXPECT_EQ(r.total, 4);
  ASSERT_EQ(r.facets.category.size(), 2u);
  EXPECT_EQ(r.facets.category[0].value, "c-Lighting");
  EXPECT_EQ(r.facets.category[0].name, "Lighting");
  EXPECT_EQ(r.facets.category[0].count, 3);
  EXPECT_EQ(r.facets.category[1].count, 1);
  ASSERT_EQ(r.facets.brand.size(), 2u);
  EXPECT_EQ(r.facets.brand[0].count + r.facets.brand[1].count, 4);
  ASSERT_EQ(r.facets.price.size(), 3u);  // 0-999, 2500-4999, 100000-
  EXPECT_EQ(r.facets.price[0].value, "0-999");
  EXPECT_EQ(r.facets.price[0].count, 1);
  EXPECT_EQ(r.facets.price[1].value, "2500-4999");
  EXPECT_EQ(r.facets.price[1].min_price, 2500);
  EXPECT_EQ(r.facets.price[1].max_price, 4999);
  EXPECT_EQ(r.facets.price[1].count, 2);
  EXPECT_EQ(r.facets.price[2].value, "100000-");
  EXPECT_EQ(r.facets.price[2].max_price, -1);
}

TEST_F(IndexTest, PagesDoNotOverlapAndEnd) {
  for (const auto& s : GenerateProducts(200, 7)) Add(s);
  ASSERT_TRUE(index_->Commit().ok());
  Query q{.text = "lightweight", .page_size = 7};
  int64_t total = Run(q).total;
  ASSERT_GT(total, 10);
  std::set<std::string> seen;
  for (q.offset = 0;; q.offset += q.page_size) {
    SearchResult r = Run(q);
    for (const auto& id : Ids(r)) EXPECT_TRUE(seen.insert(id).second) << id;
    EXPECT_EQ(r.summaries.size(), r.hits.size());
    if (!r.more) break;
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), total);
}

TEST_F(IndexTest, InStockProductsRankFirst) {
  Add(Spec("p-best", "Lantern Lantern Lantern", "Acme", "Misc", 1000, false));
  Add(Spec("p-ok", "Camping Lantern with a long descriptive title", "Acme", "Misc", 1000, true));
  ASSERT_TRUE(index_->Commit().ok());
  SearchResult r = Run("lantern");
  ASSERT_EQ(Ids(r), (std::vector<std::string>{"p-ok", "p-best"}));
  EXPECT_GT(r.hits[1].score, r.hits[0].score);  // BM25 alone would have put p-best first
}

TEST_F(IndexTest, AvailabilityUpdatesRemovalsAndVersions) {
  ProductSpec s = Spec("p-1", "Brass Lantern", "Acme", "Misc", 1000, false);
  s.version = 2;
  Add(s);
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_TRUE(Run(Query{.text = "lantern", .in_stock_only = true}).hits.empty());
  ASSERT_TRUE(index_->SetAvailability("p-1", true, 9).ok());
  ASSERT_TRUE(index_->SetAvailability("p-unknown", true, 9).ok());
  ASSERT_TRUE(index_->Commit().ok());
  SearchResult r = Run(Query{.text = "lantern", .in_stock_only = true});
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_NE(r.summaries[0].find("\"available\":9"), std::string::npos) << r.summaries[0];
  EXPECT_EQ(Run("brass").total, 1);  // text terms survive the stock update

  ProductSpec old = s;
  old.version = 1;
  old.title = "Copper Lantern";
  Add(old);  // an older version arriving late changes nothing
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_EQ(Run("copper").total, 0);
  s.version = 3;
  s.title = "Copper Lantern";
  Add(s);
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_EQ(Run("copper").total, 1);
  EXPECT_EQ(Run("brass").total, 0);

  ASSERT_TRUE(index_->Remove("p-1").ok());
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_EQ(Run("lantern").total, 0);
  EXPECT_EQ(*index_->Size(), 0);
}

TEST_F(IndexTest, UncommittedChangesAreInvisible) {
  Add(Spec("p-1", "Brass Lantern"));
  EXPECT_TRUE(index_->dirty());
  EXPECT_EQ(Run("lantern").total, 0);
  ASSERT_TRUE(index_->Commit().ok());
  EXPECT_FALSE(index_->dirty());
  EXPECT_EQ(Run("lantern").total, 1);
}

TEST_F(IndexTest, SuggestCompletesTitleWords) {
  Add(Spec("p-1", "Trail Running Shoes"));
  Add(Spec("p-2", "Road Running Shoes"));
  Add(Spec("p-3", "Rugged Hiking Boots", "Acme", "Running"));  // category only: not a title match
  ASSERT_TRUE(index_->Commit().ok());
  auto s = index_->Suggest("runn");
  ASSERT_TRUE(s.ok());
  std::sort(s->begin(), s->end());
  EXPECT_EQ(*s, (std::vector<std::string>{"Road Running Shoes", "Trail Running Shoes"}));
  auto two = index_->Suggest("trail run");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, std::vector<std::string>{"Trail Running Shoes"});
  EXPECT_TRUE(index_->Suggest("  ")->empty());
}

TEST_F(IndexTest, SecondWriterIsRefusedWithAClearError) {
  auto other = Index::Open(dir_);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Code::kFailedPrecondition);
}

TEST_F(IndexTest, OddQueriesDoNotFail) {
  Add(Spec("p-1", "Brass Lantern"));
  ASSERT_TRUE(index_->Commit().ok());
  for (const char* q : {"\"unbalanced", "-", "lantern AND", "((", "+ -", "\xff\xfe", "lantern\"\""}) {
    auto r = index_->Search(Query{.text = q}, std::nullopt, ranker_);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status().ToString();
  }
}

TEST(Product, SummaryKeepsPlainNumbersAcrossStockUpdates) {
  ProductSpec spec;
  spec.id = "p-1";
  spec.title = "Lamp";
  auto p = ParseProduct(ProductJson(spec));
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->summary_json.find("\"rating\":{\"average\":4.2,\"count\":17}"), std::string::npos)
      << p->summary_json;
  std::string updated = WithAvailability(p->summary_json, false, 0);
  EXPECT_NE(updated.find("\"availability\":{\"in_stock\":false,\"available\":0}"), std::string::npos)
      << updated;
  EXPECT_NE(updated.find("\"average\":4.2,"), std::string::npos) << updated;
  EXPECT_EQ(ParseProduct("[]").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseProduct(R"({"id":"p-1"})").status().code(), Code::kInvalidArgument);
}

TEST(NormalizeText, JoinsTShirtOnlyAtAWordStart) {
  EXPECT_EQ(NormalizeText("Crew T-Shirt"), "Crew TShirt");
  EXPECT_EQ(NormalizeText("t shirt"), "tshirt");
  EXPECT_EQ(NormalizeText("that shirt"), "that shirt");
  EXPECT_EQ(NormalizeText("cat-shirt"), "cat-shirt");
}

}  // namespace
}  // namespace emporium::search
