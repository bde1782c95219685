#include "services/recommend/lifecycle.h"

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "platform/core/json.h"
#include "platform/ml/metrics/metrics.h"

namespace emporium::recommend {
namespace {

// Serving's candidates of the strategy, then popular items (serving's fill, without its filters).
std::vector<int64_t> Listed(const Models& m, Strategy strategy, const History& h,
                            std::span<const int32_t> session, size_t k, Strategy* served) {
  std::vector<int64_t> out;
  for (const Proposal& p : Propose(m, strategy, h, h.items, served, Context{.session_items = session})) {
    if (out.size() >= k) break;
    out.push_back(p.item);
  }
  if (out.size() < k && m.popularity) {
    for (const Scored& s : m.popularity->Recommend(h, k + out.size(), h.items)) {
      if (out.size() >= k) break;
      if (std::find(out.begin(), out.end(), s.item) == out.end()) out.push_back(s.item);
    }
  }
  return out;
}

boost::json::object ScoreJson(const SliceScore& s) {
  return {{"users", s.users}, {"ndcg_at_10", s.ndcg}, {"recall_at_10", s.recall}};
}

}  // namespace

Result<std::map<std::string, std::string>> ModelFiles(const Models& m) {
  std::map<std::string, std::string> files;
  std::string items;
  for (const std::string& id : m.item_ids) items += id + "\n";
  files["items.txt"] = std::move(items);
  for (const auto& [name, g] : {std::pair{"popularity", m.popularity.get()},
                                std::pair{"cooccur", m.cooccur.get()}, std::pair{"als", m.als.get()}}) {
    if (!g) continue;
    EMP_ASSIGN_OR_RETURN(std::string bytes, g->Save());
    files[std::string(name) + ".bin"] = std::move(bytes);
  }
  if (m.ranker) {
    EMP_ASSIGN_OR_RETURN(files["ranker.bin"], m.ranker->Save());
  }
  if (m.segments) files["segments.bin"] = m.segments->Save();
  return files;
}

Result<std::shared_ptr<Models>> LoadModels(const ml::ModelStore& store, const ml::Artifact& artifact,
                                           const Graph& graph) {
  EMP_ASSIGN_OR_RETURN(std::string items, store.Read(artifact, "items.txt"));
  auto m = std::make_shared<Models>();
  m->version = artifact.version;
  std::istringstream in(items);
  for (std::string id; std::getline(in, id);) m->item_ids.push_back(id);
  m->items = static_cast<int32_t>(m->item_ids.size());
  for (int32_t i = 0; i < m->items; ++i) {
    if (graph.ItemIndex(m->item_ids[static_cast<size_t>(i)]) != i)
      return FailedPrecondition("model " + artifact.version + " was fitted on another graph (item " +
                                m->item_ids[static_cast<size_t>(i)] + ")");
  }
  for (const char* name : {"popularity", "cooccur", "als"}) {
    auto bytes = store.Read(artifact, std::string(name) + ".bin");
    if (!bytes.ok()) {
      if (std::string_view(name) == "popularity") return bytes.status();
      continue;  // a model of a graph too small for the personal generators
    }
    EMP_ASSIGN_OR_RETURN(std::unique_ptr<Generator> g, LoadGenerator(name, *bytes));
    (std::string_view(name) == "popularity" ? m->popularity
     : std::string_view(name) == "cooccur"  ? m->cooccur
                                            : m->als) = std::move(g);
  }
  if (auto bytes = store.Read(artifact, "ranker.bin"); bytes.ok()) {
    EMP_ASSIGN_OR_RETURN(m->ranker, Ranker::Load(*bytes));
    for (const std::string& g : m->ranker->generators()) {
      const bool have =
          (g == "popularity" && m->popularity) || (g == "cooccur" && m->cooccur) || (g == "als" && m->als);
      if (!have) return FailedPrecondition("model " + artifact.version + ": the ranker needs " + g);
    }
    if (m->ranker->side().items() != static_cast<size_t>(m->items))
      return FailedPrecondition("model " + artifact.version + ": the ranker was fitted on other items");
  } else if (bytes.status().code() != Code::kNotFound) {
    return bytes.status();
  }
  if (auto bytes = store.Read(artifact, "segments.bin"); bytes.ok()) {
    EMP_ASSIGN_OR_RETURN(Segments segments, Segments::Load(*bytes));
    if (segments.items() != static_cast<size_t>(m->items))
      return FailedPrecondition("model " + artifact.version + ": the segments were fitted on other items");
    m->segments = std::make_unique<Segments>(std::move(segments));
  } else if (bytes.status().code() != Code::kNotFound) {
    return bytes.status();
  }
  if (auto metrics = store.Read(artifact, "metrics.json"); metrics.ok()) {
    if (auto v = json::Parse(*metrics); v.ok() && v->is_object()) {
      if (const auto* n = v->as_object().if_contains("interactions"); n && n->is_int64())
        m->interactions = static_cast<size_t>(n->as_int64());
    }
  }
  return m;
}

SliceScore ScoreOnSlice(const Models& models, Strategy strategy, const std::vector<Interaction>& before,
                        const std::vector<Interaction>& slice, int32_t users, double half_life_days,
                        size_t k) {
  const std::vector<History> histories = Histories(before, users, half_life_days);
  std::vector<std::unordered_set<int64_t>> relevant(static_cast<size_t>(users));
  for (const Interaction& r : slice) {
    const auto u = static_cast<size_t>(r.user);
    if (u < histories.size() && !histories[u].items.empty() &&
        !std::binary_search(histories[u].items.begin(), histories[u].items.end(), r.item))
      relevant[u].insert(r.item);
  }
  // The ranker's session feature: each scored user's latest session before the slice.
  std::vector<std::vector<Interaction>> rows_of(static_cast<size_t>(users));
  for (const Interaction& r : before)
    if (static_cast<size_t>(r.user) < rows_of.size() && !relevant[static_cast<size_t>(r.user)].empty())
      rows_of[static_cast<size_t>(r.user)].push_back(r);
  ml::RankingMetrics m(k, static_cast<size_t>(std::max(models.items, 1)));
  Strategy served = strategy == Strategy::kRanked && !models.ranker ? Strategy::kFused : strategy;
  for (size_t u = 0; u < relevant.size(); ++u) {
    if (relevant[u].empty()) continue;
    const std::vector<int32_t> session = LatestSession(std::move(rows_of[u]));
    m.Add(Listed(models, strategy, histories[u], session, k, &served), relevant[u]);
  }
  return SliceScore{m.users(), m.ndcg(), m.recall(), served};
}

Result<RoundResult> TrainRound(const Graph& graph, const ml::ModelStore& store, const Models* current,
                               const LifecycleOptions& options, std::stop_token stop) {
  RoundResult r;
  const size_t n = graph.interactions();
  if (n == 0) {
    r.why = "no interactions yet";
    return r;
  }
  const size_t slice =
      std::max(options.min_slice, static_cast<size_t>(options.slice_share * static_cast<double>(n)));
  GraphSnapshot before;
  std::vector<Interaction> held;
  if (current) {
    if (n < slice || n - slice <= current->interactions) {
      r.why =
          "waiting: the candidate needs more interactions before the held-out slice than the current model "
          "had";
      return r;
    }
    before = graph.Snapshot(n - slice);
    held = graph.ArrivedSince(n - slice);
  } else {
    before = graph.Snapshot();
  }
  EMP_ASSIGN_OR_RETURN(r.candidate, TrainModels(before, options.models, stop));
  r.trained = true;
  boost::json::object metrics{{"model", kModelName},
                              {"interactions", before.interactions},
                              {"users", before.users},
                              {"items", before.items},
                              {"seconds", r.candidate->seconds}};
  if (r.candidate->segments) {
    metrics["segments"] = boost::json::object{{"categories", r.candidate->segments->categories()},
                                              {"consumables", r.candidate->segments->consumables()}};
  }
  if (r.candidate->ranker) {
    metrics["ranker"] = boost::json::object{{"groups", r.candidate->ranker->training_groups()},
                                            {"rows", r.candidate->ranker->training_rows()},
                                            {"seconds", r.candidate->ranker_seconds}};
  } else {
    metrics["ranker"] = boost::json::object{{"none", r.candidate->no_ranker}};
  }
  if (current) {
    const double half_life = options.models.half_life_days;
    r.candidate_score =
        ScoreOnSlice(*r.candidate, Strategy::kFused, before.rows, held, before.users, half_life);
    r.current_score = ScoreOnSlice(*current, Strategy::kFused, before.rows, held, before.users, half_life);
    if (r.candidate->ranker)
      r.candidate_ranked =
          ScoreOnSlice(*r.candidate, Strategy::kRanked, before.rows, held, before.users, half_life);
    if (current->ranker)
      r.current_ranked =
          ScoreOnSlice(*current, Strategy::kRanked, before.rows, held, before.users, half_life);
    r.promoted = r.candidate_score.users > 0 && r.candidate_score.ndcg > r.current_score.ndcg;
    r.why = r.promoted                     ? "the candidate beats the current model on the held-out slice"
            : r.candidate_score.users == 0 ? "no slice user to judge on; the current model stays"
                                           : "the candidate does not beat the current model; it stays";
    metrics["slice"] = boost::json::object{{"interactions", held.size()},
                                           {"candidate", ScoreJson(r.candidate_score)},
                                           {"current", ScoreJson(r.current_score)},
                                           {"current_version", current->version}};
    auto& recorded = metrics["slice"].as_object();
    if (r.candidate_ranked) recorded["candidate_ranked"] = ScoreJson(*r.candidate_ranked);
    if (r.current_ranked) recorded["current_ranked"] = ScoreJson(*r.current_ranked);
  } else {
    r.promoted = true;
    r.why = "the first model";
  }
  metrics["promoted"] = r.promoted;
  EMP_ASSIGN_OR_RETURN(auto files, ModelFiles(*r.candidate));
  EMP_ASSIGN_OR_RETURN(ml::Artifact a, store.Stage(files, json::Dump(metrics)));
  r.candidate->version = a.version;
  if (r.promoted) EMP_RETURN_IF_ERROR(store.Promote(a.version).status());
  store.Prune(10);
  return r;
}

}  // namespace emporium::recommend
