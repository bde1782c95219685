#include "services/search/train.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <set>

#include "platform/core/json.h"
#include "platform/core/xoshiro.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/metrics/report.h"
#include "platform/ml/registry/registry.h"
#include "services/search/clicks.h"
#include "services/search/vectors.h"

namespace emporium::search {
namespace {

constexpr uint64_t kStoppingSalt = 0x5eed;

// Rows of the non-empty listed groups, in order.
std::vector<size_t> RowsOf(const RankExamples& examples, const std::vector<size_t>& groups) {
  std::vector<size_t> rows;
  for (size_t g : groups) {
    for (size_t r = examples.offsets[g]; r < examples.offsets[g + 1]; ++r) rows.push_back(r);
  }
  return rows;
}

Result<std::vector<float>> PredictGroups(const ml::Booster& booster, const RankExamples& examples,
                                         const std::vector<size_t>& groups) {
  std::vector<float> scores(examples.data.rows(), 0.0f);
  const ml::Dataset subset = Subset(examples, groups);
  EMP_ASSIGN_OR_RETURN(std::vector<float> predicted, booster.Predict(subset.values));
  const std::vector<size_t> rows = RowsOf(examples, groups);
  for (size_t i = 0; i < rows.size() && i < predicted.size(); ++i) scores[rows[i]] = predicted[i];
  return scores;
}

// The fused order as scores: earlier rows of a group score higher.
std::vector<float> FusedOrder(const RankExamples& examples) {
  std::vector<float> scores(examples.data.rows());
  for (size_t g = 0; g < examples.queries.size(); ++g) {
    for (size_t r = examples.offsets[g]; r < examples.offsets[g + 1]; ++r) {
      scores[r] = -static_cast<float>(r - examples.offsets[g]);
    }
  }
  return scores;
}

}  // namespace

size_t FoldOf(const std::string& query, size_t folds, uint64_t salt) {
  uint64_t h = Fnv1a(query) ^ salt;
  return static_cast<size_t>(SplitMix64(h) % std::max<size_t>(folds, 1));
}

Result<RankExamples> CollectRankExamples(Index& index, const std::vector<Judgment>& judgments,
                                         const std::map<std::string, SemanticCandidates>& semantic,
                                         const SearchOptions& options) {
  std::map<std::string, std::map<std::string, double>> by_query;
  for (const Judgment& j : judgments) by_query[j.query][j.product_id] = j.relevance;
  SearchOptions o = options;
  o.facets = false;
  o.window = kRerankDepth;
  RankExamples ex;
  ex.data.feature_names = RankFeatureNames();
  ex.data.cols = RankFeatureNames().size();
  const SemanticCandidates none;
  std::vector<float> row;
  for (auto& [text, judged] : by_query) {
    std::vector<double> gains;
    for (const auto& [id, rel] : judged) gains.push_back(Gain(rel));
    if (Dcg(gains, gains.size()) <= 0) continue;
    Query q;
    q.text = text;
    q.page_size = 10;
    q.mode = SearchMode::kHybrid;
    auto found = semantic.find(text);
    CandidateCapture capture;
    EMP_RETURN_IF_ERROR(
        index.Search(q, std::nullopt, capture, o, found == semantic.end() ? &none : &found->second).status());
    ex.queries.push_back(text);
    ex.offsets.push_back(ex.ids.size());
    const QueryText query_text(capture.text);
    for (const Hit& h : capture.hits) {
      row.clear();
      AppendRankFeatures(query_text, h, row);
      auto rel = judged.find(h.product_id);
      EMP_RETURN_IF_ERROR(ex.data.AddRow(row, rel == judged.end() ? 0.0f : RankLabel(rel->second)));
      ex.ids.push_back(h.product_id);
    }
    ex.judged.push_back(std::move(judged));
  }
  ex.offsets.push_back(ex.ids.size());
  return ex;
}

double MeanNdcg(const RankExamples& examples, const std::vector<size_t>& groups,
                const std::vector<float>& scores, size_t k) {
  double sum = 0;
  size_t n = 0;
  for (size_t g : groups) {
    const size_t begin = examples.offsets[g], end = examples.offsets[g + 1];
    std::vector<size_t> order(end - begin);
    std::iota(order.begin(), order.end(), begin);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    std::vector<std::string> ids;
    for (size_t r : order) ids.push_back(examples.ids[r]);
    const double v = Ndcg(ids, examples.judged[g], k);
    if (v < 0) continue;
    sum += v;
    ++n;
  }
  return n ? sum / static_cast<double>(n) : 0;
}

Result<TrainedRanker> TrainRanker(const RankExamples& examples, const std::vector<size_t>& groups, size_t k,
                                  const ml::TrainParams& params) {
  std::vector<size_t> fit, stop;
  for (size_t g : groups) (FoldOf(examples.queries[g], 10, kStoppingSalt) == 0 ? stop : fit).push_back(g);
  if (fit.empty() || stop.empty()) return InvalidArgument("too few queries to train the search ranker");
  ml::TrainParams p = params;
  p.eval_metric = "ndcg@" + std::to_string(k);
  const ml::Dataset train = Subset(examples, fit), valid = Subset(examples, stop);
  if (train.rows() == 0 || valid.rows() == 0)
    return InvalidArgument("no candidates to train the search ranker on");
  TrainedRanker t;
  EMP_ASSIGN_OR_RETURN(t.booster, ml::Booster::Train(train, &valid, p));
  t.train_queries = fit.size();
  t.valid_queries = stop.size();
  EMP_ASSIGN_OR_RETURN(std::vector<float> scores, PredictGroups(*t.booster, examples, stop));
  t.valid_ndcg = MeanNdcg(examples, stop, scores, k);
  t.valid_baseline = MeanNdcg(examples, stop, FusedOrder(examples), k);
  return t;
}

Result<CrossValidation> CrossValidateRanker(const RankExamples& examples, size_t folds, size_t k,
                                            const ml::TrainParams& params) {
  if (folds < 2) return InvalidArgument("cross-validation needs at least 2 folds");
  std::vector<float> scores(examples.data.rows(), 0.0f);
  std::vector<size_t> all(examples.queries.size());
  std::iota(all.begin(), all.end(), 0);
  CrossValidation cv;
  for (size_t f = 0; f < folds; ++f) {
    std::vector<size_t> train, test;
    for (size_t g : all) (FoldOf(examples.queries[g], folds) == f ? test : train).push_back(g);
    EMP_ASSIGN_OR_RETURN(TrainedRanker t, TrainRanker(examples, train, k, params));
    cv.mean_rounds += static_cast<double>(t.booster->rounds()) / static_cast<double>(folds);
    EMP_ASSIGN_OR_RETURN(std::vector<float> fold_scores, PredictGroups(*t.booster, examples, test));
    for (size_t r : RowsOf(examples, test)) scores[r] = fold_scores[r];
    std::fprintf(stderr, "ranker cv: fold %zu/%zu done (%d rounds)\n", f + 1, folds, t.booster->rounds());
  }
  cv.queries = all.size();
  cv.ndcg = MeanNdcg(examples, all, scores, k);
  cv.baseline_ndcg = MeanNdcg(examples, all, FusedOrder(examples), k);
  return cv;
}

Status RunTrainCommand(const std::filesystem::path& file, const TrainCommandOptions& options,
                       const std::filesystem::path& tmp_root, std::ostream& out) {
  if (!options.encoder) {
    return FailedPrecondition(
        "the search ranker needs the sentence encoder (its features include vector "
        "similarity): install it with make deps");
  }
  const auto started = std::chrono::steady_clock::now();
  EMP_ASSIGN_OR_RETURN(auto corpus, BuildEvalCorpus(file, options.encoder, tmp_root));
  EMP_ASSIGN_OR_RETURN(RankExamples examples, CollectRankExamples(*corpus->index, corpus->judgments,
                                                                  corpus->semantic, SearchOptions{}));
  std::vector<size_t> all(examples.queries.size());
  std::iota(all.begin(), all.end(), 0);
  const ml::TrainParams params = RankerTrainParams();
  EMP_ASSIGN_OR_RETURN(TrainedRanker t, TrainRanker(examples, all, options.k, params));
  EMP_ASSIGN_OR_RETURN(std::string model, t.booster->Save());
  std::string features;
  for (const std::string& name : RankFeatureNames()) features += name + "\n";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const std::string ndcg = "ndcg@" + std::to_string(options.k);
  boost::json::object metrics;
  metrics["model"] = kRankerModelName;
  metrics["objective"] = params.objective;
  metrics["judgments"] = file.filename().string();
  metrics["encoder"] = options.encoder->version();
  metrics["train_queries"] = t.train_queries;
  metrics["held_out_queries"] = t.valid_queries;
  metrics["rows"] = examples.data.rows();
  metrics["rounds"] = t.booster->rounds();
  metrics["rerank_depth"] = kRerankDepth;
  metrics["held_out_" + ndcg] = t.valid_ndcg;
  metrics["held_out_" + ndcg + "_hybrid"] = t.valid_baseline;
  metrics["seconds"] = seconds;
  boost::json::array names;
  for (const std::string& name : RankFeatureNames()) names.emplace_back(name);
  metrics["features"] = std::move(names);
  ml::ModelStore store(options.models_root, std::string(kRankerModelName));
  EMP_ASSIGN_OR_RETURN(
      ml::Artifact artifact,
      store.Publish({{"model.ubj", model}, {"features.txt", features}}, json::Dump(metrics)));
  store.Prune(5);

  ml::Report report("train search",
                    "xgboost rank:ndcg over the hybrid candidates; early stopping on 10 % of the queries");
  report.SetColumns({"NDCG@" + std::to_string(options.k), "queries"});
  for (auto& [key, value] : corpus->notes) report.AddNote(key, value);
  report.AddNote("version", artifact.version);
  report.AddNote("artifact", artifact.dir.string());
  report.AddNote("rows", std::to_string(examples.data.rows()) + " (" + std::to_string(t.train_queries) +
                             " training queries), " + std::to_string(t.booster->rounds()) + " rounds");
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", seconds);
  report.AddNote("took", took);
  report.AddRow("held-out queries: hybrid order (no model)",
                {t.valid_baseline, static_cast<double>(t.valid_queries)});
  report.AddRow("held-out queries: learned ranker", {t.valid_ndcg, static_cast<double>(t.valid_queries)});
  report.Print(out, options.json);
  return Status::Ok();
}

Result<ActivityTraining> TrainFromActivity(Index& index, const ProductVectors* vectors,
                                           const std::vector<Activity>& activities,
                                           const std::filesystem::path& models_root,
                                           size_t min_clicked_searches, std::stop_token stop) {
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, SemanticCandidates> semantic;
  RecentSimilarity similarity;
  if (vectors) {
    std::set<std::string> texts;
    for (const Activity& a : activities)
      if (a.kind == ActivityKind::kSearch && !a.query.empty()) texts.insert(a.query);
    std::vector<std::string> list(texts.begin(), texts.end());
    auto found = vectors->Candidates(list, 100, stop);
    if (found.size() < list.size()) return Cancelled("training stopped while embedding the queries");
    for (size_t i = 0; i < list.size(); ++i) semantic.emplace(list[i], std::move(found[i]));
    similarity = [vectors](std::span<const std::string> recent, std::span<const std::string> candidates) {
      return vectors->SimilarityToCentroid(recent, candidates);
    };
  }
  EMP_ASSIGN_OR_RETURN(ClickExamples ex, CollectClickExamples(index, activities, semantic, similarity,
                                                              INT64_MIN, INT64_MAX, stop));
  if (ex.searches_with_clicks < min_clicked_searches) {
    return FailedPrecondition("only " + std::to_string(ex.searches_with_clicks) +
                              " logged searches have a click; the search ranker needs " +
                              std::to_string(min_clicked_searches));
  }
  ClickModelParams params = DefaultClickModelParams();
  params.trees.stop = stop;
  EMP_ASSIGN_OR_RETURN(ClickModel m, FitClickModel(ex.data, ex.position, params));
  EMP_ASSIGN_OR_RETURN(std::string model, m.booster->Save());
  ActivityTraining t;
  t.searches = ex.users.size();
  t.searches_with_clicks = ex.searches_with_clicks;
  t.rows = ex.data.rows();
  t.click_rate = m.click_rate;
  for (double e : m.examination) t.examination.push_back(e / m.examination[0]);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::string features;
  boost::json::array names, examination;
  for (const std::string& name : PersonalRankFeatureNames()) {
    features += name + "\n";
    names.emplace_back(name);
  }
  for (double e : t.examination) examination.emplace_back(e);
  boost::json::object metrics{
      {"model", kRankerModelName},
      {"source", "activity"},
      {"objective", "position-based click model: count:poisson trees with log-examination offsets"},
      {"searches", t.searches},
      {"searches_with_clicks", t.searches_with_clicks},
      {"rows", t.rows},
      {"click_rate", t.click_rate},
      {"examination", std::move(examination)},
      {"semantic", vectors != nullptr},
      {"seconds", t.seconds},
      {"features", std::move(names)}};
  ml::ModelStore store(models_root, std::string(kRankerModelName));
  EMP_ASSIGN_OR_RETURN(
      t.artifact, store.Publish({{"model.ubj", model}, {"features.txt", features}}, json::Dump(metrics)));
  store.Prune(5);
  return t;
}

}  // namespace emporium::search
