#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "platform/auth/principal.h"
#include "platform/core/clock.h"
#include "platform/core/json.h"
#include "platform/core/random.h"
#include "platform/core/rfc3339.h"
#include "platform/http/problem.h"
#include "platform/http/url.h"
#include "platform/log/log.h"
#include "platform/ml/metrics/report.h"
#include "platform/module/runtime.h"
#include "platform/rpc/rpc.h"
#include "services/recommend/api.h"
#include "services/recommend/experiment.h"
#include "services/recommend/feed.h"
#include "services/recommend/lifecycle.h"
#include "services/recommend/offline.h"
#include "services/recommend/recommender.h"
#include "services/recommend/simulated.h"

namespace emporium::recommend {
namespace {

std::string NonNegative(std::string_view v) {
  char* end = nullptr;
  const std::string text(v);
  const double d = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(d) || d < 0) return "a number ≥ 0";
  return "";
}

std::string Text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

double Number(const config::Config& c, std::string_view key) {
  return std::strtod(c.Get(key).c_str(), nullptr);
}

std::vector<std::string> List(const std::string& csv) {
  std::vector<std::string> out;
  std::stringstream in(csv);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

constexpr size_t kMaxLimit = 50;
constexpr size_t kMaxProducts = 20;

std::filesystem::path Dir(Runtime& rt) {
  return rt.data_dir() / "recommend";
}

std::string Num(float v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

std::string ResponseJson(const std::string& id, Placement placement, const Variant& variant,
                         const Recommendations& r) {
  std::string out = "{\"recommendation_id\":" + json::Quote(id) + ",\"placement\":\"" +
                    std::string(PlacementName(placement)) + "\",\"model\":" + json::Quote(r.model) +
                    ",\"variant\":" + json::Quote(variant.name) + ",\"strategy\":\"" +
                    std::string(StrategyName(r.strategy)) +
                    "\",\"degraded\":" + (r.degraded ? "true" : "false");
  if (r.degraded) out += ",\"degraded_reason\":" + json::Quote(r.degraded_reason);
  out += ",\"items\":[";
  for (size_t i = 0; i < r.items.size(); ++i) {
    const RecommendedItem& item = r.items[i];
    out += (i ? ",{" : "{");
    out += "\"product_id\":" + json::Quote(item.product_id) + ",\"title\":" + json::Quote(item.title) +
           ",\"position\":" + std::to_string(i + 1) + ",\"score\":" + Num(item.score) +
           ",\"reason\":" + json::Quote(item.reason) + ",\"source\":\"" + item.source + "\"}";
  }
  return out + "]}";
}

class RecommendModule final : public emporium::Module {
 public:
  explicit RecommendModule(Runtime& rt)
      : rt_(rt),
        recommender_(graph_, DefaultModelOptions().half_life_days),
        experiment_(rt.config().Get("recommend-experiment"),
                    ParseVariants(rt.config().Get("recommend-variants")).value(), rt.metrics()) {}

  Status Start() override {
    EMP_ASSIGN_OR_RETURN(bus::Bus * bus, rt_.Bus());
    if (rt_.config().Bool("recommend-content")) {
      recommender_.SetContent(
          [this](std::span<const std::string> ids, size_t k) { return SimilarByText(ids, k); });
    }
    FeedOptions feed;
    feed.observer = [this](const bus::Event& e) { experiment_.Observe(e); };
    EMP_ASSIGN_OR_RETURN(feed_, Feed::Open(*bus, graph_, Dir(rt_) / "log.jsonl", std::move(feed)));
    store_ = std::make_unique<ml::ModelStore>(rt_.data_dir() / "models", std::string(kModelName));
    const auto poll =
        std::chrono::milliseconds(std::max<int64_t>(rt_.config().Int("recommend-model-poll-ms"), 10));
    watcher_ = std::make_unique<ml::Watcher>(*store_, poll, [this](const ml::Artifact& a) { Load(a); });
    watcher_->Start();
    feed_->Start();
    trainer_ = std::jthread([this](std::stop_token stop) { TrainLoop(stop); });
    EMP_RETURN_IF_ERROR(rt_.router().Add(http::Method::kGet, "/v1/recommendations",
                                         [this](http::Request& req) { return Handle(req); }));
    return rt_.router().Add(http::Method::kGet, "/v1/admin/recommendations/experiment",
                            [this](http::Request&) { return http::Response::Json(200, ExperimentJson()); },
                            {.access = auth::Access::kAdmin});
  }

  void Stop() override {
    if (trainer_.joinable()) {
      trainer_.request_stop();
      trainer_.join();
    }
    if (watcher_) watcher_->Stop();
    watcher_.reset();
    if (feed_) feed_->Stop();
    feed_.reset();
  }

 private:
  http::Response Handle(http::Request& req) {
    std::vector<http::FieldError> errors;
    RecommendRequest r;
    const auto placement = PlacementOf(req.QueryParam("placement").value_or("home"));
    if (!placement) errors.push_back({"placement", "one of home, product, cart, email"});
    r.placement = placement.value_or(Placement::kHome);
    if (auto limit = req.QueryParam("limit")) {
      char* end = nullptr;
      const long n = std::strtol(limit->c_str(), &end, 10);
      if (limit->empty() || *end != '\0' || n < 1 || n > static_cast<long>(kMaxLimit)) {
        errors.push_back({"limit", "an integer from 1 to " + std::to_string(kMaxLimit)});
      } else {
        r.limit = static_cast<size_t>(n);
      }
    }
    r.product_ids = List(req.QueryParam("product_id").value_or(""));
    if (r.product_ids.size() > kMaxProducts)
      errors.push_back({"product_id", "at most " + std::to_string(kMaxProducts) + " products"});
    for (const std::string& id : r.product_ids)
      if (id.size() > 128) errors.push_back({"product_id", "an id is at most 128 characters"});
    if (r.placement == Placement::kProduct && r.product_ids.size() != 1)
      errors.push_back({"product_id", "placement=product needs exactly one product_id"});
    if (!errors.empty()) return http::Problem(400, "invalid recommendation parameters", req.path, errors);
    if (req.principal) r.subject = req.principal->subject;
    const Variant& variant = experiment_.Assign(r.subject);
    const auto start = std::chrono::steady_clock::now();
    const bool slow = start.time_since_epoch().count() < slow_until_.load(std::memory_order_relaxed);
    r.strategy = slow ? Strategy::kPopularity : variant.strategy;
    Recommendations rec = recommender_.Recommend(r);
    experiment_.Served(variant);
    if (slow) {
      rec.degraded = true;
      rec.degraded_reason = "the models answer slowly: popular items for now";
    } else {
      Timed(std::chrono::steady_clock::now() - start);
    }
    return http::Response::Json(
        200, ResponseJson(experiment_.NewRecommendationId(variant), r.placement, variant, rec));
  }

  std::string ExperimentJson() const {
    boost::json::array variants;
    for (const VariantStats& s : experiment_.Stats()) {
      auto rate = [](double n, double d) { return d > 0 ? n / d : 0.0; };
      variants.push_back(boost::json::object{{"name", s.name},
                                             {"strategy", s.strategy},
                                             {"weight", s.weight},
                                             {"served", s.served},
                                             {"impressions", s.impressions},
                                             {"clicks", s.clicks},
                                             {"ctr", rate(s.clicks, s.impressions)},
                                             {"add_to_cart", s.add_to_cart},
                                             {"add_to_cart_rate", rate(s.add_to_cart, s.clicks)},
                                             {"conversions", s.conversions},
                                             {"conversion_rate", rate(s.conversions, s.clicks)},
                                             {"revenue", s.revenue}});
    }
    return json::Dump(boost::json::object{{"experiment", experiment_.name()},
                                          {"since", FormatRfc3339UnixMillis(started_ms_)},
                                          {"variants", std::move(variants)}});
  }

  // The content list: search's products like these by text (GET /v1/internal/search/similar),
  // in-process or remote. A failure (search not running, its product vectors off) is said once
  // and the list is left out for kContentPause before search is asked again.
  static constexpr Millis kContentTimeout{30};
  static constexpr std::chrono::seconds kContentPause{10};
  std::vector<std::string> SimilarByText(std::span<const std::string> ids, size_t k) {
    std::vector<std::string> out;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (now < content_paused_until_.load(std::memory_order_relaxed)) return out;
    std::string target = "/v1/internal/search/similar?limit=" + std::to_string(k) + "&ids=";
    for (size_t i = 0; i < ids.size(); ++i) target += (i ? "," : "") + http::PercentEncode(ids[i]);
    const auto failed = [&](const std::string& why) {
      content_paused_until_.store(
          (std::chrono::steady_clock::now() + kContentPause).time_since_epoch().count(),
          std::memory_order_relaxed);
      if (!content_failing_.exchange(true))
        log::Warn("recommend: no content list (products like these by text) for now", {{"error", why}});
      return std::vector<std::string>{};
    };
    auto client = rt_.Client("search");
    if (!client.ok()) return failed(client.status().ToString());
    http::Request req = http::NewRequest(http::Method::kGet, target);
    req.principal = auth::Principal{.subject = "client:recommend", .client_id = "recommend"};
    rpc::CallOptions options;
    options.timeout = kContentTimeout;
    options.idempotent = true;
    auto resp = (*client)->Call(std::move(req), options);
    if (!resp.ok()) return failed(resp.status().ToString());
    if (resp->status != 200)
      return failed("search answered " + std::to_string(resp->status) + ": " + resp->body);
    auto doc = json::Parse(resp->body);
    if (!doc.ok() || !doc->is_object() || !doc->as_object().contains("items"))
      return failed("search's answer is not a list of items");
    for (const auto& item : doc->as_object().at("items").as_array()) {
      if (const auto* id = item.is_object() ? item.as_object().if_contains("id") : nullptr;
          id && id->is_string())
        out.emplace_back(id->as_string());
    }
    if (content_failing_.exchange(false)) log::Info("recommend: the content list is back");
    return out;
  }

  // Degradation: after kSlowStreak requests in a row over recommend-latency-budget, lists are
  // popular items (said so) for kSlowCooldown, then the models are tried again.
  static constexpr int kSlowStreak = 3;
  static constexpr std::chrono::seconds kSlowCooldown{5};
  void Timed(std::chrono::steady_clock::duration took) {
    if (took <= budget_) {
      slow_streak_.store(0, std::memory_order_relaxed);
      return;
    }
    if (slow_streak_.fetch_add(1, std::memory_order_relaxed) + 1 < kSlowStreak) return;
    slow_streak_.store(0, std::memory_order_relaxed);
    slow_until_.store((std::chrono::steady_clock::now() + kSlowCooldown).time_since_epoch().count(),
                      std::memory_order_relaxed);
    log::Warn("recommend: lists are slower than the budget, popular items for a while",
              {{"took_ms", std::chrono::duration<double, std::milli>(took).count()},
               {"budget_ms", static_cast<int64_t>(budget_.count())},
               {"cooldown_s", static_cast<int64_t>(kSlowCooldown.count())}});
  }

  // A version made CURRENT (by a training round here or a `promote recommend` command) replaces
  // the models in use, unless it is what serves already.
  void Load(const ml::Artifact& a) {
    if (auto m = recommender_.models(); m && m->version == a.version) return;
    auto models = LoadModels(*store_, a, graph_);
    if (!models.ok()) {
      log::Warn("recommend: models not loaded, the previous ones stay",
                {{"version", a.version}, {"error", models.status().ToString()}});
      return;
    }
    recommender_.Swap(*models);
    log::Info("recommend: models loaded", {{"version", a.version}});
  }

  // A lifecycle round (lifecycle.h) every recommend-train-every when the graph has grown by
  // recommend-train-min-new interactions since the last one (and once at start).
  void TrainLoop(std::stop_token stop) {
    const Millis every = rt_.config().Duration("recommend-train-every");
    const auto min_new =
        static_cast<size_t>(std::max<int64_t>(1, rt_.config().Int("recommend-train-min-new")));
    LifecycleOptions options;
    options.min_slice = static_cast<size_t>(std::max<int64_t>(1, rt_.config().Int("recommend-min-slice")));
    size_t last_round = 0;
    bool first = true;
    for (;;) {
      if (!first) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, stop, every, [] { return false; });
      }
      if (stop.stop_requested()) return;
      const size_t now = graph_.interactions();
      const bool due = first ? now > 0 : now >= last_round + min_new;
      first = false;
      if (!due) continue;
      const std::shared_ptr<const Models> current = recommender_.models();
      auto round = TrainRound(graph_, *store_, current.get(), options, stop);
      if (!round.ok()) {
        if (round.status().code() != Code::kCancelled)
          log::Warn("recommend: training round failed", {{"error", round.status().ToString()}});
        continue;
      }
      if (!round->trained) continue;
      last_round = now;
      log::Info("recommend: models trained",
                {{"version", round->candidate->version},
                 {"promoted", round->promoted},
                 {"why", round->why},
                 {"interactions", static_cast<int64_t>(round->candidate->interactions)},
                 {"candidate_ndcg", round->candidate_score.ndcg},
                 {"current_ndcg", round->current_score.ndcg},
                 {"seconds", round->candidate->seconds}});
      if (round->promoted) recommender_.Swap(round->candidate);
    }
  }

  Runtime& rt_;
  Graph graph_;
  Recommender recommender_;
  Experiment experiment_;
  const Millis budget_ = rt_.config().Duration("recommend-latency-budget");
  std::atomic<int> slow_streak_{0};
  std::atomic<std::chrono::steady_clock::rep> slow_until_{0};
  std::atomic<std::chrono::steady_clock::rep> content_paused_until_{0};
  std::atomic<bool> content_failing_{false};
  int64_t started_ms_ = UnixMillis(SystemClock::Get().WallNow());
  std::unique_ptr<Feed> feed_;
  std::unique_ptr<ml::ModelStore> store_;
  std::unique_ptr<ml::Watcher> watcher_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread trainer_;
};

// A lifecycle round on this data directory's log (the server must be stopped, or it trains
// itself every recommend-train-every): the candidate, its score and the current model's on the
// held-out slice, and whether it was promoted.
int TrainCommand(Runtime& rt, const std::vector<std::string>&) {
  Graph graph;
  auto replayed = Restore(Dir(rt) / "log.jsonl", graph);
  if (!replayed.ok()) {
    std::cerr << "emporium train recommend: " << replayed.status().message() << "\n";
    return 1;
  }
  if (graph.interactions() == 0) {
    std::cerr << "emporium train recommend: no interactions in " << (Dir(rt) / "log.jsonl").string()
              << " (the server logs what it consumes there)\n";
    return 2;
  }
  ml::ModelStore store(rt.data_dir() / "models", std::string(kModelName));
  std::shared_ptr<Models> current;
  if (auto a = store.Current(); a.ok()) {
    auto m = LoadModels(store, *a, graph);
    if (m.ok()) current = *m;
  }
  LifecycleOptions options;
  options.min_slice = static_cast<size_t>(std::max<int64_t>(1, rt.config().Int("recommend-min-slice")));
  auto r = TrainRound(graph, store, current.get(), options);
  if (!r.ok()) {
    std::cerr << "emporium train recommend: " << r.status().message() << "\n";
    return 1;
  }
  ml::Report report("train recommend", r->why);
  report.AddNote("interactions", std::to_string(graph.interactions()));
  if (r->trained)
    report.AddNote("version", r->candidate->version + (r->promoted ? " (promoted)" : " (staged)"));
  if (current) report.AddNote("current", current->version);
  report.SetColumns({"slice users", "NDCG@10", "R@10"});
  if (r->trained && current) {
    report.AddRow("candidate", {static_cast<double>(r->candidate_score.users), r->candidate_score.ndcg,
                                r->candidate_score.recall});
    report.AddRow("current", {static_cast<double>(r->current_score.users), r->current_score.ndcg,
                              r->current_score.recall});
  }
  report.Print(std::cout, rt.config().Bool("json"));
  return 0;
}

// Makes a published version current: a running server swaps it in within recommend-model-poll-ms.
int PromoteCommand(Runtime& rt, const std::vector<std::string>&) {
  ml::ModelStore store(rt.data_dir() / "models", std::string(kModelName));
  const std::string version = rt.config().Get("version");
  if (version.empty()) {
    auto current = store.Current();
    for (const std::string& v : store.Versions())
      std::cout << v << (current.ok() && current->version == v ? "  (current)" : "") << "\n";
    return 0;
  }
  auto a = store.Promote(version);
  if (!a.ok()) {
    std::cerr << "emporium promote recommend: " << a.status().message() << "\n";
    return 2;
  }
  std::cout << "recommend: " << a->version << " is current\n";
  return 0;
}

int EvalCommand(Runtime& rt, const std::vector<std::string>& positional) {
  const config::Config& c = rt.config();
  std::string file = c.Get("interactions");
  if (file.empty() && positional.size() == 1) file = positional[0];
  if (file.empty() && c.Get("simulated").empty()) {
    std::cerr << "emporium eval recommend: --interactions FILE is required (a CSV: MovieLens ratings.csv, "
                 "or user,item[,weight][,timestamp])\n";
    return 2;
  }
  OfflineOptions options = DefaultOfflineOptions();
  const int64_t k = c.Int("k");
  if (k < 1 || k > 1000) {
    std::cerr << "emporium eval recommend: --k must be between 1 and 1000\n";
    return 2;
  }
  options.k = static_cast<size_t>(k);
  options.seed = static_cast<uint64_t>(c.Int("seed"));
  options.generators = List(c.Get("generators"));
  options.half_life_days = Number(c, "half-life-days");
  options.als.factors = static_cast<int>(c.Int("als-factors"));
  options.als.alpha = static_cast<float>(Number(c, "als-alpha"));
  options.als.regularization = static_cast<float>(Number(c, "als-regularization"));
  options.als.iterations = static_cast<int>(c.Int("als-iterations"));
  options.ease.lambda = Number(c, "ease-lambda");
  options.cooccur.neighbours = static_cast<size_t>(std::max<int64_t>(1, c.Int("cooccur-neighbours")));
  Status s = Status::Ok();
  if (!c.Get("simulated").empty()) {
    SimulatedOptions sim{.offline = options};
    sim.users = static_cast<size_t>(std::max<int64_t>(1, c.Int("users")));
    s = RunSimulatedEvalCommand(c.Get("simulated"), sim, c.Bool("json"), std::cout);
  } else {
    s = RunOfflineEvalCommand(file, options, c.Bool("json"), std::cout);
  }
  if (s.ok()) return 0;
  std::cerr << "emporium eval recommend: " << s.message() << "\n";
  return s.code() == Code::kNotFound || s.code() == Code::kInvalidArgument ? 2 : 1;
}

}  // namespace

ModuleDef Module() {
  using config::Type;
  const OfflineOptions d = DefaultOfflineOptions();
  return ModuleDef{
      .name = "recommend",
      .description = "Recommendations from behaviour: a live user-item graph, ALS and co-occurrence",
      .deps = {},
      .in_all = true,
      .keys = {{"recommend-variants", Type::kString, "fused",
                "The A/B variants: strategy=share, comma-separated (fused, ranked, popularity), e.g. "
                "fused=50,ranked=50.",
                [](std::string_view v) {
                  auto parsed = ParseVariants(v);
                  return parsed.ok() ? std::string() : parsed.status().message();
                }},
               {"recommend-experiment", Type::kString, "recommend-1",
                "The experiment's name: shoppers are bucketed by a hash of it and their id (a new name "
                "reshuffles them)."},
               {"recommend-latency-budget", Type::kDuration, "50ms",
                "A list slower than this, three times in a row, makes recommend serve popular items "
                "(degraded) for 5 s."},
               {"recommend-train-every", Type::kDuration, "1m",
                "How often recommend refits its models (when the graph grew)."},
               {"recommend-train-min-new", Type::kInt, "100",
                "New interactions since the last round that make recommend train a candidate."},
               {"recommend-min-slice", Type::kInt, "50",
                "Fewest newest interactions held back to judge a candidate against the current model."},
               {"recommend-content", Type::kBool, "true",
                "Whether product and home lists include products like the shopper's by text (search's "
                "product vectors, when search runs with the sentence encoder)."},
               {"recommend-model-poll-ms", Type::kInt, "5000",
                "How often recommend looks for a newly promoted model in <data-dir>/models/recommend."}},
      .make = [](Runtime& rt) { return std::make_unique<RecommendModule>(rt); },
      .commands =
          {Command{
               "eval recommend",
               "NDCG, precision, recall, MAP at k and coverage of every recommendation generator and the "
               "ranked "
               "hybrid "
               "on a file of interactions (a seeded per-user split), or on a simulation against its truth "
               "(--simulated).",
               {{"interactions", Type::kString, "",
                 "The interactions CSV (MovieLens ratings.csv, or user,item,...)."},
                {"simulated", Type::kString, "",
                 "A directory of emporium simulate offline (history.jsonl, truth.json): train on the first "
                 "75 % "
                 "of its "
                 "period, score at the cut against the simulator's truth."},
                {"users", Type::kInt, "1000", "--simulated: users scored at most."},
                {"k", Type::kInt, "10", "Rank cut-off."},
                {"seed", Type::kInt, "42", "Seed of the per-user 75/25 split."},
                {"generators", Type::kString, "", "Comma-separated generators to evaluate (default: all)."},
                {"half-life-days", Type::kString, Text(d.half_life_days),
                 "Half-life of a user's affinities (0: no decay).", NonNegative},
                {"als-factors", Type::kInt, std::to_string(d.als.factors), "ALS latent factors."},
                {"als-alpha", Type::kString, Text(d.als.alpha),
                 "ALS confidence slope: c = 1 + alpha * weight.", NonNegative},
                {"als-regularization", Type::kString, Text(d.als.regularization), "ALS L2 regularisation.",
                 NonNegative},
                {"als-iterations", Type::kInt, std::to_string(d.als.iterations), "ALS iterations."},
                {"ease-lambda", Type::kString, Text(d.ease.lambda), "EASE L2 regularisation.", NonNegative},
                {"cooccur-neighbours", Type::kInt, std::to_string(d.cooccur.neighbours),
                 "Most similar items cooccur keeps per item."},
                {"json", Type::kBool, "false", "Print the table as JSON."}},
               EvalCommand},
           Command{"train recommend",
                   "A lifecycle round on this data directory's log (server stopped): fit a candidate, "
                   "score it and the current model on the newest interactions, promote it if better.",
                   {{"json", Type::kBool, "false", "Print the result as JSON."}},
                   TrainCommand},
           Command{
               "promote recommend",
               "Make a published recommend model version current (a running server swaps it in); "
               "without --version, list the versions.",
               {{"version", Type::kString, "", "The version to make current (an older one: a rollback)."}},
               PromoteCommand}},
  };
}

}  // namespace emporium::recommend
