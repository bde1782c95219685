// Wiring of the search module: configuration, start-up (index, event consumer, vectors, the
// learned ranker and its watcher, routes) and the `search rebuild`, `eval search` and
// `train search` commands.
#include <iostream>
#include <mutex>

#include "platform/bus/bus.h"
#include "platform/log/log.h"
#include "platform/ml/encoder/encoder.h"
#include "platform/ml/registry/registry.h"
#include "platform/module/runtime.h"
#include "services/search/api.h"
#include "services/search/eval.h"
#include "services/search/events.h"
#include "services/search/http.h"
#include "services/search/index.h"
#include "services/search/ltr.h"
#include "services/search/rebuild.h"
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
    return AddRoutes(rt_.router(),
                     HttpDeps{*index_, ranker_, [this] { return RebuildNow(); }, vectors_.get()});
  }

  void Stop() override {
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

  Runtime& rt_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<ProductVectors> vectors_;
  std::unique_ptr<Indexer> indexer_;
  std::unique_ptr<ml::ModelStore> models_;
  std::unique_ptr<ml::Watcher> watcher_;
  LearnedRanker ranker_;
  std::mutex rebuild_mu_;
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

int EvalCommand(Runtime& rt, const std::vector<std::string>& positional) {
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
  if (rt.config().Bool("semantic")) {
    auto encoder = ml::SharedEncoder(ml::EncoderModelDir(rt.config()));
    if (encoder.ok()) options.encoder = *encoder;
  }
  return ExitCode(RunEvalCommand(file, options, std::filesystem::temp_directory_path(), std::cout),
                  "eval search");
}

int TrainCommand(Runtime& rt, const std::vector<std::string>& positional) {
  const std::string file = JudgmentsFile(rt, positional, "train search");
  if (file.empty()) return 2;
  auto encoder = ml::SharedEncoder(ml::EncoderModelDir(rt.config()));
  if (!encoder.ok()) {
    std::cerr << "emporium train search: " << encoder.status().message() << "\n";
    return 1;
  }
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
           "How often search looks for a newly trained ranker in <data-dir>/models/search-ranker."}};
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
                  "NDCG@k of search over graded judgments (Home Depot CSV, .gz ok).",
                  {{"judgments", Type::kString, "", "The judgments file."},
                   {"k", Type::kInt, "10", "Rank cut-off of NDCG."},
                   {"semantic", Type::kBool, "true", "Also rank with the sentence encoder (when installed)."},
                   {"folds", Type::kInt, "5",
                    "Query-disjoint cross-validation folds of the learned ranker (0: none)."},
                   {"json", Type::kBool, "false", "Print the table as JSON."}},
                  EvalCommand},
              Command{"train search",
                      "Train the learned search ranker from graded judgments and publish it to "
                      "<data-dir>/models/search-ranker (a running server loads it within seconds).",
                      {{"judgments", Type::kString, "", "The judgments file."},
                       {"json", Type::kBool, "false", "Print the figures as JSON."}},
                      TrainCommand},
          },
  };
}

}  // namespace emporium::search
