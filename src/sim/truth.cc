#include "sim/truth.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "platform/core/json.h"

namespace emporium::sim {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

array Floats(std::span<const float> v) {
  array a;
  for (float x : v) a.emplace_back(static_cast<double>(x));
  return a;
}

std::vector<float> ReadFloats(const value* v) {
  std::vector<float> out;
  if (!v || !v->is_array()) return out;
  for (const value& x : v->as_array())
    out.push_back(static_cast<float>(x.is_double() ? x.as_double() : x.to_number<double>()));
  return out;
}

double Number(const object& o, std::string_view key) {
  auto v = o.if_contains(key);
  if (!v || !v->is_number()) return 0;
  return v->to_number<double>();
}

std::string Text(const object& o, std::string_view key) {
  auto v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

FraudKind KindNamed(std::string_view name) {
  for (FraudKind k : {FraudKind::kCardTesting, FraudKind::kStolenCard, FraudKind::kAccountTakeover,
                      FraudKind::kFreshAccount, FraudKind::kMultiAccountDevice})
    if (FraudKindName(k) == name) return k;
  return FraudKind::kNone;
}

}  // namespace

GroundTruth GroundTruth::From(const World& world, const Population& population, int64_t start_ms,
                              int64_t end_ms, const std::map<std::string, std::string>& user_ids,
                              const std::map<std::string, FraudKind>& fraud_orders) {
  GroundTruth t;
  const SimCatalog& c = world.catalog();
  t.seed_ = world.seed();
  t.start_ms_ = start_ms;
  t.end_ms_ = end_ms;
  t.leaves_ = c.leaves;
  for (size_t l = 0; l < c.leaves.size(); ++l)
    t.complements_.push_back(world.Complements(static_cast<int>(l)));
  for (size_t i = 0; i < c.products.size(); ++i) {
    auto f = world.Factors(i);
    t.products_.push_back(Product{c.products[i].id, std::vector<float>(f.begin(), f.end()), c.leaf_of[i],
                                  c.brand_of[i], c.products[i].colour, world.PriceZ(i),
                                  c.products[i].rating});
  }
  for (const SimUser& u : population.shoppers()) {
    auto it = user_ids.find(u.key);
    t.users_.push_back(User{u.key, it == user_ids.end() ? u.key : it->second, u.taste});
  }
  t.fraud_orders_ = fraud_orders;
  t.Reindex();
  return t;
}

void GroundTruth::Reindex() {
  product_index_.clear();
  user_index_.clear();
  by_leaf_.assign(leaves_.size(), {});
  for (size_t i = 0; i < products_.size(); ++i) {
    product_index_.emplace(products_[i].id, i);
    const int leaf = products_[i].leaf;
    if (leaf >= 0 && static_cast<size_t>(leaf) < by_leaf_.size())
      by_leaf_[static_cast<size_t>(leaf)].push_back(i);
  }
  for (size_t i = 0; i < users_.size(); ++i) {
    user_index_.emplace(users_[i].key, i);
    user_index_.emplace(users_[i].user_id, i);
  }
}

Status GroundTruth::Save(const std::string& path) const {
  object doc{{"format", "emporium-sim-truth/1"},
             {"seed", seed_},
             {"start_ms", start_ms_},
             {"end_ms", end_ms_},
             {"want",
              "1.5*cos(u(t),v_p) + 0.6*clamp(log(leaf_affinity*L + 1e-3),-4,2.5) + 0.8*fav_brand "
              "+ 0.4*fav_colour - price_weight*|price_z - price_pref| + 0.3*(rating-4)"}};
  array leaves;
  for (size_t l = 0; l < leaves_.size(); ++l) {
    array comp;
    for (int m : complements_[l]) comp.emplace_back(m);
    leaves.push_back(object{{"name", leaves_[l]}, {"complements", std::move(comp)}});
  }
  doc["leaves"] = std::move(leaves);
  array products;
  for (const Product& p : products_) {
    products.push_back(object{{"id", p.id},
                              {"factors", Floats(p.factors)},
                              {"leaf", p.leaf},
                              {"brand", p.brand},
                              {"colour", p.colour},
                              {"price_z", p.price_z},
                              {"rating", p.rating}});
  }
  doc["products"] = std::move(products);
  array users;
  for (const User& u : users_) {
    array brands;
    for (int b : u.taste.brands) brands.emplace_back(b);
    users.push_back(object{{"key", u.key},
                           {"user_id", u.user_id},
                           {"u0", Floats(u.taste.u0)},
                           {"u1", Floats(u.taste.u1)},
                           {"drift", static_cast<double>(u.taste.drift)},
                           {"leaf_affinity", Floats(u.taste.leaf_affinity)},
                           {"brands", std::move(brands)},
                           {"colour", u.taste.colour},
                           {"price_pref", static_cast<double>(u.taste.price_pref)},
                           {"price_weight", static_cast<double>(u.taste.price_weight)}});
  }
  doc["users"] = std::move(users);
  object fraud;
  for (const auto& [order, kind] : fraud_orders_) fraud[order] = FraudKindName(kind);
  doc["fraud_orders"] = std::move(fraud);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << json::Dump(doc) << "\n";
  out.close();
  if (!out) return Internal("cannot write " + path);
  return Status::Ok();
}

Result<GroundTruth> GroundTruth::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read ground truth " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto doc = json::Parse(buf.str());
  if (!doc.ok() || !doc->is_object()) return InvalidArgument(path + " is not a ground-truth JSON document");
  const object& o = doc->as_object();
  if (Text(o, "format") != "emporium-sim-truth/1")
    return InvalidArgument(path + ": unknown ground-truth format");
  GroundTruth t;
  t.seed_ = static_cast<uint64_t>(Number(o, "seed"));
  t.start_ms_ = static_cast<int64_t>(Number(o, "start_ms"));
  t.end_ms_ = static_cast<int64_t>(Number(o, "end_ms"));
  if (auto leaves = o.if_contains("leaves"); leaves && leaves->is_array()) {
    for (const value& l : leaves->as_array()) {
      if (!l.is_object()) continue;
      t.leaves_.push_back(Text(l.as_object(), "name"));
      std::vector<int> comp;
      for (float m : ReadFloats(l.as_object().if_contains("complements")))
        comp.push_back(static_cast<int>(m));
      t.complements_.push_back(std::move(comp));
    }
  }
  if (auto products = o.if_contains("products"); products && products->is_array()) {
    for (const value& v : products->as_array()) {
      if (!v.is_object()) continue;
      const object& p = v.as_object();
      t.products_.push_back(Product{Text(p, "id"), ReadFloats(p.if_contains("factors")),
                                    static_cast<int>(Number(p, "leaf")), static_cast<int>(Number(p, "brand")),
                                    Text(p, "colour"), Number(p, "price_z"), Number(p, "rating")});
    }
  }
  if (auto users = o.if_contains("users"); users && users->is_array()) {
    for (const value& v : users->as_array()) {
      if (!v.is_object()) continue;
      const object& u = v.as_object();
      User user{Text(u, "key"), Text(u, "user_id"), {}};
      user.taste.u0 = ReadFloats(u.if_contains("u0"));
      user.taste.u1 = ReadFloats(u.if_contains("u1"));
      user.taste.drift = static_cast<float>(Number(u, "drift"));
      user.taste.leaf_affinity = ReadFloats(u.if_contains("leaf_affinity"));
      for (float b : ReadFloats(u.if_contains("brands"))) user.taste.brands.push_back(static_cast<int>(b));
      user.taste.colour = Text(u, "colour");
      user.taste.price_pref = static_cast<float>(Number(u, "price_pref"));
      user.taste.price_weight = static_cast<float>(Number(u, "price_weight"));
      if (user.taste.u0.size() != kFactors || user.taste.u1.size() != kFactors)
        return InvalidArgument(path + ": user " + user.key + " has no taste vectors");
      t.users_.push_back(std::move(user));
    }
  }
  if (auto fraud = o.if_contains("fraud_orders"); fraud && fraud->is_object()) {
    for (const auto& [order, kind] : fraud->as_object())
      if (kind.is_string()) t.fraud_orders_[std::string(order)] = KindNamed(kind.as_string());
  }
  t.Reindex();
  return t;
}

std::optional<double> GroundTruth::Want(std::string_view user, std::string_view product_id,
                                        std::optional<int64_t> unix_ms) const {
  auto u = user_index_.find(user);
  auto p = product_index_.find(product_id);
  if (u == user_index_.end() || p == product_index_.end()) return std::nullopt;
  const Product& prod = products_[p->second];
  if (prod.factors.size() != kFactors) return std::nullopt;
  const double span = static_cast<double>(std::max<int64_t>(1, end_ms_ - start_ms_));
  const double pos = std::clamp(static_cast<double>(unix_ms.value_or(end_ms_) - start_ms_) / span, 0.0, 1.0);
  return WantOf(users_[u->second].taste, prod.factors, prod.leaf, prod.brand, prod.colour, prod.price_z,
                prod.rating, pos);
}

FraudKind GroundTruth::FraudOf(std::string_view order_id) const {
  auto it = fraud_orders_.find(std::string(order_id));
  return it == fraud_orders_.end() ? FraudKind::kNone : it->second;
}

double ExaminationProbability(size_t position) {
  return std::pow(1.0 / static_cast<double>(std::max<size_t>(position, 1)), 0.9);
}

double ClickAppeal(double want) {
  return 1.0 / (1.0 + std::exp(-1.6 * (want - 0.6)));
}

std::optional<std::string> GroundTruth::SampleWanted(std::string_view user, Rng& rng, int64_t unix_ms) const {
  auto u = user_index_.find(user);
  if (u == user_index_.end() || by_leaf_.empty()) return std::nullopt;
  const auto& affinity = users_[u->second].taste.leaf_affinity;
  std::vector<double> w(by_leaf_.size(), 0.0);
  for (size_t l = 0; l < w.size(); ++l) {
    if (by_leaf_[l].empty()) continue;
    w[l] = (l < affinity.size() ? affinity[l] : 0.0) + 0.02 / static_cast<double>(w.size());
  }
  const auto& members = by_leaf_[rng.Pick(w)];
  if (members.empty()) return std::nullopt;
  std::vector<size_t> sample;
  std::vector<double> weights;
  for (size_t i = 0; i < std::min<size_t>(40, members.size()); ++i) {
    const size_t p = members[rng.Below(members.size())];
    sample.push_back(p);
    weights.push_back(std::exp(2.0 * Want(user, products_[p].id, unix_ms).value_or(0)));
  }
  return products_[sample[rng.Pick(weights)]].id;
}

double GroundTruth::SearchGain(std::string_view user, std::string_view target, std::string_view candidate,
                               int64_t unix_ms) const {
  auto t = product_index_.find(target);
  auto c = product_index_.find(candidate);
  if (t == product_index_.end() || c == product_index_.end()) return 0;
  if (products_[t->second].leaf != products_[c->second].leaf) return 0;
  const auto want = Want(user, candidate, unix_ms);
  if (!want) return 0;
  return ClickAppeal(*want) + (t->second == c->second ? 1.0 : 0.0);
}

std::vector<std::string> GroundTruth::Users() const {
  std::vector<std::string> out;
  for (const User& u : users_) out.push_back(u.user_id);
  return out;
}

std::vector<std::string> GroundTruth::Products() const {
  std::vector<std::string> out;
  for (const Product& p : products_) out.push_back(p.id);
  return out;
}

std::optional<GroundTruth::Listing> GroundTruth::ListingOf(std::string_view product_id) const {
  auto p = product_index_.find(product_id);
  if (p == product_index_.end()) return std::nullopt;
  const Product& product = products_[p->second];
  const size_t leaf = static_cast<size_t>(product.leaf);
  return Listing{leaf < leaves_.size() ? leaves_[leaf] : "", "brand-" + std::to_string(product.brand),
                 product.price_z};
}

std::vector<std::string> GroundTruth::Complements(std::string_view product_id) const {
  std::vector<std::string> out;
  auto p = product_index_.find(product_id);
  if (p == product_index_.end()) return out;
  const size_t leaf = static_cast<size_t>(products_[p->second].leaf);
  if (leaf >= complements_.size()) return out;
  for (int m : complements_[leaf])
    for (const Product& q : products_)
      if (q.leaf == m) out.push_back(q.id);
  return out;
}

}  // namespace emporium::sim
