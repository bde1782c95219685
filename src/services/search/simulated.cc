#include "services/search/simulated.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "platform/core/random.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/metrics/metrics.h"
#include "platform/ml/metrics/report.h"
#include "services/search/eval.h"
#include "services/search/product.h"
#include "services/search/vectors.h"
#include "sim/catalog.h"
#include "sim/truth.h"
#include "sim/world.h"

namespace emporium::search {
namespace {

// The simulated catalog's temporary index (and vectors, with an encoder); removed with the corpus.
Status BuildCorpus(const SimulatedEvalOptions& o, const std::filesystem::path& tmp_root, EvalCorpus& c) {
  c.dir = tmp_root / ("emporium-eval-sim-" + RandomHex(6));
  EMP_ASSIGN_OR_RETURN(c.index, Index::Open(c.dir));
  if (o.encoder) {
    EMP_ASSIGN_OR_RETURN(c.vectors, ProductVectors::Open(o.encoder, VectorsOptions{}));
    c.index->SetListener(c.vectors.get());
  }
  for (const std::string& doc : o.catalog_documents) {
    EMP_ASSIGN_OR_RETURN(ProductDoc p, ParseProduct(doc));
    EMP_RETURN_IF_ERROR(c.index->Upsert(p));
  }
  EMP_RETURN_IF_ERROR(c.index->Commit());
  if (c.vectors) {
    const auto started = std::chrono::steady_clock::now();
    auto last = started;
    EMP_RETURN_IF_ERROR(c.vectors->Drain([&](size_t done, size_t total) {
      if (std::chrono::steady_clock::now() - last < std::chrono::seconds(2) && done < total) return;
      last = std::chrono::steady_clock::now();
      std::fprintf(stderr, "\rembedding products: %zu / %zu", done, total);
    }));
    std::fprintf(stderr, "\n");
  }
  return Status::Ok();
}

// Semantic candidates of every text (none without vectors).
void AddCandidates(const ProductVectors* vectors, const std::set<std::string>& texts,
                   std::map<std::string, SemanticCandidates>& out) {
  if (!vectors) return;
  std::vector<std::string> todo;
  for (const std::string& t : texts)
    if (!out.count(t)) todo.push_back(t);
  auto found = vectors->Candidates(todo, 100);
  for (size_t i = 0; i < todo.size(); ++i) out.emplace(todo[i], std::move(found[i]));
}

// Scores beyond `depth` keep the retrieval order after the reordered ones, as LearnedRanker does.
double NdcgOf(const std::vector<double>& gains, std::vector<float> scores, size_t k,
              size_t depth = kClickRerankDepth) {
  for (size_t i = depth; i < scores.size(); ++i) scores[i] = -1e9f - static_cast<float>(i);
  std::vector<size_t> order(gains.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<double> ranked;
  for (size_t i : order) ranked.push_back(gains[i]);
  return ml::NdcgAtK(ranked, gains, k);
}

struct Mean {
  double sum = 0;
  size_t n = 0;
  void Add(double v) {
    sum += v;
    ++n;
  }
  double value() const { return n ? sum / static_cast<double>(n) : 0; }
};

}  // namespace

Result<SimulatedEvalResult> EvaluateSimulated(const std::filesystem::path& dir,
                                              const SimulatedEvalOptions& options,
                                              const std::filesystem::path& tmp_root) {
  EMP_ASSIGN_OR_RETURN(sim::GroundTruth truth, sim::GroundTruth::Load((dir / "truth.json").string()));
  EMP_ASSIGN_OR_RETURN(std::vector<Activity> activities, ReadSimulatorHistory(dir / "history.jsonl"));
  if (activities.empty()) return InvalidArgument("the simulator history has no activities");
  sim::SimCatalog catalog;
  for (const std::string& doc : options.catalog_documents) {
    EMP_ASSIGN_OR_RETURN(sim::SimProduct p, sim::ParseProduct(doc));
    catalog.products.push_back(std::move(p));
  }
  catalog.Index();
  const sim::World world(std::move(catalog), truth.seed());

  SimulatedEvalResult result;
  result.products = options.catalog_documents.size();
  result.activities = activities.size();
  EvalCorpus corpus;
  EMP_RETURN_IF_ERROR(BuildCorpus(options, tmp_root, corpus));
  result.semantic = corpus.vectors != nullptr;
  RecentSimilarity similarity;
  if (corpus.vectors) {
    similarity = [v = corpus.vectors.get()](std::span<const std::string> recent,
                                            std::span<const std::string> candidates) {
      return v->SimilarityToCentroid(recent, candidates);
    };
  }

  const int64_t first = activities.front().at_ms, last = activities.back().at_ms;
  const int64_t cut = first + static_cast<int64_t>(options.train_share * static_cast<double>(last - first));
  std::map<std::string, SemanticCandidates> semantic;
  std::set<std::string> texts;
  for (const Activity& a : activities)
    if (a.kind == ActivityKind::kSearch && a.at_ms < cut && !a.query.empty()) texts.insert(a.query);
  AddCandidates(corpus.vectors.get(), texts, semantic);

  EMP_ASSIGN_OR_RETURN(ClickExamples ex,
                       CollectClickExamples(*corpus.index, activities, semantic, similarity, first, cut));
  result.train_searches = ex.users.size();
  result.train_rows = ex.data.rows();
  EMP_ASSIGN_OR_RETURN(ClickModel personal, FitClickModel(ex.data, ex.position, options.params));
  EMP_ASSIGN_OR_RETURN(ClickModel plain,
                       FitClickModel(WithoutPersonalFeatures(ex.data), ex.position, options.params));
  result.click_rate = personal.click_rate;
  for (size_t k = 0; k < personal.examination.size(); ++k) {
    result.examination.push_back(personal.examination[k] / personal.examination[0]);
    result.true_examination.push_back(sim::ExaminationProbability(k + 1));
  }

  // The shoppers as of the cut.
  std::vector<Activity> before;
  for (const Activity& a : activities)
    if (a.at_ms < cut) before.push_back(a);
  ProfileBook book;
  EMP_RETURN_IF_ERROR(ApplyToProfiles(*corpus.index, before, book));
  std::vector<std::string> users;
  for (const std::string& u : truth.Users()) {
    auto p = book.Get("user:" + u);
    if (p && !p->empty()) users.push_back(u);
  }
  if (users.empty()) return InvalidArgument("no shopper has a profile before the cut");

  struct Sampled {
    std::string user, target, query;
  };
  std::vector<Sampled> sampled;
  sim::Rng rng(options.seed);
  for (size_t i = 0; i < options.queries; ++i) {
    const std::string& user = users[rng.Below(users.size())];
    auto target = truth.SampleWanted(user, rng, cut);
    if (!target) continue;
    auto at = world.catalog().index_of.find(*target);
    if (at == world.catalog().index_of.end()) continue;
    sim::QueryKind kind;
    std::string q = world.Query(static_cast<size_t>(at->second), rng, &kind);
    if (q.empty()) continue;
    sampled.push_back({user, *target, std::move(q)});
  }
  texts.clear();
  for (const Sampled& s : sampled) texts.insert(s.query);
  AddCandidates(corpus.vectors.get(), texts, semantic);

  Mean retrieval, plain_mean, withheld, personal_mean;
  for (const Sampled& s : sampled) {
    EMP_ASSIGN_OR_RETURN(CandidateCapture capture, CaptureCandidates(*corpus.index, s.query, semantic));
    const auto& hits = capture.hits;
    std::vector<double> gains;
    for (const Hit& h : hits) gains.push_back(truth.SearchGain(s.user, s.target, h.product_id, cut));
    if (ml::DcgAtK(std::vector<double>(gains), gains.size()) <= 0) {
      ++result.excluded;
      continue;
    }
    const QueryText text(capture.text);
    std::vector<float> order(hits.size());
    for (size_t i = 0; i < hits.size(); ++i) order[i] = -static_cast<float>(i);
    std::optional<UserProfile> profile = book.Get("user:" + s.user);
    EMP_ASSIGN_OR_RETURN(auto p0,
                         plain.booster->Predict(RankRows(text, hits, hits.size(), false, nullptr, {})));
    EMP_ASSIGN_OR_RETURN(
        auto p1, personal.booster->Predict(RankRows(text, hits, hits.size(), true, nullptr, similarity)));
    EMP_ASSIGN_OR_RETURN(
        auto p2, personal.booster->Predict(
                     RankRows(text, hits, hits.size(), true, profile ? &*profile : nullptr, similarity)));
    retrieval.Add(NdcgOf(gains, order, options.k));
    plain_mean.Add(NdcgOf(gains, p0, options.k));
    withheld.Add(NdcgOf(gains, p1, options.k));
    personal_mean.Add(NdcgOf(gains, p2, options.k));
  }
  result.queries = retrieval.n;
  result.retrieval_ndcg = retrieval.value();
  result.plain_ndcg = plain_mean.value();
  result.personal_withheld_ndcg = withheld.value();
  result.personal_ndcg = personal_mean.value();
  return result;
}

Status RunSimulatedEvalCommand(const std::filesystem::path& dir, const SimulatedEvalOptions& options,
                               const std::filesystem::path& tmp_root, std::ostream& out) {
  const auto started = std::chrono::steady_clock::now();
  EMP_ASSIGN_OR_RETURN(SimulatedEvalResult r, EvaluateSimulated(dir, options, tmp_root));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string ndcg = "NDCG@" + std::to_string(options.k);
  ml::Report report("search --simulated",
                    "personalization against the simulator's ground truth; gain = click appeal of a product "
                    "of the wanted category, +1 for the wanted product");
  char note[128];
  report.AddNote("history", dir.string());
  std::snprintf(note, sizeof note, "%zu products, %zu activities; candidates: %s", r.products, r.activities,
                r.semantic ? "hybrid (all-MiniLM-L6-v2 + BM25)" : "keyword (no sentence encoder)");
  report.AddNote("corpus", note);
  std::snprintf(note, sizeof note,
                "%zu searches before the cut (%.0f %% of the period), %zu rows, click rate %.3f",
                r.train_searches, 100 * options.train_share, r.train_rows, r.click_rate);
  report.AddNote("training", note);
  std::snprintf(note, sizeof note, "%zu sampled at the cut (%zu without a candidate of the wanted category)",
                r.queries, r.excluded);
  report.AddNote("queries", note);
  std::snprintf(note, sizeof note, "%.0f s", seconds);
  report.AddNote("run time", note);
  std::string estimated, simulator;
  for (size_t k = 0; k < r.examination.size(); ++k) {
    std::snprintf(note, sizeof note, "%s%.2f", k ? " " : "", r.examination[k]);
    estimated += note;
    std::snprintf(note, sizeof note, "%s%.2f", k ? " " : "", r.true_examination[k]);
    simulator += note;
  }
  report.AddNote("examination by position, relative to 1: estimated", estimated);
  report.AddNote("examination by position, relative to 1: simulator", simulator);
  report.SetColumns({ndcg, "queries"});
  const double q = static_cast<double>(r.queries);
  report.AddRow("retrieval order (fused candidates)", {r.retrieval_ndcg, q});
  report.AddRow("click-trained ranker, no shopper features", {r.plain_ndcg, q});
  report.AddRow("personal ranker, profile withheld", {r.personal_withheld_ndcg, q});
  report.AddRow("personal ranker", {r.personal_ndcg, q});
  report.Print(out, options.json);

  return Status::Ok();
}

}  // namespace emporium::search
