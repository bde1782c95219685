#include "services/recommend/recommender.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "platform/core/clock.h"

namespace emporium::recommend {
namespace {

constexpr double kFusionOffset = 60;  // reciprocal rank fusion's k
constexpr size_t kPerGenerator = 100;

// The models' generators that the ranker's features are over, in its order; false when the
// models lack one (LoadModels refuses such an artifact, so only a hand-built Models can).
bool RankerInputs(const Models& m, std::vector<const Generator*>* out) {
  for (const std::string& name : m.ranker->generators()) {
    const Generator* g = name == "popularity" ? m.popularity.get()
                         : name == "cooccur"  ? m.cooccur.get()
                         : name == "als"      ? m.als.get()
                                              : nullptr;
    if (!g) return false;
    out->push_back(g);
  }
  return true;
}

void BestFirst(std::vector<Proposal>& v) {
  std::sort(v.begin(), v.end(), [](const Proposal& a, const Proposal& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
}

// The personal generators' lists by reciprocal rank; an item's source is the first to propose it.
std::vector<Proposal> Fused(const Models& m, const History& seed, std::span<const int32_t> exclude) {
  std::vector<Proposal> out;
  if (seed.items.empty()) return out;
  std::unordered_map<int32_t, size_t> at;
  for (const Generator* g : {m.cooccur.get(), m.als.get()}) {
    if (!g) continue;
    const std::vector<Scored> list = g->Recommend(seed, kPerGenerator, exclude);
    for (size_t r = 0; r < list.size(); ++r) {
      auto [it, added] = at.emplace(list[r].item, out.size());
      if (added) out.push_back(Proposal{list[r].item, 0, g});
      out[it->second].score += static_cast<float>(1.0 / (kFusionOffset + static_cast<double>(r + 1)));
    }
  }
  BestFirst(out);
  return out;
}

// The trees' order of the generators' union. The scores go through the logistic function: rank:ndcg
// margins may be negative, and the popular items that fill a list are scored below its last
// candidate as a fraction of that score.
Result<std::vector<Proposal>> Ranked(const Models& m, std::span<const Generator* const> generators,
                                     const History& seed, std::span<const int32_t> exclude) {
  std::vector<Proposal> out;
  if (seed.items.empty()) return out;
  const CandidateRows c =
      Candidates(generators, m.ranker->popularity(), seed, m.ranker->candidates(), exclude);
  EMP_ASSIGN_OR_RETURN(std::vector<float> scores, m.ranker->Score(c));
  out.reserve(c.items.size());
  for (size_t n = 0; n < c.items.size(); ++n)
    out.push_back(Proposal{c.items[n], 1.0f / (1.0f + std::exp(-scores[n])), generators[c.best[n]]});
  BestFirst(out);
  return out;
}

std::string Title(const Graph& g, int32_t item) {
  auto f = g.Facts(item);
  return f && !f->title.empty() ? f->title : "an item";
}

// What every strategy's proposals go through: the catalog's filters and the seed's own items out,
// popular items fill a short list, the category cap (home, email), the reasons.
void Present(const Graph& graph, const RecommendRequest& request, const Models& models, const History& seed,
             std::span<const int32_t> own, std::vector<Proposal> proposals, Recommendations& out) {
  const size_t limit = std::max<size_t>(1, request.limit);
  const bool personal = request.placement == Placement::kHome || request.placement == Placement::kEmail;
  std::erase_if(proposals, [&](const Proposal& p) {
    return !graph.Showable(p.item) || std::binary_search(own.begin(), own.end(), p.item);
  });
  if (proposals.size() < limit && models.popularity) {
    // Popular items fill what the personal generators leave (all of it for a new shopper).
    std::unordered_set<int32_t> have;
    for (const Proposal& p : proposals) have.insert(p.item);
    const float below = proposals.empty() ? 1.0f : proposals.back().score;
    const std::vector<Scored> popular = models.popularity->Recommend(seed, kPerGenerator + limit, own);
    for (size_t r = 0; r < popular.size() && proposals.size() < limit * 3; ++r) {
      if (!graph.Showable(popular[r].item) || !have.insert(popular[r].item).second) continue;
      proposals.push_back(
          Proposal{popular[r].item, below * 0.5f / static_cast<float>(r + 2), models.popularity.get()});
    }
  }

  // Home and email: at most a third of the list (at least 2) from one category while others are
  // left. Product and cart lists stay on what goes with their products.
  const size_t per_category = personal ? std::max<size_t>(2, limit / 3) : limit;
  std::map<std::string, size_t> taken;
  std::vector<const Proposal*> chosen, held_back;
  for (const Proposal& c : proposals) {
    if (chosen.size() >= limit) break;
    auto f = graph.Facts(c.item);
    const std::string category = f ? f->category : "";
    if (!category.empty() && taken[category] >= per_category) {
      held_back.push_back(&c);
      continue;
    }
    ++taken[category];
    chosen.push_back(&c);
  }
  for (const Proposal* c : held_back) {
    if (chosen.size() >= limit) break;
    chosen.push_back(c);
  }

  for (const Proposal* c : chosen) {
    auto f = graph.Facts(c->item);
    const std::string_view source = c->source->name();
    RecommendedItem item{f->id, f->title, c->score, "", std::string(source)};
    if (c->source == models.popularity.get()) {
      item.reason = f->category.empty() ? "Popular right now" : "Popular in " + f->category;
    } else if (request.placement == Placement::kProduct) {
      item.reason =
          (source == "cooccur" ? "Often viewed with " : "Similar to ") + Title(graph, seed.items.front());
    } else if (request.placement == Placement::kCart) {
      item.reason =
          "Goes with " + Title(graph, c->source->Because(seed, c->item).value_or(seed.items.front()));
    } else if (auto because = c->source->Because(seed, c->item)) {
      item.reason = "Because you viewed " + Title(graph, *because);
    } else {
      item.reason = "Picked for you";
    }
    out.items.push_back(std::move(item));
  }
}

}  // namespace

std::vector<Proposal> Propose(const Models& models, Strategy strategy, const History& seed,
                              std::span<const int32_t> exclude, Strategy* served) {
  if (strategy == Strategy::kPopularity) {
    if (served) *served = Strategy::kPopularity;
    return {};
  }
  if (strategy == Strategy::kRanked && models.ranker) {
    std::vector<const Generator*> generators;
    if (RankerInputs(models, &generators)) {
      if (auto ranked = Ranked(models, generators, seed, exclude); ranked.ok()) {
        if (served) *served = Strategy::kRanked;
        return std::move(ranked).value();
      }
    }
  }
  if (served) *served = Strategy::kFused;
  return Fused(models, seed, exclude);
}

std::optional<Placement> PlacementOf(std::string_view name) {
  for (Placement p : {Placement::kHome, Placement::kProduct, Placement::kCart, Placement::kEmail})
    if (PlacementName(p) == name) return p;
  return std::nullopt;
}

std::string_view PlacementName(Placement p) {
  switch (p) {
    case Placement::kHome: return "home";
    case Placement::kProduct: return "product";
    case Placement::kCart: return "cart";
    case Placement::kEmail: return "email";
  }
  return "home";
}

std::optional<Strategy> StrategyOf(std::string_view name) {
  for (Strategy s : {Strategy::kFused, Strategy::kRanked, Strategy::kPopularity})
    if (StrategyName(s) == name) return s;
  return std::nullopt;
}

std::string_view StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kFused: return "fused";
    case Strategy::kRanked: return "ranked";
    case Strategy::kPopularity: return "popularity";
  }
  return "fused";
}

ModelOptions DefaultModelOptions() {
  ModelOptions o;
  o.als.factors = 64;
  o.als.regularization = 30;
  o.als.alpha = 3;
  o.als.iterations = 15;
  o.als.threads = static_cast<int>(std::max(1u, std::min(std::thread::hardware_concurrency(), 4u)));
  o.cooccur.neighbours = 30;
  o.ranker = DefaultHybridOptions();
  // The trees' fit grows with the groups (~105 candidates each; 2,000 groups, 2.5-3 s on one
  // thread); MovieLens' 579 groups already learnt what the generators' ranks say.
  o.ranker.max_training_users = 2000;
  return o;
}

Result<std::shared_ptr<Models>> TrainModels(const GraphSnapshot& snapshot, const ModelOptions& options,
                                            std::stop_token stop) {
  const auto start = std::chrono::steady_clock::now();
  EMP_ASSIGN_OR_RETURN(
      TrainingSet t, MakeTrainingSet(snapshot.rows, snapshot.users, snapshot.items, options.half_life_days));
  auto m = std::make_shared<Models>();
  m->items = snapshot.items;
  m->item_ids = snapshot.item_ids;
  m->interactions = snapshot.interactions;
  m->popularity = MakePopularity();
  EMP_RETURN_IF_ERROR(m->popularity->Fit(t));
  m->no_ranker = "too little data for the ranker";
  if (snapshot.interactions >= options.min_interactions && snapshot.users > 1) {
    if (stop.stop_requested()) return Cancelled("training stopped");
    m->cooccur = MakeCooccur(options.cooccur);
    EMP_RETURN_IF_ERROR(m->cooccur->Fit(t));
    ml::AlsOptions als = options.als;
    als.stop = stop;
    m->als = MakeAls(als);
    EMP_RETURN_IF_ERROR(m->als->Fit(t));
    if (static_cast<size_t>(snapshot.users) >= options.ranker_min_users &&
        snapshot.interactions >= options.ranker_min_interactions) {
      // The generators above are the serving ones; the ranker fits its own on the inner split only.
      const auto ranker_start = std::chrono::steady_clock::now();
      HybridOptions ranker = options.ranker;
      ranker.threads = std::max(1, options.als.threads);
      // One boosting thread: XGBoost's OpenMP threads spin while they wait, so on 2 busy cores
      // (request threads, other processes) two of them took 4.5-8 s where one takes 3 s, and
      // they would take the request threads' cores meanwhile. Idle, two took 1.2 s.
      ranker.trees.threads = 1;
      ranker.trees.stop = stop;
      const GeneratorFactory make = [&](const std::string& name) -> std::unique_ptr<Generator> {
        if (name == "popularity") return MakePopularity();
        if (name == "cooccur") return MakeCooccur(options.cooccur);
        if (name == "als") return MakeAls(als);
        return nullptr;
      };
      auto fitted = Ranker::Fit(snapshot.rows, t, options.half_life_days, {"cooccur", "als", "popularity"},
                                make, ranker);
      if (fitted.ok()) {
        m->ranker = std::move(fitted).value();
        m->no_ranker.clear();
      } else if (fitted.status().code() == Code::kCancelled || stop.stop_requested()) {
        return Cancelled("training stopped");
      } else {
        // Serving has fused lists without it; the reason goes into the artifact's metrics.
        m->no_ranker = fitted.status().ToString();
      }
      m->ranker_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - ranker_start).count();
    }
  }
  m->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m->version = "recommend-" + std::to_string(UnixMillis(SystemClock::Get().WallNow())) + "-" +
               std::to_string(snapshot.interactions);
  return m;
}

Recommendations Recommender::Recommend(const RecommendRequest& request) const {
  Recommendations out;
  const std::shared_ptr<const Models> models = models_.load();

  // The seed of the list: the shopper's history, or the given products.
  History seed;
  std::vector<int32_t> own;  // never shown
  const bool personal = request.placement == Placement::kHome || request.placement == Placement::kEmail;
  if (personal) {
    if (!request.subject.empty()) seed = graph_.HistoryOf(request.subject, half_life_days_);
    own = seed.items;
  } else {
    std::vector<std::string> ids = request.product_ids;
    if (ids.empty() && request.placement == Placement::kCart && !request.subject.empty()) {
      std::vector<int32_t> cart = graph_.CartOf(request.subject);
      if (cart.empty()) cart = graph_.RecentItems(request.subject, 5);  // no cart events for them yet
      own = std::move(cart);
    }
    for (const std::string& id : ids)
      if (auto i = graph_.ItemIndex(id)) own.push_back(*i);
    std::sort(own.begin(), own.end());
    own.erase(std::unique(own.begin(), own.end()), own.end());
    seed.items = own;
    seed.weights.assign(own.size(), 1);
    seed.affinity.assign(own.size(), 1);
  }

  out.strategy = request.strategy == Strategy::kPopularity ? Strategy::kPopularity : Strategy::kFused;
  if (!models) {
    out.model = "none";
    out.degraded = true;
    out.degraded_reason = "no model trained yet";
    return out;
  }
  out.model = models->version;
  std::vector<Proposal> proposals = Propose(*models, request.strategy, seed, own, &out.strategy);
  Present(graph_, request, *models, seed, own, std::move(proposals), out);
  return out;
}

}  // namespace emporium::recommend
