// The importer: RFC 4180 CSV (quotes, embedded separators and newlines), Latin-1 fallback,
// gzip input, JSON Lines, price parsing, category paths, and the skip report.
#include <zlib.h>

#include <fstream>

#include "services/catalog/import.h"
#include "services/catalog/test_env.h"

namespace emporium::catalog {
namespace {

using testing::Env;
using testing::ParseObject;

std::string WriteFile(const std::filesystem::path& dir, const std::string& name, const std::string& content) {
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

TEST(ParseMajorUnits, DecimalsThousandsAndRounding) {
  EXPECT_EQ(*ParseMajorUnits("12.50", 2), 1250);
  EXPECT_EQ(*ParseMajorUnits("12", 2), 1200);
  EXPECT_EQ(*ParseMajorUnits(" 1,299.9 ", 2), 129990);
  EXPECT_EQ(*ParseMajorUnits("2.455", 2), 246);
  EXPECT_EQ(*ParseMajorUnits(".5", 2), 50);
  EXPECT_EQ(*ParseMajorUnits("1500", 0), 1500);
  EXPECT_FALSE(ParseMajorUnits("abc", 2).ok());
  EXPECT_FALSE(ParseMajorUnits("1.2.3", 2).ok());
  EXPECT_FALSE(ParseMajorUnits("", 2).ok());
  EXPECT_FALSE(ParseMajorUnits("-3", 2).ok());
  EXPECT_EQ(MinorDigits("JPY"), 0);
  EXPECT_EQ(MinorDigits("INR"), 2);
}

class Import : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.Start().ok()); }
  Env env_;
};

TEST_F(Import, CsvWithQuotesLatin1AndSkipReasons) {
  std::string csv =
      "id,Name,Maker,Price,Cat,Sub,Colour\r\n"
      "1,\"Shirt, blue\",Acme,12.50,Clothing,Shirts,Blue\r\n"
      "2,\"Say \"\"hi\"\" mug\",Bolt,3,Home,Kitchen,\r\n"
      "3,\"Two\nline title\",Acme,1.999,Home,Kitchen,Red\n"
      "4,Caf\xE9 cr\xE8me,Acme,4.00,Grocery,Coffee,\n"
      "5,,Acme,4.00,Grocery,Coffee,\n"
      "6,No price,Acme,,Grocery,Coffee,\n"
      "7,Bad price,Acme,twelve,Grocery,Coffee,\n"
      "1,Same sku,Acme,1,Grocery,Coffee,\n"
      "\n";
  std::string path = WriteFile(env_.dir(), "in.csv", csv);
  int code = -1;
  std::string out = env_.RunCommand(
      "import catalog",
      {path, "--map=sku=id,title=Name,brand=Maker,price=Price,category=Cat>Sub,attr.colour=Colour",
       "--currency=INR", "--sku-prefix=t-", "--category-root=Shop", "--stock=4"},
      &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("rows read: 8"), std::string::npos) << out;
  EXPECT_NE(out.find("imported: 4"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped: 4"), std::string::npos) << out;
  EXPECT_NE(out.find("missing title: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("missing price: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("bad price: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("duplicate sku in the file: 1"), std::string::npos) << out;
  EXPECT_NE(out.find("line 9"), std::string::npos) << "examples carry line numbers: " << out;

  auto p1 = ParseObject(env_.Get("/v1/products/p-000001").body);
  EXPECT_EQ(p1["title"].as_string(), "Shirt, blue");
  EXPECT_EQ(p1["sku"].as_string(), "t-1");
  EXPECT_EQ(p1["price"].at("amount").as_int64(), 1250);
  EXPECT_EQ(p1["price"].at("currency").as_string(), "INR");
  EXPECT_EQ(p1["attributes"].at("colour").as_string(), "Blue");
  EXPECT_EQ(p1["category"].at("path").as_array().size(), 3u);
  EXPECT_EQ(p1["category"].at("path").as_array()[0].as_string(), "Shop");
  EXPECT_EQ(p1["availability"].at("available").as_int64(), 4);
  EXPECT_EQ(ParseObject(env_.Get("/v1/products/p-000002").body)["title"].as_string(), "Say \"hi\" mug");
  auto p3 = ParseObject(env_.Get("/v1/products/p-000003").body);
  EXPECT_EQ(p3["title"].as_string(), "Two\nline title");
  EXPECT_EQ(p3["price"].at("amount").as_int64(), 200);
  EXPECT_EQ(ParseObject(env_.Get("/v1/products/p-000004").body)["title"].as_string(), "Caf\u00e9 cr\u00e8me");

  // Importing the same file again skips every known SKU.
  out = env_.RunCommand("import catalog", {path, "--map=sku=id,title=Name,price=Price", "--sku-prefix=t-"},
                        &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("imported: 0"), std::string::npos) << out;
  EXPECT_NE(out.find("sku already in the catalog: 4"), std::string::npos) << out;
}

TEST_F(Import, GzipJsonLinesAndBadMappings) {
  auto gz_path = (env_.dir() / "in.jsonl.gz").string();
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  std::string lines =
      "{\"name\":\"Green Tea\",\"cost\":4.5,\"dept\":\"Grocery > Tea\",\"stars\":4.2}\n"
      "not json\n"
      "{\"name\":\"Black Tea\",\"cost\":\"3.10\",\"dept\":\"Grocery > Tea\"}\n";
  gzwrite(gz, lines.data(), static_cast<unsigned>(lines.size()));
  gzclose(gz);
  int code = -1;
  std::string out = env_.RunCommand(
      "import catalog",
      {gz_path, "--map=title=name,price=cost,category=dept,rating=stars", "--category-separator=>"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("imported: 2"), std::string::npos) << out;
  EXPECT_NE(out.find("not a JSON object: 1"), std::string::npos) << out;
  auto p = ParseObject(env_.Get("/v1/products/p-000001").body);
  EXPECT_EQ(p["price"].at("amount").as_int64(), 450);
  EXPECT_EQ(p["category"].at("path").as_array().size(), 2u);
  EXPECT_EQ(p["category"].at("name").as_string(), "Tea");
  EXPECT_DOUBLE_EQ(p["rating"].at("average").to_number<double>(), 4.2);

  std::string csv = WriteFile(env_.dir(), "x.csv", "a,b\n1,2\n");
  env_.RunCommand("import catalog", {csv, "--map=title=a,price=nope"}, &code);
  EXPECT_EQ(code, 2);
  env_.RunCommand("import catalog", {csv, "--map=title=a"}, &code);
  EXPECT_EQ(code, 2);
  env_.RunCommand("import catalog", {(env_.dir() / "missing.csv").string(), "--map=title=a,price=b"}, &code);
  EXPECT_NE(code, 0);
  env_.RunCommand("import catalog", {}, &code);
  EXPECT_EQ(code, 2);
}

}  // namespace
}  // namespace emporium::catalog
