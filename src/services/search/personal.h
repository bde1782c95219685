// Personalized search: what search knows of a shopper's taste, and the ranker features it gives.
//
// A UserProfile accumulates what the shopper did with products (viewed, clicked in results, put
// on the wishlist or in the cart, bought), weighted by how much each says and decayed with a
// half-life of kHalfLifeDays: time-decayed shares per category and per brand, the weighted mean
// and spread of log price, and the last kRecentProducts products. The ranker features
// (PersonalFeatureNames) compare a candidate with it; a shopper without a profile (a new one,
// `personalize=false`, an anonymous search) gets missing values, which the trees learned too.
//
// ProfileBook holds every shopper's profile, keyed by the subject ("user:<id>", "guest:<id>").
// Thread-safe: Add from the event feed while request threads Get copies.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "services/search/ranking.h"

namespace emporium::search {

inline constexpr double kHalfLifeDays = 21;
inline constexpr size_t kRecentProducts = 8;

enum class Signal { kView, kClick, kWishlist, kCart, kPurchase };
// How much a signal says about taste: view and click 1, wishlist 2, cart 3, purchase 5.
double SignalWeight(Signal signal);

class UserProfile {
 public:
  // Events must come in time order per shopper; an earlier one counts as if at the latest time.
  void Add(Signal signal, const std::string& product_id, const ProductFacts& facts, int64_t at_ms);
  // Takes in another profile (a guest's, on sign-in), as if its events were this one's.
  void Absorb(const UserProfile& other);

  bool empty() const { return total_ <= 0; }
  double total() const { return total_; }  // decayed weight as of the last event
  double CategoryShare(const std::string& category) const;
  double BrandShare(const std::string& brand) const;
  // |log price − the shopper's mean log price| over their spread (floored at 0.25); NaN without
  // a priced event or for a price ≤ 0.
  double PriceGap(int64_t price) const;
  // Newest first, distinct.
  const std::deque<std::string>& recent() const { return recent_; }

 private:
  void DecayTo(int64_t at_ms);
  int64_t last_ms_ = 0;
  double total_ = 0;
  double price_weight_ = 0, log_price_ = 0, log_price_sq_ = 0;
  std::unordered_map<std::string, double> categories_;
  std::unordered_map<std::string, double> brands_;
  std::deque<std::string> recent_;
};

// user_activity (log1p of the decayed weight), category_share, brand_share, price_gap,
// recent_similarity (the candidate's cosine to the centroid of the recent products' vectors).
const std::vector<std::string>& PersonalFeatureNames();
// Appends PersonalFeatureNames().size() floats (all NaN without a profile).
void AppendPersonalFeatures(const UserProfile* profile, const Hit& hit, float recent_similarity,
                            std::vector<float>& out);

class ProfileBook {
 public:
  void Add(const std::string& subject, Signal signal, const std::string& product_id,
           const ProductFacts& facts, int64_t at_ms);
  // The guest's profile joins the user's (and the guest's is dropped).
  void Merge(const std::string& guest_subject, const std::string& user_subject);
  // A copy (nullopt: nothing known).
  std::optional<UserProfile> Get(std::string_view subject) const;
  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, UserProfile> users_;
};

}  // namespace emporium::search
