#include "sim/population.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace emporium::sim {
namespace {

struct Country {
  std::string_view code;
  double weight;  // share of the shop's shoppers
  std::string_view city;
};

constexpr Country kHomeCountries[] = {
    {"US", 0.55, "Springfield"}, {"CA", 0.08, "Toronto"}, {"GB", 0.10, "Leeds"},
    {"DE", 0.08, "Cologne"},     {"FR", 0.06, "Lyon"},    {"NL", 0.03, "Utrecht"},
    {"ES", 0.04, "Valencia"},    {"AU", 0.03, "Perth"},   {"IT", 0.03, "Turin"}};
// Where stolen cards and takeovers are run from (a mismatch with the card's country).
constexpr std::string_view kFraudCountries[] = {"NG", "RU", "BR", "VN", "ID", "RO", "UA", "PK"};
constexpr std::string_view kFirstNames[] = {"Ada",   "Ben",  "Chloe", "Dev",  "Eva", "Femi", "Gus",  "Hana",
                                            "Ivan",  "Jo",   "Kai",   "Lena", "Mo",  "Nia",  "Omar", "Pia",
                                            "Quinn", "Rosa", "Sam",   "Tara", "Uma", "Vic",  "Wen",  "Yara"};
constexpr std::string_view kLastNames[] = {"Smith", "Garcia", "Muller",  "Martin", "Rossi", "Jansen",
                                           "Brown", "Lopez",  "Schmidt", "Dubois", "Khan",  "Novak"};
constexpr std::string_view kStreets[] = {"Main St",   "Oak Ave",   "Station Rd", "High St",
                                         "Park Lane", "Mill Road", "Church St",  "Elm Way"};
constexpr std::string_view kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) Chrome/131.0 Mobile Safari/537.36",
    "EmporiumShop/3.2 (iOS 18.1)",
    "EmporiumShop/3.2 (Android 15)"};

template <typename T, size_t N>
std::string Pick(const T (&list)[N], Rng& rng) {
  return std::string(list[rng.Below(N)]);
}

std::string Hex(Rng& rng, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out.push_back(kHex[rng.Below(16)]);
  return out;
}

// Synthetic addresses: a /16 per country (their country travels in X-Client-Country, as a CDN
// sets it, so no geo-IP table is needed); the first octet avoids private and reserved ranges.
std::string IpIn(std::string_view country, Rng& rng) {
  uint64_t h = Hash(0x1b, country);
  int a = 11 + static_cast<int>(h % 150);
  if (a == 127 || a == 100) a += 3;
  int b = static_cast<int>((h >> 8) % 256);
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(rng.Below(256)) + "." +
         std::to_string(1 + rng.Below(254));
}

// Issuing banks per country: BINs 45xxxx-49xxxx (clear of the 4000… and 4242… test cards).
std::string BinFor(std::string_view country, int bank) {
  uint64_t h = Hash(0xb1, std::string(country) + ":" + std::to_string(bank));
  char bin[8];
  std::snprintf(bin, sizeof bin, "4%d%04d", 5 + static_cast<int>(h % 5), static_cast<int>((h >> 8) % 10000));
  return bin;
}

Device NewDevice(std::string_view country, Rng& rng) {
  return Device{"dev-" + Hex(rng, 12), IpIn(country, rng), std::string(country), Pick(kAgents, rng)};
}

Address NewAddress(const std::string& name, std::string_view country, std::string_view city, Rng& rng) {
  // One shopper in 20 lives in a remote area (postal codes 99…): the carriers take hours there.
  std::string postal = rng.Chance(0.05) ? "99" + std::to_string(500 + rng.Below(499))
                                        : std::to_string(10000 + rng.Below(89000));
  return Address{name, std::to_string(1 + rng.Below(400)) + " " + Pick(kStreets, rng), std::string(city),
                 postal, std::string(country)};
}

std::vector<float> UnitVector(Rng& rng) {
  std::vector<float> v(kFactors);
  double norm = 0;
  for (float& x : v) {
    x = static_cast<float>(rng.Normal());
    norm += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

Taste NewTaste(const World& world, Rng& rng) {
  const SimCatalog& c = world.catalog();
  Taste t;
  // A taste leans toward the categories it likes: u0 mixes the vectors of 1-3 liked categories
  // with a personal direction, so cosine and category affinity agree without being the same.
  const size_t leaves = c.leaves.size();
  std::vector<double> top_pref(c.tops.size());
  for (double& p : top_pref) p = rng.Gamma(0.35);
  t.leaf_affinity.assign(leaves, 0.0f);
  double total = 0;
  for (size_t l = 0; l < leaves; ++l) {
    double a = (top_pref[static_cast<size_t>(c.top_of_leaf[l])] + 1e-3) * rng.Gamma(0.7);
    t.leaf_affinity[l] = static_cast<float>(a);
    total += a;
  }
  for (float& a : t.leaf_affinity) a = static_cast<float>(a / total);
  std::vector<double> w(t.leaf_affinity.begin(), t.leaf_affinity.end());
  std::vector<float> mix = UnitVector(rng);
  for (float& x : mix) x *= 0.6f;
  for (int k = 0; k < 2; ++k) {
    size_t l = rng.Pick(w);
    std::vector<float> f = World::FeatureVector(world.seed(), "leaf:" + c.leaves[l]);
    for (int d = 0; d < kFactors; ++d) mix[d] += f[d];
  }
  double norm = 0;
  for (float x : mix) norm += static_cast<double>(x) * x;
  for (float& x : mix) x = static_cast<float>(x / std::sqrt(norm));
  t.u0 = mix;
  t.u1 = UnitVector(rng);
  t.drift = static_cast<float>(rng.Chance(0.3) ? rng.Uniform(0.1, 0.6) : 0.0);
  for (int b = 0; b < 2 && !c.brands.empty(); ++b)
    t.brands.push_back(static_cast<int>(rng.Below(c.brands.size())));
  static constexpr std::string_view kColours[] = {"Black", "White", "Navy", "Red",
                                                  "Green", "Grey",  "Blue", "Beige"};
  if (rng.Chance(0.6)) t.colour = Pick(kColours, rng);
  t.price_pref = static_cast<float>(std::clamp(rng.Normal() * 0.8, -1.5, 1.5));
  t.price_weight = static_cast<float>(rng.Uniform(0.2, 0.9));
  return t;
}

SimUser NewShopper(const World& world, int index, uint64_t seed) {
  Rng rng(Hash(seed, "shopper:" + std::to_string(index)));
  SimUser u;
  u.index = index;
  char key[16];
  std::snprintf(key, sizeof key, "u-%06d", index);
  u.key = key;
  std::vector<double> weights;
  for (const Country& c : kHomeCountries) weights.push_back(c.weight);
  const Country& home = kHomeCountries[rng.Pick(weights)];
  u.country = std::string(home.code);
  u.name = Pick(kFirstNames, rng) + " " + Pick(kLastNames, rng);
  u.email = "shopper-" + std::to_string(seed) + "-" + std::to_string(index) + "@sim.emporium.test";
  u.password = "sim-" + Hex(rng, 16);
  u.registers = rng.Chance(0.85);
  u.address = NewAddress(u.name, home.code, home.city, rng);
  const int devices = rng.Chance(0.45) ? 1 : rng.Chance(0.7) ? 2 : 3;
  for (int d = 0; d < devices; ++d) u.devices.push_back(NewDevice(home.code, rng));
  u.cards.push_back({LuhnNumber(BinFor(home.code, rng.Int(0, 5)), rng), u.country});
  if (rng.Chance(0.25)) u.cards.push_back({LuhnNumber(BinFor(home.code, rng.Int(0, 5)), rng), u.country});
  u.sessions_per_month = std::min(40.0, rng.LogNormal(2.5, 0.8));
  u.taste = NewTaste(world, rng);
  return u;
}

FraudKind NewKind(Rng& rng) {
  const double weights[] = {0.25, 0.30, 0.15, 0.20, 0.10};
  return static_cast<FraudKind>(1 + rng.Pick(weights));
}

}  // namespace

std::string_view FraudKindName(FraudKind k) {
  switch (k) {
    case FraudKind::kNone: return "none";
    case FraudKind::kCardTesting: return "card_testing";
    case FraudKind::kStolenCard: return "stolen_card";
    case FraudKind::kAccountTakeover: return "account_takeover";
    case FraudKind::kFreshAccount: return "fresh_account";
    case FraudKind::kMultiAccountDevice: return "multi_account_device";
  }
  return "none";
}

std::string LuhnNumber(std::string_view bin, Rng& rng) {
  std::string n(bin);
  while (n.size() < 15) n.push_back(static_cast<char>('0' + rng.Below(10)));
  int sum = 0;
  for (size_t i = 0; i < n.size(); ++i) {
    int d = n[n.size() - 1 - i] - '0';
    if (i % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  n.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return n;
}

Population Population::Make(const World& world, const PopulationOptions& options) {
  Population p;
  p.shoppers_.reserve(static_cast<size_t>(options.users));
  for (int i = 0; i < options.users; ++i) p.shoppers_.push_back(NewShopper(world, i, options.seed));
  const int fraudsters = static_cast<int>(std::lround(options.users * options.fraud_rate));
  Rng rng(Hash(options.seed, "fraudsters"));
  int ring = 0;
  auto base = [&](int i) {
    SimUser f = NewShopper(world, options.users + i, options.seed);
    char key[16];
    std::snprintf(key, sizeof key, "f-%06d", i);
    f.key = key;
    f.email = "fraud-" + std::to_string(options.seed) + "-" + std::to_string(i) + "@sim.emporium.test";
    f.registers = true;
    return f;
  };
  auto stolen_cards = [&](SimUser& f, int n) {
    f.cards.clear();
    for (int c = 0; c < n; ++c) {
      const Country& victim = kHomeCountries[rng.Below(std::size(kHomeCountries))];
      f.cards.push_back({LuhnNumber(BinFor(victim.code, rng.Int(0, 5)), rng), std::string(victim.code)});
    }
  };
  for (int i = 0; i < fraudsters;) {
    SimUser f = base(i);
    f.fraud = NewKind(rng);
    const std::string where = Pick(kFraudCountries, rng);
    f.devices = {NewDevice(where, rng)};
    switch (f.fraud) {
      case FraudKind::kStolenCard:
        // Cards bought on a forum: issued where the victims live, used from elsewhere, shipped to
        // a drop address.
        stolen_cards(f, 3);
        f.address = NewAddress(f.name, where, "Drop City", rng);
        break;
      case FraudKind::kFreshAccount: {
        // Looks local: only the new account, the fast expensive order and the card give it away.
        const Country& local = kHomeCountries[rng.Below(std::size(kHomeCountries))];
        f.devices = {NewDevice(local.code, rng)};
        f.country = std::string(local.code);
        f.address = NewAddress(f.name, local.code, local.city, rng);
        stolen_cards(f, 1);
        f.cards.front().country = f.country;
        break;
      }
      case FraudKind::kCardTesting: stolen_cards(f, 40); break;
      case FraudKind::kAccountTakeover:
        f.victim = options.users > 0 ? static_cast<int>(rng.Below(static_cast<uint64_t>(options.users))) : -1;
        f.address = NewAddress(f.name, where, "Drop City", rng);
        break;
      case FraudKind::kMultiAccountDevice: {
        // A ring: several fresh accounts on one device, each with its own card.
        const int members = rng.Int(3, 6);
        const Device shared = f.devices.front();
        for (int m = 0; m < members && i < fraudsters; ++m, ++i) {
          SimUser member = m == 0 ? f : base(i);
          member.fraud = FraudKind::kMultiAccountDevice;
          member.ring = ring;
          member.devices = {shared};
          stolen_cards(member, 1);
          p.fraudsters_.push_back(std::move(member));
        }
        ++ring;
        continue;
      }
      case FraudKind::kNone: break;
    }
    p.fraudsters_.push_back(std::move(f));
    ++i;
  }
  return p;
}

double WantOf(const Taste& t, std::span<const float> factors, int leaf, int brand, std::string_view colour,
              double price_z, double rating, double period_pos) {
  const double lambda = std::clamp(static_cast<double>(t.drift) * period_pos, 0.0, 1.0);
  double dot = 0, norm = 0;
  for (int k = 0; k < kFactors; ++k) {
    const double u = (1 - lambda) * t.u0[static_cast<size_t>(k)] + lambda * t.u1[static_cast<size_t>(k)];
    dot += u * factors[static_cast<size_t>(k)];
    norm += u * u;
  }
  const double cosine = dot / std::sqrt(std::max(norm, 1e-12));
  const double uniform = t.leaf_affinity.empty() ? 1.0 : 1.0 / static_cast<double>(t.leaf_affinity.size());
  const double affinity = leaf >= 0 && static_cast<size_t>(leaf) < t.leaf_affinity.size()
                              ? t.leaf_affinity[static_cast<size_t>(leaf)]
                              : uniform;
  double w = 1.5 * cosine + 0.6 * std::clamp(std::log(affinity / uniform + 1e-3), -4.0, 2.5);
  if (std::find(t.brands.begin(), t.brands.end(), brand) != t.brands.end()) w += 0.8;
  if (!t.colour.empty() && t.colour == colour) w += 0.4;
  w -= t.price_weight * std::fabs(price_z - t.price_pref);
  if (rating > 0) w += 0.3 * (rating - 4.0);
  return w;
}

double Population::Want(const World& world, const SimUser& u, size_t product, double period_pos) const {
  const SimCatalog& c = world.catalog();
  const SimProduct& p = c.products[product];
  return WantOf(u.taste, world.Factors(product), c.leaf_of[product], c.brand_of[product], p.colour,
                world.PriceZ(product), p.rating, period_pos);
}

}  // namespace emporium::sim
