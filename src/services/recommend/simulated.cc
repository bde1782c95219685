#include "services/recommend/simulated.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/ml/metrics/metrics.h"
#include "platform/ml/metrics/report.h"
#include "services/recommend/graph.h"
#include "services/recommend/recommender.h"
#include "sim/truth.h"

namespace emporium::recommend {
namespace {

using boost::json::object;
using json::Str;

// The signal a feed weight came from (views and clicks weigh alike).
Signal SignalOfWeight(float weight) {
  for (Signal s : {Signal::kPurchase, Signal::kCart, Signal::kWishlist})
    if (weight == SignalWeight(s)) return s;
  return Signal::kView;
}

std::optional<Signal> EventSignal(std::string_view type) {
  if (type == "product_view") return Signal::kView;
  if (type == "search_click" || type == "recommendation_click") return Signal::kClick;
  if (type == "wishlist_add") return Signal::kWishlist;
  if (type == "add_to_cart") return Signal::kCart;
  return std::nullopt;
}

// The history's interactions, time-ordered; subjects "user:<key>" or "guest:<device>".
Result<Interactions> ReadHistory(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return NotFound("cannot read simulator history " + file.string());
  struct Row {
    std::string user, product;
    float weight;
    int64_t at;
  };
  std::vector<Row> rows;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    auto v = json::Parse(line);
    if (!v.ok() || !v->is_object())
      return InvalidArgument(file.string() + ":" + std::to_string(n) + ": not JSON");
    const object& o = v->as_object();
    const std::string record = Str(o, "record");
    if (record != "event" && record != "order") continue;
    const auto at = ParseRfc3339UnixMillis(Str(o, "time"));
    std::string user = Str(o, "user");
    if (!at || user.empty()) continue;
    if (!user.starts_with("guest:")) user = "user:" + user;
    if (record == "order") {
      if (Str(o, "status") != "CONFIRMED") continue;
      if (const auto* items = o.if_contains("items"); items && items->is_array())
        for (const auto& i : items->as_array())
          if (i.is_object() && !Str(i.as_object(), "product_id").empty())
            rows.push_back({user, Str(i.as_object(), "product_id"), SignalWeight(Signal::kPurchase), *at});
      continue;
    }
    const auto* e = o.if_contains("event");
    if (!e || !e->is_object()) continue;
    const auto signal = EventSignal(Str(e->as_object(), "type"));
    const std::string product = Str(e->as_object(), "product_id");
    if (signal && !product.empty()) rows.push_back({user, product, SignalWeight(*signal), *at});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.at < b.at; });
  Interactions out;
  for (const Row& r : rows)
    out.rows.push_back({out.UserIndex(r.user), out.ItemIndex(r.product), r.weight, r.at});
  return out;
}

}  // namespace

Result<SimulatedResult> EvaluateSimulated(const std::filesystem::path& dir, const SimulatedOptions& options) {
  EMP_ASSIGN_OR_RETURN(const sim::GroundTruth truth, sim::GroundTruth::Load((dir / "truth.json").string()));
  EMP_ASSIGN_OR_RETURN(Interactions data, ReadHistory(dir / "history.jsonl"));
  if (data.rows.empty()) return FailedPrecondition(dir.string() + ": the history has no interactions");
  // Every product of the truth is an item, so the catalog (and coverage) is the whole catalog.
  for (const std::string& p : truth.Products()) data.ItemIndex(p);
  const int64_t first = data.rows.front().at_ms, last = data.rows.back().at_ms;
  const int64_t cut = first + static_cast<int64_t>(options.train_share * static_cast<double>(last - first));
  std::vector<Interaction> train;
  std::vector<std::unordered_set<int64_t>> future(static_cast<size_t>(data.users()));
  for (const Interaction& r : data.rows) {
    if (r.at_ms < cut) {
      train.push_back(r);
    } else {
      future[static_cast<size_t>(r.user)].insert(r.item);
    }
  }
  const double half_life = options.offline.half_life_days;
  EMP_ASSIGN_OR_RETURN(TrainingSet set, MakeTrainingSet(train, data.users(), data.items(), half_life));

  // Scored users: known to the truth, with history before the cut; an even spread.
  std::vector<int32_t> scored;
  for (int32_t u = 0; u < data.users(); ++u) {
    const std::string& id = data.user_ids[static_cast<size_t>(u)];
    if (id.starts_with("user:") && !set.histories[static_cast<size_t>(u)].items.empty() &&
        truth.Want(id.substr(5), data.item_ids[0], cut))
      scored.push_back(u);
  }
  if (scored.size() > options.users) {
    std::vector<int32_t> spread;
    for (size_t n = 0; n < options.users; ++n) spread.push_back(scored[n * scored.size() / options.users]);
    scored = std::move(spread);
  }
  // Each scored user's appeal of every product at the cut, and the ideal DCG over what they have
  // not interacted with.
  std::vector<std::vector<double>> appeal(scored.size());
  std::vector<double> ideal(scored.size());
  const size_t k = options.offline.k;
  for (size_t n = 0; n < scored.size(); ++n) {
    const std::string user = data.user_ids[static_cast<size_t>(scored[n])].substr(5);
    const History& h = set.histories[static_cast<size_t>(scored[n])];
    std::vector<double>& a = appeal[n];
    a.resize(static_cast<size_t>(data.items()));
    for (int32_t i = 0; i < data.items(); ++i) {
      const auto want = truth.Want(user, data.item_ids[static_cast<size_t>(i)], cut);
      a[static_cast<size_t>(i)] =
          want && !std::binary_search(h.items.begin(), h.items.end(), i) ? sim::ClickAppeal(*want) : 0;
    }
    std::vector<double> best = a;
    std::partial_sort(best.begin(), best.begin() + static_cast<ptrdiff_t>(std::min(k, best.size())),
                      best.end(), std::greater<>());
    best.resize(std::min(k, best.size()));
    ideal[n] = ml::DcgAtK(best, k);
  }

  SimulatedResult result;
  result.interactions = data.rows.size();
  result.train_rows = train.size();
  result.users = static_cast<size_t>(data.users());
  result.items = static_cast<size_t>(data.items());
  result.scored_users = scored.size();
  for (int32_t u : scored) result.with_future += !future[static_cast<size_t>(u)].empty();

  auto score = [&](SimulatedRow row, const auto& recommend) {
    ml::RankingMetrics binary(k, result.items);
    std::unordered_set<int64_t> shown;
    double truth_sum = 0;
    size_t truth_users = 0;
    for (size_t n = 0; n < scored.size(); ++n) {
      const History& h = set.histories[static_cast<size_t>(scored[n])];
      std::vector<int64_t> ranked;
      std::vector<double> gains;
      for (const Scored& s : recommend(h)) {
        ranked.push_back(s.item);
        gains.push_back(appeal[n][static_cast<size_t>(s.item)]);
        shown.insert(s.item);
      }
      if (ideal[n] > 0) {
        truth_sum += ml::DcgAtK(gains, k) / ideal[n];
        ++truth_users;
      }
      binary.Add(ranked, future[static_cast<size_t>(scored[n])]);
    }
    row.truth_ndcg = truth_users ? truth_sum / static_cast<double>(truth_users) : 0;
    row.ndcg = binary.ndcg();
    row.precision = binary.precision();
    row.recall = binary.recall();
    row.map = binary.map();
    row.coverage = result.items ? static_cast<double>(shown.size()) / static_cast<double>(result.items) : 0;
    result.rows.push_back(std::move(row));
  };
  std::vector<std::string> names = options.offline.generators;
  if (names.empty()) names = {"popularity", "cooccur", "als", "ease", "walk"};
  for (const std::string& name : names) {
    std::unique_ptr<Generator> g = MakeGenerator(name, options.offline);
    if (!g) return InvalidArgument("unknown generator '" + name + "'");
    const auto start = std::chrono::steady_clock::now();
    if (Status s = g->Fit(set); !s.ok()) return Status(s.code(), name + ": " + s.message());
    const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    score(SimulatedRow{.name = name, .fit_seconds = fit},
          [&](const History& h) { return g->Recommend(h, k, h.items); });
  }
  if (options.offline.with_hybrid) {
    // The hybrid on interactions alone (as on MovieLens), then with what serving also knows: the
    // catalog's categories, brands and prices (the truth's listings) and each user's latest session.
    ItemCatalog catalog;
    for (const std::string& id : data.item_ids) {
      const auto listing = truth.ListingOf(id);
      catalog.categories.push_back(listing ? listing->category : "");
      catalog.brands.push_back(listing ? listing->brand : "");
      catalog.prices.push_back(listing ? std::llround(1000 * std::exp(listing->price_z)) : -1);
    }
    std::vector<std::vector<Interaction>> rows_of(static_cast<size_t>(data.users()));
    for (const Interaction& r : train) rows_of[static_cast<size_t>(r.user)].push_back(r);
    std::unordered_map<const History*, std::vector<int32_t>> sessions;
    for (int32_t u : scored)
      sessions[&set.histories[static_cast<size_t>(u)]] =
          LatestSession(std::move(rows_of[static_cast<size_t>(u)]));
    for (const bool with_catalog : {false, true}) {
      const auto start = std::chrono::steady_clock::now();
      EMP_ASSIGN_OR_RETURN(auto hybrid,
                           Hybrid::Fit(
                               train, data.users(), data.items(), half_life, names,
                               [&](const std::string& n) { return MakeGenerator(n, options.offline); },
                               options.offline.hybrid, with_catalog ? &catalog : nullptr));
      const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      score(SimulatedRow{.name = with_catalog ? "hybrid+catalog" : "hybrid", .fit_seconds = fit},
            [&](const History& h) {
              return with_catalog ? hybrid->Recommend(h, k, h.items, sessions.at(&h))
                                  : hybrid->Recommend(h, k, h.items);
            });
    }
  }
  if (options.served) {
    // The home lists serving makes (recommender.h), each strategy: the training interactions in a
    // live graph whose catalog facts are the truth's listings (all in stock), the models
    // TrainModels fits on it, the shopper's history and latest session asked at the cut.
    Graph graph;
    std::unordered_map<std::string, int32_t> index_of;
    for (size_t i = 0; i < data.item_ids.size(); ++i) {
      const auto listing = truth.ListingOf(data.item_ids[i]);
      graph.SetFacts(ItemFacts{.id = data.item_ids[i],
                               .title = data.item_ids[i],
                               .category = listing ? listing->category : "",
                               .brand = listing ? listing->brand : "",
                               .price = listing ? std::llround(1000 * std::exp(listing->price_z)) : 0});
      index_of[data.item_ids[i]] = static_cast<int32_t>(i);
    }
    std::vector<LiveInteraction> batch;
    batch.reserve(train.size());
    for (const Interaction& r : train)
      batch.push_back({data.user_ids[static_cast<size_t>(r.user)], data.item_ids[static_cast<size_t>(r.item)],
                       SignalOfWeight(r.weight), r.at_ms});
    graph.Add(batch);
    const auto start = std::chrono::steady_clock::now();
    EMP_ASSIGN_OR_RETURN(std::shared_ptr<Models> models,
                         TrainModels(graph.Snapshot(), DefaultModelOptions()));
    const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Recommender recommender(graph, half_life);
    recommender.Swap(models);
    std::unordered_map<const History*, std::string> subject;
    for (int32_t u : scored)
      subject[&set.histories[static_cast<size_t>(u)]] = data.user_ids[static_cast<size_t>(u)];
    for (const Strategy strategy : {Strategy::kFused, Strategy::kRanked}) {
      score(SimulatedRow{.name = "served " + std::string(StrategyName(strategy)), .fit_seconds = fit},
            [&](const History& h) {
              std::vector<Scored> out;
              const Recommendations r = recommender.Recommend(
                  RecommendRequest{.subject = subject.at(&h), .limit = k, .strategy = strategy});
              for (const RecommendedItem& item : r.items)
                out.push_back({index_of.at(item.product_id), item.score});
              return out;
            });
    }
  }
  return result;
}

Status RunSimulatedEvalCommand(const std::filesystem::path& dir, const SimulatedOptions& options, bool json,
                               std::ostream& out) {
  EMP_ASSIGN_OR_RETURN(SimulatedResult r, EvaluateSimulated(dir, options));
  const std::string k = std::to_string(options.offline.k);
  ml::Report report("recommend --simulated",
                    dir.string() + ": trained on the first " +
                        std::to_string(static_cast<int>(options.train_share * 100)) +
                        " % of the period, scored at the cut against the simulator's truth");
  report.AddNote("interactions",
                 std::to_string(r.interactions) + " (" + std::to_string(r.train_rows) + " before the cut)");
  report.AddNote("users / items", std::to_string(r.users) + " / " + std::to_string(r.items));
  report.AddNote("scored users", std::to_string(r.scored_users) + " (" + std::to_string(r.with_future) +
                                     " with interactions after the cut, for P/R/MAP)");
  report.SetColumns({"truth NDCG@" + k, "NDCG@" + k, "P@" + k, "R@" + k, "MAP@" + k, "coverage", "fit s"});
  for (const SimulatedRow& row : r.rows)
    report.AddRow(row.name, {row.truth_ndcg, row.ndcg, row.precision, row.recall, row.map, row.coverage,
                             row.fit_seconds});
  report.Print(out, json);
  return Status::Ok();
}

}  // namespace emporium::recommend
