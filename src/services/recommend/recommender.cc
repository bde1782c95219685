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

// Adds a list by reciprocal rank; an item keeps the source and via of the first list to propose it.
void Fuse(std::vector<Proposal>& out, std::unordered_map<int32_t, size_t>& at, std::span<const Scored> list,
          const Generator* source, Via via) {
  for (size_t r = 0; r < list.size(); ++r) {
    auto [it, added] = at.emplace(list[r].item, out.size());
    if (added) out.push_back(Proposal{list[r].item, 0, source, via});
    out[it->second].score += static_cast<float>(1.0 / (kFusionOffset + static_cast<double>(r + 1)));
  }
}

std::vector<Scored> ContentList(const Context& context, std::span<const int32_t> exclude) {
  std::vector<Scored> out;
  for (int32_t item : context.content)
    if (!std::binary_search(exclude.begin(), exclude.end(), item)) out.push_back({item, 0});
  return out;
}

// The personal generators' lists over the session and the history, the content list and the
// segments' list, by reciprocal rank (an item's reason is the first list's to propose it).
std::vector<Proposal> Fused(const Models& m, const History& seed, std::span<const int32_t> exclude,
                            const Context& context) {
  std::vector<Proposal> out;
  std::unordered_map<int32_t, size_t> at;
  if (!seed.items.empty()) {
    // The session's list first: what it proposes says "because you're looking at".
    if (context.session && !context.session->items.empty() && m.cooccur)
      Fuse(out, at, m.cooccur->Recommend(*context.session, kPerGenerator, exclude), m.cooccur.get(),
           Via::kSession);
    for (const Generator* g : {m.cooccur.get(), m.als.get()})
      if (g) Fuse(out, at, g->Recommend(seed, kPerGenerator, exclude), g, Via::kHistory);
  }
  Fuse(out, at, ContentList(context, exclude), nullptr, Via::kContent);
  if (context.segments && !seed.items.empty())
    Fuse(out, at, context.segments->Popular(seed, context.categories, kPerGenerator, exclude),
         m.popularity.get(), Via::kSegment);
  BestFirst(out);
  return out;
}

// The trees' order of the generators' union. The scores go through the logistic function: rank:ndcg
// margins may be negative, and the popular items that fill a list are scored below its last
// candidate as a fraction of that score.
// The trees know neither the session nor the content, so the lists over those follow the trees'
// candidates (fused among themselves).
Result<std::vector<Proposal>> Ranked(const Models& m, std::span<const Generator* const> generators,
                                     const History& seed, std::span<const int32_t> exclude,
                                     const Context& context) {
  std::vector<Proposal> out;
  if (!seed.items.empty()) {
    const CandidateRows c = Candidates(generators, m.ranker->side(), seed, context.session_items,
                                       m.ranker->candidates(), exclude);
    EMP_ASSIGN_OR_RETURN(std::vector<float> scores, m.ranker->Score(c));
    out.reserve(c.items.size());
    for (size_t n = 0; n < c.items.size(); ++n)
      out.push_back(Proposal{c.items[n], 1.0f / (1.0f + std::exp(-scores[n])), generators[c.best[n]]});
    BestFirst(out);
  }
  std::vector<int32_t> taken(exclude.begin(), exclude.end());
  for (const Proposal& p : out) taken.push_back(p.item);
  std::sort(taken.begin(), taken.end());
  std::vector<Proposal> more;
  std::unordered_map<int32_t, size_t> at;
  if (context.session && !context.session->items.empty() && m.cooccur)
    Fuse(more, at, m.cooccur->Recommend(*context.session, kPerGenerator, taken), m.cooccur.get(),
         Via::kSession);
  Fuse(more, at, ContentList(context, taken), nullptr, Via::kContent);
  if (context.segments && !seed.items.empty())
    Fuse(more, at, context.segments->Popular(seed, context.categories, kPerGenerator, taken),
         m.popularity.get(), Via::kSegment);
  BestFirst(more);
  const float below = out.empty() ? 1.0f : out.back().score;
  for (size_t r = 0; r < more.size(); ++r) {
    more[r].score = below * 0.5f / static_cast<float>(r + 2);
    out.push_back(more[r]);
  }
  return out;
}

std::string Title(const Graph& g, int32_t item) {
  auto f = g.Facts(item);
  return f && !f->title.empty() ? f->title : "an item";
}

// What a request's list is made for, beyond the proposals.
struct Seeds {
  const History& seed;
  const History* session = nullptr;
  std::span<const int32_t> own;             // never shown
  std::span<const int32_t> bought;          // the shopper's purchases, ascending
  int32_t anchor = -1;                      // what the content list is like: the product, the latest item
  std::span<const std::string> categories;  // of seed.items, parallel to them
};

std::string_view SourceName(const Proposal& p) {
  switch (p.via) {
    case Via::kSession: return "session";
    case Via::kContent: return "content";
    case Via::kSegment: return "segment";
    case Via::kHistory: break;
  }
  return p.source ? p.source->name() : "content";
}

std::string Reason(const Graph& graph, const RecommendRequest& request, const Models& models, const Seeds& s,
                   const Proposal& c, const ItemFacts& f) {
  if (c.via == Via::kSegment || c.source == models.popularity.get())
    return f.category.empty() ? "Popular right now" : "Popular in " + f.category;
  if (c.via == Via::kContent)
    return "Similar to " + Title(graph, s.anchor >= 0 ? s.anchor : s.seed.items.front());
  if (c.via == Via::kSession) {
    const std::optional<int32_t> because = s.session ? c.source->Because(*s.session, c.item) : std::nullopt;
    return "Because you're looking at " + Title(graph, because.value_or(s.anchor));
  }
  if (request.placement == Placement::kProduct)
    return (c.source->name() == "cooccur" ? "Often viewed with " : "Similar to ") +
           Title(graph, s.seed.items.front());
  if (request.placement == Placement::kCart)
    return "Goes with " + Title(graph, c.source->Because(s.seed, c.item).value_or(s.seed.items.front()));
  if (auto because = c.source->Because(s.seed, c.item)) return "Because you viewed " + Title(graph, *because);
  return "Picked for you";
}

// What every strategy's proposals go through: the catalog's filters and the seed's own items out,
// popular items (the seed's categories', then the shop's) fill a short list, bought durables last
// (product, cart), the category cap (home, email), the reasons.
void Present(const Graph& graph, const RecommendRequest& request, const Models& models, const Seeds& s,
             std::vector<Proposal> proposals, Recommendations& out) {
  const size_t limit = std::max<size_t>(1, request.limit);
  const bool personal = request.placement == Placement::kHome || request.placement == Placement::kEmail;
  std::erase_if(proposals, [&](const Proposal& p) {
    return !graph.Showable(p.item) || std::binary_search(s.own.begin(), s.own.end(), p.item);
  });
  if (proposals.size() < limit && models.popularity) {
    // Popular items fill what the personal generators leave (all of it for a new shopper).
    std::unordered_set<int32_t> have;
    for (const Proposal& p : proposals) have.insert(p.item);
    const float below = proposals.empty() ? 1.0f : proposals.back().score;
    size_t rank = 0;
    const auto fill = [&](const std::vector<Scored>& popular, Via via) {
      for (size_t r = 0; r < popular.size() && proposals.size() < limit * 3; ++r) {
        if (!graph.Showable(popular[r].item) || !have.insert(popular[r].item).second) continue;
        proposals.push_back(Proposal{popular[r].item, below * 0.5f / static_cast<float>(++rank + 1),
                                     models.popularity.get(), via});
      }
    };
    // The control (kPopularity) and degraded lists are the shop's popular items alone.
    if (models.segments && out.strategy != Strategy::kPopularity)
      fill(models.segments->Popular(s.seed, s.categories, kPerGenerator + limit, s.own), Via::kSegment);
    fill(models.popularity->Recommend(s.seed, kPerGenerator + limit, s.own), Via::kHistory);
  }
  if (!personal && !s.bought.empty()) {
    // Home and email never show what the shopper bought (it is their own); here a durable they
    // bought goes after everything else.
    std::stable_partition(proposals.begin(), proposals.end(), [&](const Proposal& p) {
      return !std::binary_search(s.bought.begin(), s.bought.end(), p.item) ||
             (models.segments && !models.segments->Durable(p.item));
    });
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
    out.items.push_back(RecommendedItem{f->id, f->title, c->score, Reason(graph, request, models, s, *c, *f),
                                        std::string(SourceName(*c))});
  }
}

}  // namespace

std::vector<Proposal> Propose(const Models& models, Strategy strategy, const History& seed,
                              std::span<const int32_t> exclude, Strategy* served, const Context& context) {
  if (strategy == Strategy::kPopularity) {
    if (served) *served = Strategy::kPopularity;
    return {};
  }
  if (strategy == Strategy::kRanked && models.ranker) {
    std::vector<const Generator*> generators;
    if (RankerInputs(models, &generators)) {
      if (auto ranked = Ranked(models, generators, seed, exclude, context); ranked.ok()) {
        if (served) *served = Strategy::kRanked;
        return std::move(ranked).value();
      }
    }
  }
  if (served) *served = Strategy::kFused;
  return Fused(models, seed, exclude, context);
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
  {
    std::vector<float> users(static_cast<size_t>(t.items));  // distinct users per item, as popularity
    for (size_t i = 0; i < users.size(); ++i)
      users[i] = static_cast<float>(t.item_users.indptr[i + 1] - t.item_users.indptr[i]);
    m->segments = std::make_unique<Segments>(
        Segments::Fit(snapshot.rows, snapshot.catalog.categories, users, options.segments));
  }
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
                                make, ranker, &snapshot.catalog);
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

std::vector<int32_t> Recommender::Content(std::span<const int32_t> of, size_t k) const {
  std::vector<int32_t> out;
  if (!content_ || of.empty()) return out;
  std::vector<std::string> ids;
  for (int32_t item : of)
    if (auto f = graph_.Facts(item)) ids.push_back(f->id);
  if (ids.empty()) return out;
  for (const std::string& id : content_(ids, k))
    if (auto i = graph_.ItemIndex(id)) out.push_back(*i);
  return out;
}

Recommendations Recommender::Recommend(const RecommendRequest& request) const {
  Recommendations out;
  const std::shared_ptr<const Models> models = models_.load();

  // The seed of the list: the shopper's history, or the given products.
  Shopper shopper;
  if (!request.subject.empty()) shopper = graph_.ShopperOf(request.subject, half_life_days_, kSessionGapMs);
  History seed;
  std::vector<int32_t> own;  // never shown
  const bool personal = request.placement == Placement::kHome || request.placement == Placement::kEmail;
  if (personal) {
    seed = shopper.history;
    own = seed.items;
  } else {
    std::vector<std::string> ids = request.product_ids;
    if (ids.empty() && request.placement == Placement::kCart && !request.subject.empty()) {
      std::vector<int32_t> cart = graph_.CartOf(request.subject);
      if (cart.empty()) cart = shopper.recent;  // no cart events for them yet
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

  // The session's list when the session is not the whole history; the content list of the
  // product, or of the shopper's latest items.
  std::vector<std::string> categories;
  if (models->segments) categories = graph_.CategoriesOf(seed.items);
  Seeds seeds{.seed = seed, .own = own, .bought = shopper.bought, .categories = categories};
  Context context{.categories = categories};
  std::vector<int32_t> content;
  if (personal) {
    if (shopper.session.items.size() < seed.items.size()) context.session = &shopper.session;
    context.session_items = shopper.session.items;
    seeds.session = &shopper.session;
    if (!shopper.recent.empty()) seeds.anchor = shopper.recent.front();
    if (seed.items.size() < kShortHistory) context.segments = models->segments.get();
    if (request.strategy != Strategy::kPopularity) content = Content(shopper.recent, kPerGenerator / 5);
  } else if (request.placement == Placement::kProduct && !seed.items.empty()) {
    seeds.anchor = seed.items.front();
    if (request.strategy != Strategy::kPopularity) content = Content(seed.items, kPerGenerator / 5);
  }
  context.content = content;
  std::vector<Proposal> proposals = Propose(*models, request.strategy, seed, own, &out.strategy, context);
  Present(graph_, request, *models, seeds, std::move(proposals), out);
  return out;
}

}  // namespace emporium::recommend
