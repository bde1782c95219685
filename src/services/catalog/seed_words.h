// Word lists of the demo catalog generator (seed_words.cc): the category tree with, per leaf,
// its product nouns, price range and kind of attributes; brands per top-level category;
// adjectives, materials, colours and description phrases. Immutable data; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace emporium::catalog::seed {

// Which attributes a leaf category's products carry.
enum class Kind {
  kApparel,
  kShoes,
  kAudio,
  kComputer,
  kPhone,
  kAppliance,
  kCookware,
  kFurniture,
  kFood,
  kDrink,
  kSkin,
  kHair,
  kFitness,
  kCamping,
  kToy,
  kBook
};

struct Leaf {
  std::vector<std::string_view> path;  // 2 or 3 levels, root first
  std::vector<std::string_view> nouns;
  int64_t min_price;  // minor units (USD cents)
  int64_t max_price;
  Kind kind;
};

std::span<const Leaf> Leaves();
// Brands of the top-level category `root` (never empty).
std::span<const std::string_view> BrandsFor(std::string_view root);
std::span<const std::string_view> Adjectives();
std::span<const std::string_view> Colours();
std::span<const std::string_view> MaterialsFor(Kind kind);
std::span<const std::string_view> FeaturePhrases(Kind kind);
std::span<const std::string_view> ClosingPhrases();

}  // namespace emporium::catalog::seed
