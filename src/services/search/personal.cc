#include "services/search/personal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace emporium::search {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
constexpr double kMsPerDay = 86'400'000.0;

double Share(const std::unordered_map<std::string, double>& m, const std::string& key, double total) {
  if (key.empty() || total <= 0) return 0;
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second / total;
}

void Scale(std::unordered_map<std::string, double>& m, double f) {
  for (auto& [_, w] : m) w *= f;
}

}  // namespace

double SignalWeight(Signal signal) {
  switch (signal) {
    case Signal::kView:
    case Signal::kClick: return 1;
    case Signal::kWishlist: return 2;
    case Signal::kCart: return 3;
    case Signal::kPurchase: return 5;
  }
  return 1;
}

void UserProfile::DecayTo(int64_t at_ms) {
  if (at_ms <= last_ms_) return;
  if (last_ms_ > 0) {
    const double f = std::exp2(-static_cast<double>(at_ms - last_ms_) / (kHalfLifeDays * kMsPerDay));
    total_ *= f;
    price_weight_ *= f;
    log_price_ *= f;
    log_price_sq_ *= f;
    Scale(categories_, f);
    Scale(brands_, f);
  }
  last_ms_ = at_ms;
}

void UserProfile::Add(Signal signal, const std::string& product_id, const ProductFacts& facts,
                      int64_t at_ms) {
  DecayTo(at_ms);
  const double w = SignalWeight(signal);
  total_ += w;
  if (!facts.category.empty()) categories_[facts.category] += w;
  if (!facts.brand.empty()) brands_[facts.brand] += w;
  if (facts.price > 0) {
    const double lp = std::log(static_cast<double>(facts.price));
    price_weight_ += w;
    log_price_ += w * lp;
    log_price_sq_ += w * lp * lp;
  }
  auto it = std::find(recent_.begin(), recent_.end(), product_id);
  if (it != recent_.end()) recent_.erase(it);
  recent_.push_front(product_id);
  if (recent_.size() > kRecentProducts) recent_.pop_back();
}

void UserProfile::Absorb(const UserProfile& other) {
  if (other.empty()) return;
  UserProfile o = other;
  const int64_t at = std::max(last_ms_, o.last_ms_);
  DecayTo(at);
  o.DecayTo(at);
  total_ += o.total_;
  price_weight_ += o.price_weight_;
  log_price_ += o.log_price_;
  log_price_sq_ += o.log_price_sq_;
  for (const auto& [k, w] : o.categories_) categories_[k] += w;
  for (const auto& [k, w] : o.brands_) brands_[k] += w;
  for (auto it = o.recent_.rbegin(); it != o.recent_.rend(); ++it) {
    if (std::find(recent_.begin(), recent_.end(), *it) != recent_.end()) continue;
    recent_.push_back(*it);
  }
  while (recent_.size() > kRecentProducts) recent_.pop_back();
}

double UserProfile::CategoryShare(const std::string& category) const {
  return Share(categories_, category, total_);
}

double UserProfile::BrandShare(const std::string& brand) const {
  return Share(brands_, brand, total_);
}

double UserProfile::PriceGap(int64_t price) const {
  if (price_weight_ <= 0 || price <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double mean = log_price_ / price_weight_;
  const double var = std::max(0.0, log_price_sq_ / price_weight_ - mean * mean);
  return std::fabs(std::log(static_cast<double>(price)) - mean) / std::max(0.25, std::sqrt(var));
}

const std::vector<std::string>& PersonalFeatureNames() {
  static const std::vector<std::string> names = {"user_activity", "category_share", "brand_share",
                                                 "price_gap", "recent_similarity"};
  return names;
}

void AppendPersonalFeatures(const UserProfile* profile, const Hit& hit, float recent_similarity,
                            std::vector<float>& out) {
  if (!profile || profile->empty()) {
    out.insert(out.end(), PersonalFeatureNames().size(), kMissing);
    return;
  }
  out.push_back(static_cast<float>(std::log1p(profile->total())));
  out.push_back(static_cast<float>(profile->CategoryShare(hit.category)));
  out.push_back(static_cast<float>(profile->BrandShare(hit.brand)));
  out.push_back(static_cast<float>(profile->PriceGap(hit.price)));
  out.push_back(recent_similarity);
}

void ProfileBook::Add(const std::string& subject, Signal signal, const std::string& product_id,
                      const ProductFacts& facts, int64_t at_ms) {
  std::unique_lock lock(mu_);
  users_[subject].Add(signal, product_id, facts, at_ms);
}

void ProfileBook::Merge(const std::string& guest_subject, const std::string& user_subject) {
  std::unique_lock lock(mu_);
  auto it = users_.find(guest_subject);
  if (it == users_.end() || guest_subject == user_subject) return;
  UserProfile guest = std::move(it->second);
  users_.erase(it);
  users_[user_subject].Absorb(guest);
}

std::optional<UserProfile> ProfileBook::Get(std::string_view subject) const {
  std::shared_lock lock(mu_);
  auto it = users_.find(std::string(subject));
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

size_t ProfileBook::size() const {
  std::shared_lock lock(mu_);
  return users_.size();
}

}  // namespace emporium::search
