// The demo catalog's vocabulary. Changing any list changes the generated catalog for a seed.
#include "services/catalog/seed_words.h"

#include <array>

namespace emporium::catalog::seed {
namespace {

using SV = std::string_view;

const std::vector<Leaf>& AllLeaves() {
  static const std::vector<Leaf> kLeaves = {
      {{"Clothing & Shoes", "Women", "Dresses"},
       {"Wrap Dress", "Maxi Dress", "Shirt Dress", "Midi Dress"},
       2499,
       18999,
       Kind::kApparel},
      {{"Clothing & Shoes", "Women", "Tops"},
       {"Blouse", "Tank Top", "Knit Sweater", "Cardigan"},
       1299,
       8999,
       Kind::kApparel},
      {{"Clothing & Shoes", "Men", "Shirts"},
       {"Oxford Shirt", "Flannel Shirt", "Polo Shirt", "Henley"},
       1499,
       8999,
       Kind::kApparel},
      {{"Clothing & Shoes", "Men", "Jackets"},
       {"Bomber Jacket", "Rain Jacket", "Puffer Jacket", "Field Jacket"},
       4999,
       29999,
       Kind::kApparel},
      {{"Clothing & Shoes", "Shoes", "Running Shoes"},
       {"Running Shoe", "Trail Runner", "Racing Flat"},
       4999,
       21999,
       Kind::kShoes},
      {{"Clothing & Shoes", "Shoes", "Boots"},
       {"Chelsea Boot", "Hiking Boot", "Work Boot"},
       6999,
       27999,
       Kind::kShoes},
      {{"Electronics", "Audio", "Headphones"},
       {"Wireless Headphones", "Earbuds", "Studio Headphones"},
       1999,
       44999,
       Kind::kAudio},
      {{"Electronics", "Audio", "Speakers"},
       {"Bluetooth Speaker", "Soundbar", "Bookshelf Speakers"},
       2999,
       79999,
       Kind::kAudio},
      {{"Electronics", "Computers", "Laptops"},
       {"Laptop", "Ultrabook", "Gaming Laptop", "2-in-1 Laptop"},
       39999,
       299999,
       Kind::kComputer},
      {{"Electronics", "Computers", "Monitors"},
       {"Monitor", "Curved Monitor", "Portable Monitor"},
       12999,
       129999,
       Kind::kComputer},
      {{"Electronics", "Phones", "Smartphones"}, {"Smartphone", "Phone"}, 14999, 149999, Kind::kPhone},
      {{"Home & Kitchen", "Appliances", "Blenders"},
       {"Blender", "Personal Blender", "Immersion Blender"},
       2499,
       49999,
       Kind::kAppliance},
      {{"Home & Kitchen", "Appliances", "Coffee Makers"},
       {"Drip Coffee Maker", "Espresso Machine", "Pour-Over Kettle"},
       2999,
       89999,
       Kind::kAppliance},
      {{"Home & Kitchen", "Appliances", "Vacuum Cleaners"},
       {"Stick Vacuum", "Robot Vacuum", "Canister Vacuum"},
       7999,
       79999,
       Kind::kAppliance},
      {{"Home & Kitchen", "Cookware", "Pans"},
       {"Frying Pan", "Skillet", "Saute Pan", "Wok"},
       1999,
       24999,
       Kind::kCookware},
      {{"Home & Kitchen", "Furniture", "Chairs"},
       {"Desk Chair", "Dining Chair", "Lounge Chair"},
       4999,
       99999,
       Kind::kFurniture},
      {{"Home & Kitchen", "Furniture", "Desks"},
       {"Standing Desk", "Writing Desk", "Corner Desk"},
       9999,
       149999,
       Kind::kFurniture},
      {{"Grocery", "Pantry", "Coffee"},
       {"Whole Bean Coffee", "Ground Coffee", "Espresso Beans"},
       799,
       3999,
       Kind::kFood},
      {{"Grocery", "Pantry", "Pasta"}, {"Spaghetti", "Penne", "Fusilli", "Linguine"}, 199, 1299, Kind::kFood},
      {{"Grocery", "Pantry", "Snacks"},
       {"Trail Mix", "Granola Bars", "Kettle Chips", "Roasted Almonds"},
       299,
       1999,
       Kind::kFood},
      {{"Grocery", "Beverages", "Tea"},
       {"Green Tea", "Black Tea", "Herbal Tea", "Chai"},
       399,
       2499,
       Kind::kDrink},
      {{"Grocery", "Beverages", "Juice"},
       {"Orange Juice", "Apple Juice", "Cold-Pressed Juice"},
       299,
       1299,
       Kind::kDrink},
      {{"Beauty", "Skin Care", "Moisturizers"},
       {"Face Cream", "Night Cream", "Gel Moisturizer"},
       999,
       9999,
       Kind::kSkin},
      {{"Beauty", "Skin Care", "Sunscreen"},
       {"Sunscreen", "Mineral Sunscreen", "Sun Stick"},
       799,
       4999,
       Kind::kSkin},
      {{"Beauty", "Hair Care", "Shampoo"},
       {"Shampoo", "Clarifying Shampoo", "Dry Shampoo"},
       499,
       3999,
       Kind::kHair},
      {{"Sports & Outdoors", "Fitness", "Yoga Mats"},
       {"Yoga Mat", "Travel Yoga Mat", "Exercise Mat"},
       1499,
       12999,
       Kind::kFitness},
      {{"Sports & Outdoors", "Fitness", "Dumbbells"},
       {"Dumbbell Set", "Adjustable Dumbbell", "Kettlebell"},
       1999,
       49999,
       Kind::kFitness},
      {{"Sports & Outdoors", "Camping", "Tents"},
       {"Backpacking Tent", "Family Tent", "Ultralight Tent"},
       7999,
       69999,
       Kind::kCamping},
      {{"Sports & Outdoors", "Camping", "Sleeping Bags"},
       {"Sleeping Bag", "Mummy Bag", "Quilt"},
       3999,
       39999,
       Kind::kCamping},
      {{"Toys & Games", "Board Games"},
       {"Strategy Game", "Party Game", "Cooperative Game"},
       1499,
       7999,
       Kind::kToy},
      {{"Toys & Games", "Building Sets"},
       {"Building Set", "Construction Kit", "Marble Run"},
       1999,
       19999,
       Kind::kToy},
      {{"Books", "Fiction"}, {"Novel", "Thriller", "Short Stories"}, 899, 3499, Kind::kBook},
      {{"Books", "Cookbooks"}, {"Cookbook", "Baking Book", "Vegetarian Cookbook"}, 1499, 4999, Kind::kBook},
  };
  return kLeaves;
}

constexpr std::array<SV, 10> kClothingBrands = {"Northwind", "Harbor & Pine", "Alder", "Mistral",
                                                "Oakline",   "Tundra Co.",    "Linea", "Fieldhouse",
                                                "Saltmarsh", "Copperleaf"};
constexpr std::array<SV, 9> kElectronicsBrands = {"Voltra",  "Sonique", "Pixelcore", "Auralis", "Nimbus",
                                                  "Kestrel", "Quanta",  "Lumina",    "Arcwave"};
constexpr std::array<SV, 8> kHomeBrands = {"Hearthstone", "Cuisio",   "Brightwell", "Maple & Main",
                                           "Ferro",       "Nordhaus", "Kitchenly",  "Vantage Home"};
constexpr std::array<SV, 8> kGroceryBrands = {"Green Valley", "Sunfield",    "Old Mill",
                                              "Bramble Farm", "Terra Verde", "Blue Ridge Roasters",
                                              "Golden Acre",  "Riverstone"};
constexpr std::array<SV, 6> kBeautyBrands = {"Lumière",   "Botanica", "Pure Ritual",
                                             "Dermaleaf", "Aveline",  "Solstice"};
constexpr std::array<SV, 7> kSportsBrands = {"Summit",   "Trailhead",  "Ironclad",  "Zenflow",
                                             "Basecamp", "Stridewell", "Peak Forge"};
constexpr std::array<SV, 5> kToyBrands = {"Brickworks", "Playfield", "Tinker & Co.", "Meeple House",
                                          "Wonderbox"};
constexpr std::array<SV, 5> kBookBrands = {"Lantern Press", "Inkwell Books", "Harrow House",
                                           "Bluebird Editions", "Marigold Publishing"};

constexpr std::array<SV, 24> kAdjectives = {
    "Classic",    "Essential", "Premium",     "Everyday", "Lightweight", "Compact", "Deluxe",  "Modern",
    "Vintage",    "Heritage",  "Pro",         "Ultra",    "Signature",   "Urban",   "Coastal", "Alpine",
    "Minimalist", "Rustic",    "Performance", "Comfort",  "Studio",      "Travel",  "Artisan", "Organic"};

constexpr std::array<SV, 16> kColours = {"Black",    "White",    "Navy",         "Charcoal", "Olive", "Sand",
                                         "Burgundy", "Sky Blue", "Forest Green", "Ivory",    "Slate", "Rust",
                                         "Blush",    "Mustard",  "Teal",         "Grey"};

constexpr std::array<SV, 8> kApparelMaterials = {"Cotton", "Linen",    "Merino Wool",        "Organic Cotton",
                                                 "Denim",  "Cashmere", "Recycled Polyester", "Silk"};
constexpr std::array<SV, 5> kShoeMaterials = {"Mesh", "Leather", "Suede", "Knit", "Waterproof"};
constexpr std::array<SV, 5> kTechMaterials = {"Aluminium", "Matte", "Noise-Cancelling", "Wireless", "Carbon"};
constexpr std::array<SV, 5> kHomeMaterials = {"Stainless Steel", "Cast Iron", "Ceramic", "Bamboo", "Walnut"};
constexpr std::array<SV, 6> kFoodMaterials = {"Organic",     "Fair Trade",  "Single-Origin",
                                              "Gluten-Free", "Whole Grain", "Sea Salt"};
constexpr std::array<SV, 5> kCareMaterials = {"Hyaluronic", "Aloe", "Vitamin C", "Argan Oil",
                                              "Fragrance-Free"};
constexpr std::array<SV, 5> kSportMaterials = {"Non-Slip", "Rubber", "Nylon", "Ripstop", "Down"};
constexpr std::array<SV, 4> kToyMaterials = {"Wooden", "Family", "Deluxe Edition", "Starter"};
constexpr std::array<SV, 4> kBookMaterials = {"Hardcover", "Paperback", "Illustrated", "Collector's Edition"};

constexpr std::array<SV, 4> kApparelFeatures = {
    "A relaxed fit that layers easily and keeps its shape wash after wash.",
    "Cut for comfort with a soft hand feel and reinforced seams.",
    "Breathable fabric that works from the office to the weekend.",
    "Tailored lines with a touch of stretch for all-day movement."};
constexpr std::array<SV, 3> kShoeFeatures = {"A cushioned midsole returns energy with every stride.",
                                             "Grippy outsole for wet pavements and gravel paths.",
                                             "Padded collar and a roomy toe box for long days on your feet."};
constexpr std::array<SV, 3> kTechFeatures = {
    "Long battery life and fast charging keep you going all day.",
    "Pairs in seconds and remembers your devices.",
    "Tuned for clear detail with a crisp, accurate picture and sound."};
constexpr std::array<SV, 3> kHomeFeatures = {
    "Easy to clean and built to last for years of daily use.",
    "Thoughtful design that fits small kitchens and big families alike.",
    "Quiet, efficient and simple to operate."};
constexpr std::array<SV, 3> kFoodFeatures = {"Sourced from growers we know and packed fresh.",
                                             "No artificial colours, flavours or preservatives.",
                                             "A pantry staple with a rich, balanced flavour."};
constexpr std::array<SV, 3> kCareFeatures = {"Dermatologist tested and gentle on sensitive skin.",
                                             "Absorbs quickly without a greasy finish.",
                                             "Cruelty-free and made without parabens."};
constexpr std::array<SV, 3> kSportFeatures = {
    "Built for training sessions, trails and everything in between.",
    "Durable materials that stand up to the elements.", "Packs down small and sets up fast."};
constexpr std::array<SV, 3> kToyFeatures = {"Hours of screen-free fun for the whole family.",
                                            "Encourages creativity, planning and teamwork.",
                                            "Sturdy pieces made to be played with again and again."};
constexpr std::array<SV, 3> kBookFeatures = {"A page-turner critics called impossible to put down.",
                                             "Beautifully printed with a sewn binding.",
                                             "Recipes and stories gathered over a lifetime."};

constexpr std::array<SV, 5> kClosing = {"Backed by a 30-day return policy.", "Ships in recyclable packaging.",
                                        "A customer favourite, restocked often.", "Makes a thoughtful gift.",
                                        "Designed in-house and quality checked before it ships."};

}  // namespace

std::span<const Leaf> Leaves() {
  return AllLeaves();
}

std::span<const std::string_view> BrandsFor(std::string_view root) {
  if (root == "Clothing & Shoes") return kClothingBrands;
  if (root == "Electronics") return kElectronicsBrands;
  if (root == "Home & Kitchen") return kHomeBrands;
  if (root == "Grocery") return kGroceryBrands;
  if (root == "Beauty") return kBeautyBrands;
  if (root == "Sports & Outdoors") return kSportsBrands;
  if (root == "Toys & Games") return kToyBrands;
  return kBookBrands;
}

std::span<const std::string_view> Adjectives() {
  return kAdjectives;
}

std::span<const std::string_view> Colours() {
  return kColours;
}

std::span<const std::string_view> MaterialsFor(Kind kind) {
  switch (kind) {
    case Kind::kApparel: return kApparelMaterials;
    case Kind::kShoes: return kShoeMaterials;
    case Kind::kAudio:
    case Kind::kComputer:
    case Kind::kPhone: return kTechMaterials;
    case Kind::kAppliance:
    case Kind::kCookware:
    case Kind::kFurniture: return kHomeMaterials;
    case Kind::kFood:
    case Kind::kDrink: return kFoodMaterials;
    case Kind::kSkin:
    case Kind::kHair: return kCareMaterials;
    case Kind::kFitness:
    case Kind::kCamping: return kSportMaterials;
    case Kind::kToy: return kToyMaterials;
    case Kind::kBook: return kBookMaterials;
  }
  return kApparelMaterials;
}

std::span<const std::string_view> FeaturePhrases(Kind kind) {
  switch (kind) {
    case Kind::kApparel: return kApparelFeatures;
    case Kind::kShoes: return kShoeFeatures;
    case Kind::kAudio:
    case Kind::kComputer:
    case Kind::kPhone: return kTechFeatures;
    case Kind::kAppliance:
    case Kind::kCookware:
    case Kind::kFurniture: return kHomeFeatures;
    case Kind::kFood:
    case Kind::kDrink: return kFoodFeatures;
    case Kind::kSkin:
    case Kind::kHair: return kCareFeatures;
    case Kind::kFitness:
    case Kind::kCamping: return kSportFeatures;
    case Kind::kToy: return kToyFeatures;
    case Kind::kBook: return kBookFeatures;
  }
  return kApparelFeatures;
}

std::span<const std::string_view> ClosingPhrases() {
  return kClosing;
}

}  // namespace emporium::catalog::seed
