#include "services/search/generate.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <random>

#include "platform/core/json.h"

namespace emporium::search {
namespace {

struct CategoryVocab {
  const char* id;
  const char* root;
  const char* name;
  std::vector<const char*> nouns;
  std::vector<const char*> brands;
  int64_t min_price;
  int64_t max_price;
};

const std::vector<CategoryVocab>& Vocabulary() {
  static const std::vector<CategoryVocab> kVocab = {
      {"c-01",
       "Clothing & Shoes",
       "Running Shoes",
       {"running shoe", "trainer", "sneaker", "trail shoe"},
       {"Stride", "Acme", "Northpeak"},
       3999,
       17999},
      {"c-02",
       "Clothing & Shoes",
       "T-Shirts",
       {"t-shirt", "tee", "crew neck shirt", "polo shirt"},
       {"Cotton Co", "Acme", "Urbanline"},
       999,
       4999},
      {"c-03",
       "Clothing & Shoes",
       "Jackets",
       {"rain jacket", "down jacket", "fleece jacket", "parka"},
       {"Northpeak", "Urbanline"},
       4999,
       29999},
      {"c-04",
       "Clothing & Shoes",
       "Hoodies",
       {"hoodie", "sweatshirt", "zip hoodie"},
       {"Cotton Co", "Urbanline"},
       2499,
       8999},
      {"c-05",
       "Electronics",
       "Televisions",
       {"television", "smart tv", "oled tv", "led tv"},
       {"Visionix", "Sonara", "Pixelon"},
       19999,
       249999},
      {"c-06",
       "Electronics",
       "Laptops",
       {"laptop", "notebook", "ultrabook", "gaming laptop"},
       {"Pixelon", "Corebyte", "Visionix"},
       49999,
       299999},
      {"c-07",
       "Electronics",
       "Headphones",
       {"headphones", "earbuds", "headset", "noise cancelling headphones"},
       {"Sonara", "Beatline"},
       1999,
       39999},
      {"c-08",
       "Electronics",
       "Smartphones",
       {"smartphone", "phone", "cellphone"},
       {"Pixelon", "Corebyte"},
       19999,
       129999},
      {"c-09",
       "Home & Kitchen",
       "Refrigerators",
       {"refrigerator", "fridge", "mini fridge", "freezer"},
       {"Coolwave", "Homestead"},
       29999,
       249999},
      {"c-10",
       "Home & Kitchen",
       "Coffee Makers",
       {"coffee maker", "espresso machine", "french press", "coffee grinder"},
       {"Brewmaster", "Homestead"},
       1999,
       59999},
      {"c-11",
       "Home & Kitchen",
       "Cookware",
       {"frying pan", "saucepan", "stock pot", "skillet", "dutch oven"},
       {"Ironclad", "Homestead"},
       1499,
       19999},
      {"c-12",
       "Furniture",
       "Sofas",
       {"sofa", "couch", "sectional sofa", "loveseat"},
       {"Oakline", "Comfort Living"},
       39999,
       249999},
      {"c-13",
       "Furniture",
       "Desks",
       {"desk", "standing desk", "writing desk", "computer desk"},
       {"Oakline", "Workwise"},
       9999,
       89999},
      {"c-14",
       "Furniture",
       "Chairs",
       {"office chair", "dining chair", "armchair", "stool"},
       {"Workwise", "Comfort Living"},
       4999,
       59999},
      {"c-15",
       "Sports & Outdoors",
       "Tents",
       {"tent", "backpacking tent", "family tent", "shelter"},
       {"Northpeak", "Trailhead"},
       7999,
       69999},
      {"c-16",
       "Sports & Outdoors",
       "Bicycles",
       {"bicycle", "mountain bike", "road bike", "e-bike"},
       {"Velocity", "Trailhead"},
       29999,
       399999},
      {"c-17",
       "Sports & Outdoors",
       "Yoga",
       {"yoga mat", "yoga block", "yoga strap", "meditation cushion"},
       {"Zenform", "Acme"},
       999,
       9999},
      {"c-18",
       "Toys & Games",
       "Board Games",
       {"board game", "card game", "puzzle", "strategy game"},
       {"Playwell", "Gamecraft"},
       999,
       7999},
      {"c-19",
       "Beauty",
       "Skin Care",
       {"moisturizer", "face serum", "cleanser", "sunscreen"},
       {"Glowlab", "Purely"},
       799,
       6999},
      {"c-20",
       "Garden",
       "Garden Tools",
       {"lawn mower", "hedge trimmer", "garden hose", "pruning shears", "leaf blower"},
       {"Greenthumb", "Ironclad"},
       1499,
       59999},
      {"c-21",
       "Books",
       "Cookbooks",
       {"cookbook", "baking book", "recipe collection"},
       {"Pageturn"},
       999,
       4999},
  };
  return kVocab;
}

constexpr const char* kAdjectives[] = {"lightweight", "waterproof", "classic", "premium",
                                       "compact",     "wireless",   "organic", "durable",
                                       "portable",    "deluxe",     "slim",    "vintage"};
constexpr const char* kColors[] = {"black", "white", "navy", "red", "grey", "green", "blue", "beige"};

}  // namespace

std::string ProductJson(const ProductSpec& s) {
  boost::json::array path;
  for (const auto& p : s.category_path) path.emplace_back(p);
  boost::json::object o{
      {"id", s.id},
      {"sku", "SKU-" + s.id},
      {"title", s.title},
      {"description", s.description},
      {"brand", s.brand},
      {"category", boost::json::object{{"id", s.category_id},
                                       {"name", s.category_path.empty() ? "" : s.category_path.back()},
                                       {"path", path}}},
      {"price", boost::json::object{{"amount", s.price}, {"currency", "USD"}}},
      {"attributes", boost::json::object{}},
      {"images", boost::json::array{boost::json::object{{"url", "/v1/products/" + s.id + "/image.svg"},
                                                        {"alt", s.title}}}},
      {"rating", boost::json::object{{"average", 4.2}, {"count", 17}}},
      {"availability", boost::json::object{{"in_stock", s.in_stock}, {"available", s.available}}},
      {"version", s.version},
  };
  return json::Dump(o);
}

std::vector<ProductSpec> GenerateProducts(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&rng](size_t size) { return static_cast<size_t>(rng() % size); };
  const auto& vocab = Vocabulary();
  std::vector<ProductSpec> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const CategoryVocab& c = vocab[pick(vocab.size())];
    ProductSpec p;
    char id[32];
    std::snprintf(id, sizeof id, "p-%06zu", i + 1);
    p.id = id;
    p.brand = c.brands[pick(c.brands.size())];
    std::string noun = c.nouns[pick(c.nouns.size())];
    std::string adj = kAdjectives[pick(std::size(kAdjectives))];
    std::string color = kColors[pick(std::size(kColors))];
    p.title = p.brand + " " + adj + " " + color + " " + noun;
    p.description = "A " + adj + " " + noun + " in " + color + " by " + p.brand + ". Part of our " + c.name +
                    " range in " + c.root + ", built to last and easy to care for.";
    p.category_id = c.id;
    p.category_path = {c.root, c.name};
    p.price =
        c.min_price + static_cast<int64_t>(rng() % static_cast<uint64_t>(c.max_price - c.min_price + 1));
    p.price = p.price / 100 * 100 + 99;
    p.in_stock = rng() % 10 != 0;
    p.available = p.in_stock ? 1 + static_cast<int64_t>(rng() % 50) : 0;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> GeneratedQueryMix() {
  return {"running shoes", "waterproof jacket", "tv",
          "laptop",        "coffee maker",      "black t-shirt",
          "sofa",          "yoga mat",          "wireless headphones",
          "fridge",        "mountain bike",     "standing desk",
          "garden hose",   "board game",        "premium skillet",
          "sneakers",      "refrigerator",      "tent",
          "moisturizer",   "hedphones"};
}

}  // namespace emporium::search
