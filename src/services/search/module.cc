// Wiring of the search module: configuration, start-up (index, event consumer, vectors, the
// learned ranker and its watcher, routes) and the `search rebuild`, `eval search` and
// `train search` commands.
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "platform/bus/bus.h"
#include "platform/log/log.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/metrics/report.h"
#include "platform/ml/registry/registry.h"
#include "platform/module/runtime.h"
#include "services/catalog/api.h"
#include "services/search/activity.h"
#include "services/search/api.h"
#include "services/search/eval.h"
#include "services/search/events.h"
#include "services/search/http.h"
#include "services/search/index.h"
#include "services/search/ltr.h"
#include "services/search/rebuild.h"
#include "services/search/simulated.h"
#include "services/search/train.h"
#include "services/search/vectors.h"

namespace emporium::search {
namespace {

std::filesystem::path IndexDir(Runtime& rt) {
  const std::string& dir = rt.config().Get("search-index-dir");
  return dir.empty() ? rt.data_dir() / "search" : std::filesystem::path(dir);
}

// Trained models (platform/ml/registry): <data-dir>/models/<name>/.
std::filesystem::path ModelsRoot(Runtime& rt) {
  return rt.data_dir() / "models";
}

class SearchModule final : public emporium::Module {
 public:
  explicit SearchModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    EMP_ASSIGN_OR_RETURN(index_, Index::Open(IndexDir(rt_)));
    EMP_RETURN_IF_ERROR(StartVectors());
    if (vectors_) StartRanker();
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    EMP_ASSIGN_OR_RETURN(indexer_, Indexer::Subscribe(*bus, *index_));
    indexer_->Start();
    EMP_ASSIGN_OR_RETURN(feed_,
                         ActivityFeed::Open(*bus, *index_, profiles_, IndexDir(rt_) / "activity.jsonl"));
    feed_->Start();
    if (vectors_ && rt_.config().Duration("search-train-every") > Millis(0)) {
      trainer_ = std::jthread([this](std::stop_token stop) { TrainLoop(stop); });
    }
    return AddRoutes(rt_.router(),
                     HttpDeps{*index_, ranker_, [this] { return RebuildNow(); }, vectors_.get()});
  }

  void Stop() override {
    if (trainer_.joinable()) {
      trainer_.request_stop();
      trainer_.join();
    }
    if (feed_) feed_->Stop();
    feed_.reset();
    if (watcher_) watcher_->Stop();
    watcher_.reset();
    if (indexer_) indexer_->Stop();
    indexer_.reset();
    if (vectors_) vectors_->Stop();
    if (index_) index_->SetListener(nullptr);
    vectors_.reset();
    index_.reset();
  }

 private:
  Result<int64_t> RebuildNow() {
    std::lock_guard lock(rebuild_mu_);
    EMP_ASSIGN_OR_RETURN(rpc::ModuleClient * catalog, rt_.Client("catalog"));
    return Rebuild(*index_, *catalog);
  }

  // Semantic and hybrid search when the sentence encoder is installed; keyword search without.
  Status StartVectors() {
    if (!rt_.config().Bool("search-semantic")) return Status::Ok();
    auto encoder = ml::SharedEncoder(ml::EncoderModelDir(rt_.config()));
    if (!encoder.ok()) return Status::Ok();  // SharedEncoder logged how to install it
    EMP_ASSIGN_OR_RETURN(vectors_,
                         ProductVectors::Open(*encoder, VectorsOptions{.dir = IndexDir(rt_) / "vectors"}));
    EMP_ASSIGN_OR_RETURN(auto products, index_->Products());
    vectors_->Reconcile(products);
    index_->SetListener(vectors_.get());
    vectors_->Start();
    return Status::Ok();
  }

  // The learned ranker: the current model at start, each newly published one within seconds.
  void StartRanker() {
    ranker_.SetPersonalization(&profiles_, [v = vectors_.get()](std::span<const std::string> recent,
                                                                std::span<const std::string> candidates) {
      return v->SimilarityToCentroid(recent, candidates);
    });
    models_ = std::make_unique<ml::ModelStore>(ModelsRoot(rt_), std::string(kRankerModelName));
    const auto poll =
        std::chrono::milliseconds(std::max<int64_t>(rt_.config().Int("search-model-poll-ms"), 10));
    watcher_ = std::make_unique<ml::Watcher>(*models_, poll, [this](const ml::Artifact& a) {
      auto model = LoadRankerModel(*models_, a);
      if (!model.ok()) {
        log::Warn("search: ranker not loaded, the previous one stays",
                  {{"version", a.version}, {"error", model.status().ToString()}});
        return;
      }
      ranker_.Swap(*model);
      log::Info("search: ranker loaded", {{"version", a.version}});
    });
    watcher_->Start();
  }

  // Retrains the personal ranker from the activity log every search-train-every, when the
  // searches with a click grew by a fifth (or reached search-train-min-searches the first time).
  // A stop request ends a training in progress too (between queries, searches or boosting rounds).
  void TrainLoop(std::stop_token stop) {
    const Millis every = rt_.config().Duration("search-train-every");
    const auto min_searches =
        static_cast<size_t>(std::max<int64_t>(1, rt_.config().Int("search-train-min-searches")));
    size_t trained_on = 0;
    for (;;) {
      {
        std::unique_lock lock(stop_mu_);
        stop_cv_.wait_for(lock, stop, every, [] { return false; });
      }
      if (stop.stop_requested()) return;
      auto activities = ReadActivityLog(feed_->log_file());
      size_t clicked = 0;
      if (activities.ok()) {
        std::set<std::string> ids;
        for (const Activity& a : *activities)
          if (a.kind == ActivityKind::kSearchClick) ids.insert(a.search_id);
        clicked = ids.size();
      }
      if (activities.ok() && clicked >= min_searches && clicked * 5 >= trained_on * 6) {
        log::Info("search: training the personal ranker from the activity log",
                  {{"activities", static_cast<int64_t>(activities->size())},
                   {"clicked_searches", static_cast<int64_t>(clicked)}});
        auto t = TrainFromActivity(*index_, vectors_.get(), *activities, ModelsRoot(rt_), min_searches, stop);
        if (t.ok()) {
          trained_on = clicked;
          log::Info("search: personal ranker trained", {{"version", t->artifact.version},
                                                        {"searches", static_cast<int64_t>(t->searches)},
                                                        {"rows", static_cast<int64_t>(t->rows)},
                                                        {"seconds", t->seconds}});
        } else if (t.status().code() != Code::kCancelled) {
          log::Warn("search: personal ranker not trained", {{"error", t.status().ToString()}});
        }
      }
    }
  }

  Runtime& rt_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<ProductVectors> vectors_;
  std::unique_ptr<Indexer> indexer_;
  ProfileBook profiles_;
  std::unique_ptr<ActivityFeed> feed_;
  std::unique_ptr<ml::ModelStore> models_;
  std::unique_ptr<ml::Watcher> watcher_;
  LearnedRanker ranker_;
  std::mutex rebuild_mu_;
  std::mutex stop_mu_;
  std::condition_variable_any stop_cv_;
  std::jthread trainer_;
};

int RebuildCommand(Runtime& rt, const std::vector<std::string>&) {
  auto catalog = rt.Client("catalog");
  if (!catalog.ok()) {
    std::cerr
        << "emporium search rebuild: catalog is not reachable from this command: pass "
           "--remote=catalog=http://host:port, or POST /v1/search/rebuild (admin) on the running server\n";
    return 2;
  }
  auto index = Index::Open(IndexDir(rt));
  if (!index.ok()) {
    std::cerr << "emporium search rebuild: " << index.status().message() << "\n";
    return 1;
  }
  auto n = Rebuild(**index, **catalog, [](int64_t done) { std::cerr << "\rindexed " << done << std::flush; });
  std::cerr << "\n";
  if (!n.ok()) {
    std::cerr << "emporium search rebuild: " << n.status().ToString() << "\n";
    return 1;
  }
  std::cout << "indexed " << *n << " products into " << IndexDir(rt).string() << "\n";
  return 0;
}

// --judgments (or the first positional argument); "" after saying it is required.
std::string JudgmentsFile(Runtime& rt, const std::vector<std::string>& positional, std::string_view command) {
  std::string file = rt.config().Get("judgments");
  if (file.empty() && !positional.empty()) file = positional.front();
  if (file.empty()) {
    std::cerr << "emporium " << command
              << ": --judgments=FILE is required (CSV or CSV.gz: "
                 "product_uid,product_title,search_term,relevance)\n";
  }
  return file;
}

// 0, or the error on stderr and 2 for bad input, 1 for the rest.
int ExitCode(const Status& s, std::string_view command) {
  if (s.ok()) return 0;
  std::cerr << "emporium " << command << ": " << s.message() << "\n";
  return s.code() == Code::kNotFound || s.code() == Code::kInvalidArgument ? 2 : 1;
}

std::shared_ptr<const ml::SentenceEncoder> EncoderIfWanted(Runtime& rt) {
  if (!rt.config().Bool("semantic")) return nullptr;
  auto encoder = ml::SharedEncoder(ml::EncoderModelDir(rt.config()));
  return encoder.ok() ? *encoder : nullptr;
}

// --catalog: "demo" (the demo catalog of --catalog-seed and --catalog-size) or a JSONL file of
// product documents.
Result<std::vector<std::string>> CatalogDocuments(Runtime& rt) {
  const std::string& which = rt.config().Get("catalog");
  if (which == "demo") {
    return catalog::DemoProductDocuments(static_cast<uint64_t>(rt.config().Int("catalog-seed")),
                                         static_cast<int>(rt.config().Int("catalog-size")), 0);
  }
  std::ifstream in(which);
  if (!in) return NotFound("cannot read catalog file " + which);
  std::vector<std::string> docs;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) docs.push_back(line);
  return docs;
}

int SimulatedEvalCommand(Runtime& rt) {
  SimulatedEvalOptions options;
  options.k = static_cast<size_t>(rt.config().Int("k"));
  options.json = rt.config().Bool("json");
  options.encoder = EncoderIfWanted(rt);
  options.queries = static_cast<size_t>(std::max<int64_t>(1, rt.config().Int("queries")));
  options.seed = static_cast<uint64_t>(rt.config().Int("seed"));
  auto docs = CatalogDocuments(rt);
  if (!docs.ok()) return ExitCode(docs.status(), "eval search");
  options.catalog_documents = std::move(*docs);
  return ExitCode(RunSimulatedEvalCommand(rt.config().Get("simulated"), options,
                                          std::filesystem::temp_directory_path(), std::cout),
                  "eval search");
}

int EvalCommand(Runtime& rt, const std::vector<std::string>& positional) {
  if (!rt.config().Get("simulated").empty()) return SimulatedEvalCommand(rt);
  const std::string file = JudgmentsFile(rt, positional, "eval search");
  if (file.empty()) return 2;
  int64_t k = rt.config().Int("k");
  if (k < 1 || k > 1000) {
    std::cerr << "emporium eval search: --k must be between 1 and 1000\n";
    return 2;
  }
  int64_t folds = rt.config().Int("folds");
  if (folds != 0 && (folds < 2 || folds > 20)) {
    std::cerr << "emporium eval search: --folds must be 0 (no learned ranker) or between 2 and 20\n";
    return 2;
  }
  EvalCommandOptions options{
      .k = static_cast<size_t>(k), .json = rt.config().Bool("json"), .folds = static_cast<size_t>(folds)};
  options.encoder = EncoderIfWanted(rt);
  return ExitCode(RunEvalCommand(file, options, std::filesystem::temp_directory_path(), std::cout),
                  "eval search");
}

// The personal ranker from this data directory's activity log (the server must be stopped: it
// holds the index, and trains itself every search-train-every).
Status TrainFromActivityLog(Runtime& rt, std::shared_ptr<const ml::SentenceEncoder> encoder, bool json) {
  auto index = Index::Open(IndexDir(rt));
  if (!index.ok()) {
    return FailedPrecondition("cannot open the search index (" + index.status().message() +
                              "); a running server trains its ranker from the activity log itself");
  }
  EMP_ASSIGN_OR_RETURN(auto vectors, ProductVectors::Open(std::move(encoder),
                                                          VectorsOptions{.dir = IndexDir(rt) / "vectors"}));
  EMP_ASSIGN_OR_RETURN(auto products, (*index)->Products());
  vectors->Reconcile(products);
  EMP_RETURN_IF_ERROR(vectors->Drain());
  const auto log_file = IndexDir(rt) / "activity.jsonl";
  EMP_ASSIGN_OR_RETURN(std::vector<Activity> activities, ReadActivityLog(log_file));
  EMP_ASSIGN_OR_RETURN(ActivityTraining t,
                       TrainFromActivity(**index, vectors.get(), activities, ModelsRoot(rt), 1));
  ml::Report report("train search",
                    "personal ranker from the activity log: regression EM over the logged clicks");
  report.AddNote("activity log", log_file.string());
  report.AddNote("version", t.artifact.version);
  report.AddNote("artifact", t.artifact.dir.string());
  std::string exam;
  char buf[64];
  for (size_t k = 0; k < t.examination.size(); ++k) {
    std::snprintf(buf, sizeof buf, "%s%.2f", k ? " " : "", t.examination[k]);
    exam += buf;
  }
  report.AddNote("examination by position, relative to 1", exam);
  report.SetColumns({"value"});
  report.AddRow("searches", {static_cast<double>(t.searches)});
  report.AddRow("searches with a click", {static_cast<double>(t.searches_with_clicks)});
  report.AddRow("rows", {static_cast<double>(t.rows)});
  report.AddRow("click rate", {t.click_rate});
  report.AddRow("seconds", {t.seconds});
  report.Print(std::cout, json);
  return Status::Ok();
}

int TrainCommand(Runtime& rt, const std::vector<std::string>& positional) {
  auto encoder = ml::SharedEncoder(ml::EncoderModelDir(rt.config()));
  if (!encoder.ok()) {
    std::cerr << "emporium train search: " << encoder.status().message() << "\n";
    return 1;
  }
  std::string file = rt.config().Get("judgments");
  if (file.empty() && !positional.empty()) file = positional.front();
  if (file.empty())
    return ExitCode(TrainFromActivityLog(rt, *encoder, rt.config().Bool("json")), "train search");
  TrainCommandOptions options{
      .json = rt.config().Bool("json"), .encoder = *encoder, .models_root = ModelsRoot(rt)};
  return ExitCode(RunTrainCommand(file, options, std::filesystem::temp_directory_path(), std::cout),
                  "train search");
}

}  // namespace

std::vector<config::Key> ConfigKeys() {
  return {{"search-index-dir", config::Type::kString, "",
           "Directory of the Xapian product index (default <data-dir>/search)."},
          {"search-semantic", config::Type::kBool, "true",
           "Semantic and hybrid search with the sentence encoder (off, or without the model: keyword only)."},
          {"search-model-poll-ms", config::Type::kInt, "5000",
           "How often search looks for a newly trained ranker in <data-dir>/models/search-ranker."},
          {"search-train-every", config::Type::kDuration, "5m",
           "How often search retrains its personal ranker from the activity log (0s: never)."},
          {"search-train-min-searches", config::Type::kInt, "100",
           "Searches with a click the activity log needs before search trains a ranker from it."}};
}

ModuleDef Module() {
  using config::Type;
  return ModuleDef{
      .name = "search",
      .description = "Product search (Xapian) fed by catalog events",
      .deps = {},
      .in_all = true,
      .keys = ConfigKeys(),
      .make = [](Runtime& rt) { return std::make_unique<SearchModule>(rt); },
      .commands =
          {
              Command{"search rebuild",
                      "Re-index every product from catalog's API (the server must be stopped; "
                      "catalog named by --remote). A running server: POST /v1/search/rebuild.",
                      {},
                      RebuildCommand},
              Command{
                  "eval search",
                  "NDCG@k of search over graded judgments (Home Depot CSV, .gz ok), or of personalized "
                  "ranking against a simulation's ground truth (--simulated).",
                  {{"judgments", Type::kString, "", "The judgments file."},
                   {"simulated", Type::kString, "",
                    "A directory of emporium simulate offline (history.jsonl, truth.json): train on its "
                    "clicks and measure personalization against its truth."},
                   {"catalog", Type::kString, "demo",
                    "--simulated: the catalog it ran on: demo (of --catalog-seed, --catalog-size) or a JSONL "
                    "file."},
                   {"catalog-seed", Type::kInt, "42", "--simulated: seed of the demo catalog."},
                   {"catalog-size", Type::kInt, "10000", "--simulated: products of the demo catalog."},
                   {"queries", Type::kInt, "2000", "--simulated: sampled queries to score."},
                   {"seed", Type::kInt, "7", "--simulated: seed of the sampled queries."},
                   {"k", Type::kInt, "10", "Rank cut-off of NDCG."},
                   {"semantic", Type::kBool, "true", "Also rank with the sentence encoder (when installed)."},
                   {"folds", Type::kInt, "5",
                    "Query-disjoint cross-validation folds of the learned ranker (0: none)."},
                   {"json", Type::kBool, "false", "Print the table as JSON."}},
                  EvalCommand},
              Command{"train search",
                      "Train the learned search ranker from graded judgments (--judgments), or the "
                      "personal ranker from this data directory's activity log (without), and publish it to "
                      "<data-dir>/models/search-ranker (a running server loads it within seconds).",
                      {{"judgments", Type::kString, "", "The judgments file (none: the activity log)."},
                       {"json", Type::kBool, "false", "Print the figures as JSON."}},
                      TrainCommand},
          },
  };
}

}  // namespace emporium::search
