// Segments: what serving knows of the catalog's categories from the interactions.
//
// Popularity by segment: a shopper's segment is the categories of what they did, so a shopper
// with a short history (a cold-start user) and the popular items that fill a short list come from
// the categories the shopper looked at, each in proportion to its share of the shopper's
// affinity, before the shop's overall popular items. Which categories are bought again
// (consumables: at least `repeat_rate` of the shopper–item pairs bought in the category were
// bought in two or more orders, over at least `min_pairs` pairs) and which are durables (the
// rest, unknown categories too): a durable the shopper bought is demoted on product and cart
// lists (nobody needs a second of the drill they own suggested beside the bits).
//
// Fitted with the generators on one snapshot, immutable, saved in the model artifact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/core/status.h"
#include "services/recommend/generators.h"
#include "services/recommend/interactions.h"

namespace emporium::recommend {

struct SegmentOptions {
  size_t per_category = 100;  // most popular items kept per category
  size_t min_pairs = 20;      // bought shopper–item pairs before a category can be a consumable
  double repeat_rate = 0.1;
  size_t max_categories = 3;  // of a shopper's, in a segment list
};

class Segments {
 public:
  // `categories` per item index ("" when unknown), `popularity` per item (the popularity
  // generator's distinct users), purchases are the rows weighted as a purchase.
  static Segments Fit(const std::vector<Interaction>& rows, std::span<const std::string> categories,
                      std::span<const float> popularity, SegmentOptions options = {});
  std::string Save() const;
  // kInvalidArgument for damaged bytes.
  static Result<Segments> Load(std::string_view bytes);

  // The popular items of the seed's categories (`categories` parallel to seed.items: the items'
  // categories now, so items newer than the segments count too), best first, none of `exclude`
  // (ascending): each of the max_categories largest categories' items scored by its share of the
  // seed's affinity over (rank + 1).
  std::vector<Scored> Popular(const History& seed, std::span<const std::string> categories, size_t k,
                              std::span<const int32_t> exclude) const;
  bool Durable(int32_t item) const;
  // The item's category, "" when unknown or the item is out of range.
  std::string_view Category(int32_t item) const;
  size_t items() const { return category_of_.size(); }
  size_t categories() const { return names_.size(); }
  size_t consumables() const;

 private:
  SegmentOptions options_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int32_t> index_;  // of names_
  std::vector<uint8_t> consumable_;                 // per category
  std::vector<int32_t> category_of_;                // per item, -1 none
  std::vector<std::vector<int32_t>> popular_;       // per category, most popular first
  std::vector<std::vector<float>> popularity_;      // beside popular_
};

}  // namespace emporium::recommend
