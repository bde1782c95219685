#include "sim/world.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <unordered_set>

namespace emporium::sim {
namespace {

// What shoppers call things that titles call otherwise. The shop's own synonym list knows some
// of these and not others, as in life.
const std::map<std::string_view, std::vector<std::string_view>>& Synonyms() {
  static const std::map<std::string_view, std::vector<std::string_view>> kSynonyms = {
      {"shoe", {"sneaker", "trainer"}},
      {"runner", {"running sneaker"}},
      {"boot", {"bootie"}},
      {"laptop", {"notebook", "notebook computer"}},
      {"ultrabook", {"thin notebook"}},
      {"headphones", {"headset", "cans"}},
      {"earbuds", {"earphones", "in-ear headphones"}},
      {"speaker", {"loudspeaker"}},
      {"soundbar", {"tv speaker"}},
      {"monitor", {"display", "screen"}},
      {"smartphone", {"cell phone", "mobile"}},
      {"phone", {"mobile", "cellphone"}},
      {"blender", {"smoothie maker", "mixer"}},
      {"vacuum", {"hoover"}},
      {"pan", {"skillet"}},
      {"chair", {"seat"}},
      {"desk", {"workstation", "table"}},
      {"coffee", {"espresso"}},
      {"spaghetti", {"noodles"}},
      {"juice", {"nectar"}},
      {"moisturizer", {"face cream", "lotion"}},
      {"sunscreen", {"sunblock", "spf"}},
      {"shampoo", {"hair wash"}},
      {"mat", {"pad"}},
      {"dumbbell", {"weights", "hand weight"}},
      {"tent", {"shelter"}},
      {"novel", {"fiction book"}},
      {"cookbook", {"recipe book"}},
      {"dress", {"gown", "frock"}},
      {"blouse", {"top"}},
      {"sweater", {"jumper", "pullover"}},
      {"cardigan", {"jumper"}},
      {"jacket", {"coat"}},
      {"shirt", {"tee"}},
  };
  return kSynonyms;
}

constexpr std::string_view kVagueTemplates[] = {"something for {top}", "gift idea {leaf}",
                                                "cheap {leaf}",        "best {leaf}",
                                                "{colour} {leaf}",     "good {leaf} for home"};
constexpr std::string_view kKeyboard = "qwertyuiopasdfghjklzxcvbnm";

bool IsConsumableTop(std::string_view top) {
  std::string t;
  for (char c : top) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (std::string_view w :
       {"grocery", "food", "beverage", "drink", "beauty", "health", "household", "pet", "baby", "personal"})
    if (t.find(w) != std::string::npos) return true;
  return false;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string LastSegment(std::string_view leaf) {
  size_t p = leaf.rfind(" > ");
  return Lower(p == std::string_view::npos ? leaf : leaf.substr(p + 3));
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (w.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::string Typo(std::string word, Rng& rng) {
  if (word.size() < 4) return word;
  size_t i = 1 + rng.Below(word.size() - 2);
  switch (rng.Below(4)) {
    case 0: std::swap(word[i], word[i + 1]); break;
    case 1: word.erase(i, 1); break;
    case 2: word.insert(i, 1, word[i]); break;
    default: word[i] = kKeyboard[rng.Below(kKeyboard.size())]; break;
  }
  return word;
}

}  // namespace

std::string_view QueryKindName(QueryKind k) {
  switch (k) {
    case QueryKind::kExact: return "exact";
    case QueryKind::kPartial: return "partial";
    case QueryKind::kTypo: return "typo";
    case QueryKind::kSynonym: return "synonym";
    case QueryKind::kVague: return "vague";
  }
  return "exact";
}

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

std::vector<float> World::FeatureVector(uint64_t seed, std::string_view feature) {
  Rng rng(Hash(seed, feature));
  std::vector<float> v(kFactors);
  double norm = 0;
  for (float& x : v) {
    x = static_cast<float>(rng.Normal());
    norm += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

std::vector<float> World::FactorsOf(const SimProduct& p, uint64_t seed) {
  std::vector<float> out(kFactors, 0.0f);
  auto add = [&](std::string_view kind, std::string_view value, float weight) {
    if (value.empty()) return;
    std::vector<float> f = FeatureVector(seed, std::string(kind) + ":" + std::string(value));
    for (int k = 0; k < kFactors; ++k) out[k] += weight * f[k];
  };
  add("leaf", p.leaf, 1.0f);
  add("top", p.top, 0.6f);
  add("brand", p.brand, 0.5f);
  add("colour", p.colour, 0.35f);
  add("material", p.material, 0.25f);
  add("product", p.id, 0.3f);
  double norm = 0;
  for (float x : out) norm += static_cast<double>(x) * x;
  for (float& x : out) x = static_cast<float>(x / std::sqrt(std::max(norm, 1e-12)));
  return out;
}

World::World(SimCatalog catalog, uint64_t seed) : catalog_(std::move(catalog)), seed_(seed) {
  const size_t n = catalog_.products.size();
  factors_.resize(n * kFactors);
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> f = FactorsOf(catalog_.products[i], seed_);
    std::copy(f.begin(), f.end(), factors_.begin() + static_cast<std::ptrdiff_t>(i * kFactors));
  }
  price_z_.assign(n, 0.0);
  for (const std::vector<int>& members : catalog_.by_leaf) {
    double sum = 0, sq = 0;
    for (int i : members) {
      double lp = std::log(std::max<int64_t>(catalog_.products[static_cast<size_t>(i)].price, 1));
      sum += lp;
      sq += lp * lp;
    }
    const double m = members.empty() ? 0 : sum / static_cast<double>(members.size());
    const double var = members.empty() ? 0 : sq / static_cast<double>(members.size()) - m * m;
    const double sd = std::sqrt(std::max(var, 1e-9));
    for (int i : members) {
      double lp = std::log(std::max<int64_t>(catalog_.products[static_cast<size_t>(i)].price, 1));
      price_z_[static_cast<size_t>(i)] = members.size() > 1 ? (lp - m) / sd : 0.0;
    }
  }
  const size_t leaves = catalog_.leaves.size();
  consumable_.resize(leaves);
  complements_.resize(leaves);
  for (size_t l = 0; l < leaves; ++l) {
    consumable_[l] = IsConsumableTop(catalog_.tops[static_cast<size_t>(catalog_.top_of_leaf[l])]);
    Rng rng(Hash(seed_, "complements:" + catalog_.leaves[l]));
    std::vector<int> same, other;
    for (size_t m = 0; m < leaves; ++m) {
      if (m == l) continue;
      (catalog_.top_of_leaf[m] == catalog_.top_of_leaf[l] ? same : other).push_back(static_cast<int>(m));
    }
    for (int pick = 0; pick < 2 && !same.empty(); ++pick) {
      size_t j = rng.Below(same.size());
      complements_[l].push_back(same[j]);
      same.erase(same.begin() + static_cast<std::ptrdiff_t>(j));
    }
    if (!other.empty()) complements_[l].push_back(other[rng.Below(other.size())]);
  }
  for (size_t i = 0; i < n; ++i) {
    std::unordered_set<std::string> words;
    for (const std::string& w : catalog_.products[i].words) words.insert(w);
    for (const std::string& w : Tokenize(catalog_.products[i].leaf)) words.insert(w);
    for (const std::string& w : words) postings_[w].push_back(static_cast<int>(i));
  }
}

std::string World::Query(size_t i, Rng& rng, QueryKind* kind) const {
  const SimProduct& p = catalog_.products[i];
  std::string core_title = p.title.substr(0, p.title.find(','));
  std::vector<std::string> core = Tokenize(core_title);
  const std::vector<std::string> brand = Tokenize(p.brand);
  if (core.size() > brand.size() && std::equal(brand.begin(), brand.end(), core.begin()))
    core.erase(core.begin(), core.begin() + static_cast<std::ptrdiff_t>(brand.size()));
  if (core.empty()) core = p.words;
  std::vector<std::string> noun{core.back()};
  if (core.size() >= 3 && rng.Chance(0.5)) noun.insert(noun.begin(), core[core.size() - 2]);
  const std::string leaf = LastSegment(p.leaf);

  const double r = rng.Uniform();
  QueryKind k = r < 0.30   ? QueryKind::kExact
                : r < 0.58 ? QueryKind::kPartial
                : r < 0.72 ? QueryKind::kTypo
                : r < 0.87 ? QueryKind::kSynonym
                           : QueryKind::kVague;
  std::vector<std::string> words;
  if (k == QueryKind::kSynonym) {
    bool replaced = false;
    for (std::string& w : noun) {
      auto it = Synonyms().find(w);
      if (it == Synonyms().end()) continue;
      w = std::string(it->second[rng.Below(it->second.size())]);
      replaced = true;
    }
    if (!replaced) k = QueryKind::kPartial;
    words = noun;
    if (replaced && !p.colour.empty() && rng.Chance(0.3)) words.insert(words.begin(), Lower(p.colour));
  }
  if (k == QueryKind::kVague) {
    std::string t(kVagueTemplates[rng.Below(std::size(kVagueTemplates))]);
    auto put = [&t](std::string_view key, const std::string& value) {
      if (size_t at = t.find(key); at != std::string::npos) t.replace(at, key.size(), value);
    };
    put("{top}", Lower(p.top));
    put("{leaf}", leaf);
    put("{colour}", p.colour.empty() ? "nice" : Lower(p.colour));
    if (kind) *kind = k;
    return t;
  }
  if (k == QueryKind::kPartial) words = rng.Chance(0.5) ? noun : Tokenize(leaf);
  if (k == QueryKind::kExact || k == QueryKind::kTypo) {
    words = noun;
    if (core.size() > noun.size() && rng.Chance(0.4)) words.insert(words.begin(), core.front());
    if (!p.colour.empty() && rng.Chance(0.25)) words.insert(words.begin(), Lower(p.colour));
    if (rng.Chance(0.35)) {
      std::vector<std::string> b = brand;
      words.insert(words.begin(), b.begin(), b.end());
    }
  }
  if (k == QueryKind::kTypo) {
    size_t longest = 0;
    for (size_t w = 1; w < words.size(); ++w)
      if (words[w].size() > words[longest].size()) longest = w;
    std::string typo = Typo(words[longest], rng);
    if (typo == words[longest]) k = QueryKind::kExact;
    words[longest] = typo;
  }
  if (kind) *kind = k;
  return Join(words);
}

std::vector<int> World::Search(std::string_view query, size_t n) const {
  std::unordered_map<int, double> score;
  const double total = static_cast<double>(std::max<size_t>(1, catalog_.products.size()));
  for (const std::string& w : Tokenize(query)) {
    auto it = postings_.find(w);
    if (it == postings_.end()) continue;
    const double idf = std::log(total / static_cast<double>(it->second.size()));
    for (int i : it->second) score[i] += idf;
  }
  std::vector<std::pair<double, int>> ranked;
  ranked.reserve(score.size());
  for (const auto& [i, s] : score) {
    const double prior =
        std::log1p(static_cast<double>(catalog_.products[static_cast<size_t>(i)].rating_count)) * 1e-3;
    ranked.emplace_back(s + prior, i);
  }
  const size_t take = std::min(n, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(take), ranked.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  std::vector<int> out;
  for (size_t i = 0; i < take; ++i) out.push_back(ranked[i].second);
  return out;
}

}  // namespace emporium::sim
