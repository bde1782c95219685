#include "services/catalog/seed.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

#include "platform/core/json.h"
#include "services/catalog/api.h"
#include "services/catalog/seed_words.h"

namespace emporium::catalog {
namespace {

using seed::Kind;

constexpr int64_t kDayMs = 86'400'000;
constexpr std::string_view kOrigins[] = {"Italy", "Colombia", "USA", "Ethiopia", "Spain"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

DemoGenerator::DemoGenerator(uint64_t seed, int64_t now_ms) : rng_(seed), now_ms_(now_ms) {}

NewProduct DemoGenerator::Next(size_t* leaf_index) {
  auto pick = [this](std::span<const std::string_view> list) {
    return std::string(list[Below(list.size())]);
  };
  const auto leaves = seed::Leaves();
  *leaf_index = Below(leaves.size());
  const seed::Leaf& leaf = leaves[*leaf_index];
  const std::string brand = pick(seed::BrandsFor(leaf.path.front()));
  const std::string adjective = pick(seed::Adjectives());
  std::string material = pick(seed::MaterialsFor(leaf.kind));
  if (material == adjective) material.clear();
  const std::string colour = pick(seed::Colours());
  const std::string noun = std::string(leaf.nouns[Below(leaf.nouns.size())]);

  boost::json::object a;
  std::string variant;
  switch (leaf.kind) {
    case Kind::kApparel: {
      static const char* kSizes[] = {"XS", "S", "M", "L", "XL", "XXL"};
      static const char* kFits[] = {"regular", "slim", "relaxed"};
      a = {{"size", kSizes[Below(6)]}, {"colour", colour}, {"material", material}, {"fit", kFits[Below(3)]}};
      variant = colour;
      break;
    }
    case Kind::kShoes:
      a = {{"size_eu", 36 + static_cast<int64_t>(Below(11))},
           {"colour", colour},
           {"material", material},
           {"width", Below(4) == 0 ? "wide" : "standard"}};
      variant = colour;
      break;
    case Kind::kAudio:
      a = {{"colour", colour},
           {"battery_hours", 8 + static_cast<int64_t>(Below(40))},
           {"connectivity", Below(5) == 0 ? "wired" : "Bluetooth 5.3"},
           {"noise_cancelling", Below(2) == 0}};
      variant = colour;
      break;
    case Kind::kComputer: {
      static const int64_t kRam[] = {8, 16, 32, 64};
      static const int64_t kStorage[] = {256, 512, 1024, 2048};
      int64_t screen = 13 + static_cast<int64_t>(Below(20));
      a = {{"screen_inches", screen},
           {"ram_gb", kRam[Below(4)]},
           {"storage_gb", kStorage[Below(4)]},
           {"colour", colour}};
      variant = std::to_string(screen) + "\"";
      break;
    }
    case Kind::kPhone: {
      static const int64_t kStorage[] = {64, 128, 256, 512};
      int64_t storage = kStorage[Below(4)];
      a = {{"storage_gb", storage},
           {"screen_inches", 6.1 + 0.1 * static_cast<double>(Below(7))},
           {"colour", colour},
           {"camera_mp", 12 + 12 * static_cast<int64_t>(Below(5))}};
      variant = std::to_string(storage) + " GB, " + colour;
      break;
    }
    case Kind::kAppliance: {
      int64_t watts = 300 + 100 * static_cast<int64_t>(Below(18));
      a = {{"wattage_w", watts},
           {"capacity_l", 0.5 + 0.25 * static_cast<double>(Below(10))},
           {"colour", colour}};
      variant = std::to_string(watts) + " W";
      break;
    }
    case Kind::kCookware: {
      int64_t cm = 20 + 2 * static_cast<int64_t>(Below(6));
      a = {{"diameter_cm", cm}, {"material", material}, {"induction", Below(3) != 0}};
      variant = std::to_string(cm) + " cm";
      break;
    }
    case Kind::kFurniture:
      a = {{"width_cm", 45 + static_cast<int64_t>(Below(120))},
           {"depth_cm", 45 + static_cast<int64_t>(Below(40))},
           {"height_cm", 75 + static_cast<int64_t>(Below(50))},
           {"material", material},
           {"colour", colour}};
      variant = colour;
      break;
    case Kind::kFood: {
      static const int64_t kGrams[] = {150, 250, 340, 500, 1000};
      int64_t g = kGrams[Below(5)];
      a = {{"weight_g", g}, {"organic", material == "Organic" || Below(4) == 0}, {"origin", pick(kOrigins)}};
      variant = g >= 1000 ? std::to_string(g / 1000) + " kg" : std::to_string(g) + " g";
      break;
    }
    case Kind::kDrink: {
      int64_t ml = 250 * (1 + static_cast<int64_t>(Below(6)));
      a = {{"volume_ml", ml}, {"caffeinated", Below(2) == 0}, {"organic", Below(3) == 0}};
      variant = ml >= 1000 ? std::to_string(ml / 1000) + "." + std::to_string(ml % 1000 / 100) + " L"
                           : std::to_string(ml) + " ml";
      break;
    }
    case Kind::kSkin:
    case Kind::kHair: {
      int64_t ml = 30 + 20 * static_cast<int64_t>(Below(12));
      const char* type_key = leaf.kind == Kind::kSkin ? "skin_type" : "hair_type";
      static const char* kSkin[] = {"all", "dry", "oily", "sensitive", "combination"};
      static const char* kHair[] = {"all", "curly", "fine", "coloured", "thick"};
      a = {{"volume_ml", ml}, {type_key, leaf.kind == Kind::kSkin ? kSkin[Below(5)] : kHair[Below(5)]}};
      variant = std::to_string(ml) + " ml";
      break;
    }
    case Kind::kFitness: {
      double kg = 1 + static_cast<double>(Below(24));
      a = {{"weight_kg", kg}, {"colour", colour}, {"material", material}};
      variant = colour;
      break;
    }
    case Kind::kCamping: {
      int64_t persons = 1 + static_cast<int64_t>(Below(6));
      a = {{"capacity_persons", persons},
           {"weight_kg", 0.8 + 0.3 * static_cast<double>(Below(15))},
           {"season", Below(3) == 0 ? "4-season" : "3-season"}};
      variant = std::to_string(persons) + "-Person";
      break;
    }
    case Kind::kToy: {
      int64_t age = 3 + static_cast<int64_t>(Below(12));
      a = {{"age_min", age}, {"players", std::to_string(1 + Below(2)) + "-" + std::to_string(4 + Below(5))}};
      variant = "Ages " + std::to_string(age) + "+";
      break;
    }
    case Kind::kBook:
      a = {{"pages", 120 + static_cast<int64_t>(Below(600))}, {"format", material}, {"language", "English"}};
      variant = material;
      material.clear();
      break;
  }

  NewProduct p;
  p.brand = brand;
  p.title = brand + " " + adjective + (material.empty() ? "" : " " + material) + " " + noun;
  if (!variant.empty()) p.title += ", " + variant;
  const auto features = seed::FeaturePhrases(leaf.kind);
  size_t f1 = Below(features.size());
  size_t f2 = (f1 + 1 + Below(features.size() - 1)) % features.size();
  // "in <material>" reads well only where the word is a material.
  const bool made_of = leaf.kind == Kind::kApparel || leaf.kind == Kind::kShoes ||
                       leaf.kind == Kind::kCookware || leaf.kind == Kind::kFurniture;
  p.description = adjective + " " + Lower(noun) + " from " + brand +
                  (made_of && !material.empty() ? ", in " + Lower(material) : "") + ". " +
                  std::string(features[f1]) + " " + std::string(features[f2]) + " " +
                  pick(seed::ClosingPhrases());
  p.attributes_json = json::Dump(a);

  // Log-uniform price within the leaf's range, ending in .99.
  double lo = std::log(static_cast<double>(leaf.min_price)),
         hi = std::log(static_cast<double>(leaf.max_price));
  int64_t amount = static_cast<int64_t>(std::exp(lo + (hi - lo) * Unit()));
  p.price = {std::max<int64_t>(99, amount / 100 * 100 + 99), "USD"};

  if (Below(100) >= 6) {
    p.rating_count = static_cast<int64_t>(std::exp(Unit() * 7.5));
    double avg = 3.0 + (Unit() + Unit() + Unit()) / 3.0 * 2.2;
    p.rating_average = std::min(5.0, std::round(avg * 10.0) / 10.0);
  }
  int64_t east = 0, west = 0;
  if (Below(100) >= 8) {
    east = Below(5) == 0 ? 0 : static_cast<int64_t>(Below(80));
    west = Below(5) == 0 ? 0 : static_cast<int64_t>(Below(40));
  }
  p.stock = {{"wh-1", east}, {"wh-2", west}};
  p.created_at = now_ms_ - static_cast<int64_t>(Below(180 * kDayMs));
  return p;
}

std::vector<std::string> DemoProductDocuments(uint64_t seed_value, int size, int64_t now_ms) {
  const auto leaves = seed::Leaves();
  DemoGenerator gen(seed_value, now_ms);
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(std::max(size, 0)));
  for (int i = 0; i < size; ++i) {
    size_t leaf = 0;
    NewProduct p = gen.Next(&leaf);
    boost::json::array path;
    for (std::string_view n : leaves[leaf].path) path.emplace_back(n);
    int64_t available = 0;
    for (const auto& [_, n] : p.stock) available += n;
    char id[16];
    std::snprintf(id, sizeof id, "p-%06d", i + 1);
    boost::json::value attributes = boost::json::object();
    if (auto v = json::Parse(p.attributes_json); v.ok()) attributes = std::move(*v);
    boost::json::object doc{
        {"id", id},
        {"title", p.title},
        {"description", p.description},
        {"brand", p.brand},
        {"category", boost::json::object{{"name", leaves[leaf].path.back()}, {"path", std::move(path)}}},
        {"price", boost::json::object{{"amount", p.price.amount}, {"currency", p.price.currency}}},
        {"attributes", std::move(attributes)},
        {"rating", boost::json::object{{"average", p.rating_average}, {"count", p.rating_count}}},
        {"availability", boost::json::object{{"in_stock", available > 0}, {"available", available}}}};
    out.push_back(json::Dump(doc));
  }
  return out;
}

Result<int> SeedDemoCatalog(Catalog& catalog, uint64_t seed_value, int size, int batch) {
  const auto leaves = seed::Leaves();
  std::vector<std::string> leaf_ids;
  for (const auto& leaf : leaves) {
    std::vector<std::string> names(leaf.path.begin(), leaf.path.end());
    EMP_ASSIGN_OR_RETURN(Category c, catalog.EnsureCategoryPath(names));
    leaf_ids.push_back(c.id);
  }
  DemoGenerator gen(seed_value, catalog.Now());
  std::vector<NewProduct> pending;
  pending.reserve(batch);
  int done = 0;
  for (int i = 0; i < size; ++i) {
    size_t leaf = 0;
    NewProduct p = gen.Next(&leaf);
    p.category_id = leaf_ids[leaf];
    pending.push_back(std::move(p));
    if (static_cast<int>(pending.size()) == batch || i + 1 == size) {
      EMP_RETURN_IF_ERROR(catalog.InsertBatch(pending));
      done += static_cast<int>(pending.size());
      pending.clear();
    }
  }
  return done;
}

}  // namespace emporium::catalog
