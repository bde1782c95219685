#include "services/recommend/recommender.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <unordered_map>

#include "platform/core/clock.h"

namespace emporium::recommend {
namespace {

constexpr double kFusionOffset = 60;  // reciprocal rank fusion's k
constexpr size_t kPerGenerator = 100;

struct Candidate {
  int32_t item = 0;
  float score = 0;
  std::string source;
  std::optional<int32_t> because;
};

std::string Title(const Graph& g, int32_t item) {
  auto f = g.Facts(item);
  return f && !f->title.empty() ? f->title : "an item";
}

}  // namespace

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

ModelOptions DefaultModelOptions() {
  ModelOptions o;
  o.als.factors = 64;
  o.als.regularization = 30;
  o.als.alpha = 3;
  o.als.iterations = 15;
  o.als.threads = static_cast<int>(std::max(1u, std::min(std::thread::hardware_concurrency(), 4u)));
  o.cooccur.neighbours = 30;
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
  if (snapshot.interactions >= options.min_interactions && snapshot.users > 1) {
    if (stop.stop_requested()) return Cancelled("training stopped");
    m->cooccur = MakeCooccur(options.cooccur);
    EMP_RETURN_IF_ERROR(m->cooccur->Fit(t));
    ml::AlsOptions als = options.als;
    als.stop = stop;
    m->als = MakeAls(als);
    EMP_RETURN_IF_ERROR(m->als->Fit(t));
  }
  m->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m->version = "recommend-" + std::to_string(UnixMillis(SystemClock::Get().WallNow())) + "-" +
               std::to_string(snapshot.interactions);
  return m;
}

Recommendations Recommender::Recommend(const RecommendRequest& request) const {
  Recommendations out;
  const std::shared_ptr<const Models> models = models_.load();
  const size_t limit = std::max<size_t>(1, request.limit);

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
      for (int32_t i : graph_.RecentItems(request.subject, 5)) own.push_back(i);
    }
    for (const std::string& id : ids)
      if (auto i = graph_.ItemIndex(id)) own.push_back(*i);
    std::sort(own.begin(), own.end());
    own.erase(std::unique(own.begin(), own.end()), own.end());
    seed.items = own;
    seed.weights.assign(own.size(), 1);
    seed.affinity.assign(own.size(), 1);
  }

  std::vector<Candidate> candidates;
  std::unordered_map<int32_t, size_t> at;
  auto fuse = [&](const Generator* g, const char* source, double weight) {
    if (!g || seed.items.empty()) return;
    const std::vector<Scored> list = g->Recommend(seed, kPerGenerator, own);
    for (size_t r = 0; r < list.size(); ++r) {
      if (!graph_.Showable(list[r].item)) continue;
      auto [it, added] = at.emplace(list[r].item, candidates.size());
      if (added) candidates.push_back(Candidate{list[r].item, 0, source, g->Because(seed, list[r].item)});
      candidates[it->second].score +=
          static_cast<float>(weight / (kFusionOffset + static_cast<double>(r + 1)));
    }
  };
  if (models) {
    fuse(models->cooccur.get(), "cooccur", 1.0);
    fuse(models->als.get(), "als", 1.0);
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  });
  if (models) {
    out.model = models->version;
    if (candidates.size() < limit && models->popularity) {
      // Popular items fill what the personal generators leave (all of it for a new shopper).
      const float below = candidates.empty() ? 1.0f : candidates.back().score;
      const std::vector<Scored> popular = models->popularity->Recommend(seed, kPerGenerator + limit, own);
      for (size_t r = 0; r < popular.size() && candidates.size() < limit * 3; ++r) {
        if (!graph_.Showable(popular[r].item) || at.count(popular[r].item)) continue;
        at.emplace(popular[r].item, candidates.size());
        candidates.push_back(
            Candidate{popular[r].item, below * 0.5f / static_cast<float>(r + 2), "popularity", {}});
      }
    }
  } else {
    out.model = "none";
    out.degraded = true;
    out.degraded_reason = "no model trained yet";
  }

  // Home and email: at most a third of the list (at least 2) from one category while others are
  // left. Product and cart lists stay on what goes with their products.
  const size_t per_category = personal ? std::max<size_t>(2, limit / 3) : limit;
  std::map<std::string, size_t> taken;
  std::vector<const Candidate*> chosen, held_back;
  for (const Candidate& c : candidates) {
    if (chosen.size() >= limit) break;
    auto f = graph_.Facts(c.item);
    const std::string category = f ? f->category : "";
    if (!category.empty() && taken[category] >= per_category) {
      held_back.push_back(&c);
      continue;
    }
    ++taken[category];
    chosen.push_back(&c);
  }
  for (const Candidate* c : held_back) {
    if (chosen.size() >= limit) break;
    chosen.push_back(c);
  }

  for (const Candidate* c : chosen) {
    auto f = graph_.Facts(c->item);
    RecommendedItem item{f->id, f->title, c->score, "", c->source};
    if (c->source == "popularity") {
      item.reason = f->category.empty() ? "Popular right now" : "Popular in " + f->category;
    } else if (request.placement == Placement::kProduct) {
      item.reason =
          (c->source == "cooccur" ? "Often viewed with " : "Similar to ") + Title(graph_, seed.items.front());
    } else if (request.placement == Placement::kCart) {
      item.reason = "Goes with " + Title(graph_, c->because.value_or(seed.items.front()));
    } else if (c->because) {
      item.reason = "Because you viewed " + Title(graph_, *c->because);
    } else {
      item.reason = "Picked for you";
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

}  // namespace emporium::recommend
