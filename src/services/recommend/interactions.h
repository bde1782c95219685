// Interactions between users and items, the input of every recommendation model, and the split
// offline evaluation uses.
//
// Users and items are dense indices (0..n-1) into id tables, so models work on arrays; a weight
// is the strength of the interaction (1 for implicit feedback) and at_ms when it happened.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/mf/als.h"

namespace emporium::recommend {

struct Interaction {
  int32_t user = 0;
  int32_t item = 0;
  float weight = 1;
  int64_t at_ms = 0;
};

struct Interactions {
  std::vector<std::string> user_ids;  // index → external id
  std::vector<std::string> item_ids;
  std::vector<Interaction> rows;

  int32_t users() const { return static_cast<int32_t>(user_ids.size()); }
  int32_t items() const { return static_cast<int32_t>(item_ids.size()); }
  // The index of an id, added when new.
  int32_t UserIndex(const std::string& id);
  int32_t ItemIndex(const std::string& id);

 private:
  std::unordered_map<std::string, int32_t> user_index_, item_index_;
};

// A CSV of interactions with a header: MovieLens' userId,movieId,rating,timestamp (seconds), or
// user,item[,weight][,timestamp] (timestamp in seconds). Every row counts as one implicit
// interaction of weight 1 (a rating says the user watched it, whatever its value). kNotFound
// when the file is missing; kInvalidArgument naming the line when a row is malformed or the
// header lacks the user and item columns.
Result<Interactions> ReadInteractionsCsv(const std::filesystem::path& file);

struct Split {
  std::vector<Interaction> train;
  std::vector<Interaction> test;
};

// A seeded per-user split: of each user's distinct items, round(train_share · n) at random go to
// train (at least one), the rest to test; a user with one item is train only. Repeated
// interactions with one item stay on one side.
Split SplitPerUser(const Interactions& data, double train_share, uint64_t seed);
// The same over rows whose users are 0..users-1.
Split SplitPerUser(const std::vector<Interaction>& rows, int32_t users, double train_share, uint64_t seed);

// What the catalog says of each item index, for the models that use more than interactions (the
// segments, the ranker's item features): "" and -1 where it said nothing.
struct ItemCatalog {
  std::vector<std::string> categories, brands;
  std::vector<int64_t> prices;  // minor units
};

// A pause between two of a shopper's interactions that ends a session.
inline constexpr int64_t kSessionGapMs = 30 * 60 * 1000;

// The items of the latest session of one user's rows (any order): from the newest back to the
// first pause of at least `gap_ms`, newest first, each item once.
std::vector<int32_t> LatestSession(std::vector<Interaction> rows, int64_t gap_ms = kSessionGapMs);

// The user × item matrix of `rows` (weights of repeated pairs summed).
Result<ml::CsrMatrix> UserItemMatrix(const std::vector<Interaction>& rows, int32_t users, int32_t items);

}  // namespace emporium::recommend
