// The simulator module: `emporium simulate offline|online|history|truth`, and the demo history a
// new shop gets on its first `emporium up --simulator-demo=true` (what `make run` does).
#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "platform/core/json.h"
#include "platform/core/rfc3339.h"
#include "platform/http/client.h"
#include "platform/log/log.h"
#include "platform/module/runtime.h"
#include "sim/api.h"
#include "sim/offline.h"
#include "sim/online.h"
#include "sim/truth.h"

namespace emporium::sim {
namespace {

using config::Type;
constexpr int64_t kDayMs = 86'400'000;

std::string PositiveNumber(std::string_view v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  return ec == std::errc() && p == v.data() + v.size() && d > 0 && std::isfinite(d) ? ""
                                                                                    : "expected a number > 0";
}

std::string Fraction(std::string_view v) {
  double d = -1;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  return ec == std::errc() && p == v.data() + v.size() && d >= 0 && d <= 0.5
             ? ""
             : "expected a number in [0, 0.5]";
}

std::string AtLeastOne(std::string_view v) {
  return std::atoll(std::string(v).c_str()) >= 1 ? "" : "expected >= 1";
}

double Number(const config::Config& c, std::string_view key) {
  return std::strtod(c.Get(key).c_str(), nullptr);
}

std::string Base(const Runtime& rt) {
  return "http://127.0.0.1:" + std::to_string(rt.config().Int("http-port"));
}

// The catalog named by --catalog: "demo" (the catalog emporium up seeds), a JSONL file, or the
// shop at --shop when "shop".
Result<SimCatalog> CatalogFor(const config::Config& c) {
  const std::string& which = c.Get("catalog");
  if (which == "demo")
    return DemoCatalog(static_cast<uint64_t>(c.Int("catalog-seed")), static_cast<int>(c.Int("catalog-size")));
  if (which == "shop") {
    http::HttpClient client;
    return LoadCatalogFromApi(client, c.Get("shop"));
  }
  return LoadCatalogFile(which);
}

std::vector<config::Key> CommonKeys(const char* users, const char* catalog) {
  return {
      {"users", Type::kInt, users, "Simulated shoppers.", AtLeastOne},
      {"fraud-rate", Type::kString, "0.02", "Fraudsters per shopper (0..0.5).", Fraction},
      {"seed", Type::kInt, "42", "Seed: the same seed gives the same shoppers and behaviour."},
      {"catalog", Type::kString, catalog,
       "demo (the generated demo catalog), shop (the --shop's), or a JSONL file."},
      {"catalog-size", Type::kInt, "10000", "Products of the demo catalog (catalog-demo-size of the shop)."},
      {"json", Type::kBool, "false", "Print the summary or report as JSON."},
  };
}

std::vector<config::Key> OnlineKeys() {
  return {
      {"shop", Type::kString, "http://127.0.0.1:8080", "Base URL of the Emporium to drive."},
      {"allow-remote", Type::kBool, "false", "Allow a --shop that is not on loopback (you run it)."},
      {"sandboxes", Type::kString,
       "intents=http://127.0.0.1:8091,acquirer=http://127.0.0.1:8092,wallet=http://127.0.0.1:8093",
       "Payment sandboxes (provider=URL,...) the issuer files chargebacks with."},
      {"chargeback-delay", Type::kDuration, "60s", "Mean time from a fraudulent capture to its chargeback."},
      {"workers", Type::kInt, "64", "Concurrent calls the load generator can have in flight.", AtLeastOne},
      {"truth", Type::kString, "", "Write the ground truth (with the shop's user ids) to this file."},
  };
}

std::map<std::string, std::string> ParseSandboxes(const std::string& list) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < list.size()) {
    size_t comma = list.find(',', i);
    std::string entry = list.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    if (size_t eq = entry.find('='); eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return out;
}

TargetOptions TargetFrom(const config::Config& c) {
  TargetOptions t;
  t.base_url = c.Get("shop");
  t.allow_remote = c.Bool("allow-remote");
  t.sandboxes = ParseSandboxes(c.Get("sandboxes"));
  t.chargeback_delay = c.Duration("chargeback-delay");
  t.workers = static_cast<int>(c.Int("workers"));
  t.seed = static_cast<uint64_t>(c.Int("seed"));
  t.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  return t;
}

int OfflineCommand(Runtime& rt, const std::vector<std::string>&) {
  const config::Config& c = rt.config();
  if (c.Get("out").empty()) {
    std::cerr << "emporium simulate offline: --out=DIR is required\n";
    return 2;
  }
  auto start = ParseRfc3339UnixMillis(c.Get("start"));
  if (!start) {
    std::cerr << "emporium simulate offline: --start must be an RFC 3339 time, e.g. 2026-01-05T00:00:00Z\n";
    return 2;
  }
  const int days = static_cast<int>(c.Int("days"));
  auto promotions = c.Get("promotions") == "default"
                        ? Result<std::vector<std::pair<int, double>>>(DefaultPromotions(days))
                        : ParsePromotions(c.Get("promotions"));
  if (!promotions.ok()) {
    std::cerr << "emporium simulate offline: " << promotions.status().message() << "\n";
    return 2;
  }
  auto catalog = CatalogFor(c);
  if (!catalog.ok()) {
    std::cerr << "emporium simulate offline: " << catalog.status().message() << "\n";
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t seed = static_cast<uint64_t>(c.Int("seed"));
  World world(std::move(*catalog), seed);
  Population population = Population::Make(
      world, PopulationOptions{static_cast<int>(c.Int("users")), Number(c, "fraud-rate"), seed});
  OfflineOptions o;
  o.out_dir = c.Get("out");
  o.schedule = ScheduleOptions{*start, *start + days * kDayMs, std::move(*promotions)};
  o.seed = seed;
  o.threads = c.Int("threads") > 0 ? static_cast<int>(c.Int("threads"))
                                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.progress = [t0](size_t done, size_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = s > 0 ? static_cast<double>(done) / s : 0;
    std::fprintf(stderr, "simulate: %zu/%zu sessions  %.0f/s  ETA %.0f s\n", done, total, rate,
                 rate > 0 ? static_cast<double>(total - done) / rate : 0.0);
  };
  auto summary = RunOffline(world, population, o);
  if (!summary.ok()) {
    std::cerr << "emporium simulate offline: " << summary.status().message() << "\n";
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (c.Bool("json")) {
    std::cout << summary->ToJson() << "\n";
  } else {
    std::cout << "simulated " << c.Int("users") << " shoppers x " << days << " days in " << seconds
              << " s into " << o.out_dir.string() << "\n"
              << summary->ToText();
  }
  return 0;
}

int OnlineCommand(Runtime& rt, const std::vector<std::string>&) {
  const config::Config& c = rt.config();
  TargetOptions target = TargetFrom(c);
  if (Status s = CheckTarget(target); !s.ok()) {
    std::cerr << "emporium simulate online: " << s.message() << "\n";
    return 2;
  }
  auto catalog = CatalogFor(c);
  if (!catalog.ok()) {
    std::cerr << "emporium simulate online: " << catalog.status().message() << "\n";
    return 2;
  }
  const uint64_t seed = static_cast<uint64_t>(c.Int("seed"));
  World world(std::move(*catalog), seed);
  Population population = Population::Make(
      world, PopulationOptions{static_cast<int>(c.Int("users")), Number(c, "fraud-rate"), seed});
  LoadOptions load;
  load.rate = Number(c, "rate");
  load.duration = c.Duration("duration");
  load.sample_every = c.Duration("sample-every");
  auto report = RunLoad(world, population, target, load);
  if (!report.ok()) {
    std::cerr << "emporium simulate online: " << report.status().message() << "\n";
    return report.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  if (!c.Get("report").empty()) {
    std::ofstream out(c.Get("report"), std::ios::trunc);
    out << report->ToJson() << "\n";
  }
  if (!c.Get("truth").empty()) {
    const int64_t now = UnixMillis(SystemClock::Get().WallNow());
    GroundTruth truth = GroundTruth::From(world, population, now - load.duration.count(), now, {}, {});
    if (Status s = truth.Save(c.Get("truth")); !s.ok()) std::cerr << s.message() << "\n";
  }
  std::cout << (c.Bool("json") ? report->ToJson() + "\n" : report->ToText());
  return 0;
}

struct DemoSpec {
  int users = 0;
  int days = 0;
  double fraud_rate = 0;
  int concurrency = 0;
  uint64_t seed = 0;
  Millis chargeback_delay{0};
};

// Fills the shop at target with a history of `spec.days` days ending an hour ago, and writes the
// ground truth. Shared by `simulate history` and the demo.
Result<HistoryResult> History(const World& world, const Population& population, TargetOptions target,
                              const DemoSpec& spec, const std::string& truth_path,
                              const std::atomic<bool>* cancel) {
  const int64_t now = UnixMillis(SystemClock::Get().WallNow());
  HistoryOptions h;
  h.schedule =
      ScheduleOptions{now - spec.days * kDayMs - 3'600'000, now - 3'600'000, DefaultPromotions(spec.days)};
  h.concurrency = spec.concurrency;
  h.cancel = cancel;
  target.chargeback_delay = spec.chargeback_delay;
  EMP_ASSIGN_OR_RETURN(HistoryResult r, RunHistory(world, population, target, h));
  if (!truth_path.empty()) {
    std::filesystem::create_directories(std::filesystem::path(truth_path).parent_path());
    GroundTruth truth = GroundTruth::From(world, population, h.schedule.start_ms, h.schedule.end_ms,
                                          r.user_ids, r.fraud_orders);
    EMP_RETURN_IF_ERROR(truth.Save(truth_path));
  }
  return r;
}

int HistoryCommand(Runtime& rt, const std::vector<std::string>&) {
  const config::Config& c = rt.config();
  TargetOptions target = TargetFrom(c);
  if (Status s = CheckTarget(target); !s.ok()) {
    std::cerr << "emporium simulate history: " << s.message() << "\n";
    return 2;
  }
  auto catalog = CatalogFor(c);
  if (!catalog.ok()) {
    std::cerr << "emporium simulate history: " << catalog.status().message() << "\n";
    return 2;
  }
  DemoSpec spec{static_cast<int>(c.Int("users")),
                static_cast<int>(c.Int("days")),
                Number(c, "fraud-rate"),
                static_cast<int>(c.Int("concurrency")),
                static_cast<uint64_t>(c.Int("seed")),
                c.Duration("chargeback-delay")};
  World world(std::move(*catalog), spec.seed);
  Population population = Population::Make(world, PopulationOptions{spec.users, spec.fraud_rate, spec.seed});
  auto r = History(world, population, target, spec, c.Get("truth"), nullptr);
  if (!r.ok()) {
    std::cerr << "emporium simulate history: " << r.status().message() << "\n";
    return 1;
  }
  std::cout << (c.Bool("json") ? r->report.ToJson() + "\n" : r->report.ToText());
  return 0;
}

int TruthCommand(Runtime& rt, const std::vector<std::string>&) {
  const config::Config& c = rt.config();
  auto truth = GroundTruth::Load(c.Get("truth"));
  if (!truth.ok()) {
    std::cerr << "emporium simulate truth: " << truth.status().message() << "\n";
    return 2;
  }
  if (!c.Get("order").empty()) {
    std::cout << FraudKindName(truth->FraudOf(c.Get("order"))) << "\n";
    return 0;
  }
  auto want = truth->Want(c.Get("user"), c.Get("product"));
  if (!want) {
    std::cerr << "emporium simulate truth: unknown --user or --product\n";
    return 2;
  }
  std::cout << *want << "\n";
  return 0;
}

// The demo history: once per data directory, in the background, with progress in the log.
class SimulatorModule final : public emporium::Module {
 public:
  explicit SimulatorModule(Runtime& rt) : rt_(rt) {}

  Status Start() override {
    if (!rt_.config().Bool("simulator-demo")) return Status::Ok();
    const auto dir = rt_.data_dir() / "simulator";
    if (std::filesystem::exists(dir / "demo.done")) {
      log::Info("simulator: the demo history is already there", {{"dir", dir.string()}});
      return Status::Ok();
    }
    thread_ = std::thread([this, dir] { Run(dir); });
    return Status::Ok();
  }

  void Stop() override {
    cancel_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Waits for the shop to answer and its search to hold the catalog (search indexes from events).
  bool WaitForShop(const std::string& base, size_t* products) {
    http::HttpClient client;
    for (int i = 0; i < 1200 && !cancel_; ++i) {
      std::this_thread::sleep_for(Millis(100));
      auto ready = client.Send(base, http::NewRequest(http::Method::kGet, "/readyz"),
                               std::chrono::steady_clock::now() + Millis(2000));
      if (!ready.ok() || ready->status != 200) continue;
      auto search = client.Send(base, http::NewRequest(http::Method::kGet, "/v1/search?q=&page_size=1"),
                                std::chrono::steady_clock::now() + Millis(2000));
      if (!search.ok() || search->status != 200) continue;
      auto doc = json::Parse(search->body);
      if (!doc.ok() || !doc->is_object()) continue;
      auto total = doc->as_object().if_contains("total");
      if (total && total->is_int64() && static_cast<size_t>(total->as_int64()) + 50 >= *products) return true;
    }
    return false;
  }

  void Run(const std::filesystem::path& dir) {
    const config::Config& c = rt_.config();
    const std::string base = Base(rt_);
    http::HttpClient client;
    std::this_thread::sleep_for(Millis(200));
    auto catalog = Result<SimCatalog>(FailedPrecondition("the shop did not start"));
    for (int i = 0; i < 600 && !cancel_ && !catalog.ok(); ++i) {
      std::this_thread::sleep_for(Millis(200));
      catalog = LoadCatalogFromApi(client, base);
    }
    if (!catalog.ok()) {
      log::Warn("simulator: no demo history: the shop's catalog is not reachable",
                {{"detail", catalog.status().message()}});
      return;
    }
    size_t products = catalog->products.size();
    if (!WaitForShop(base, &products)) {
      log::Warn("simulator: no demo history: search did not index the catalog in time");
      return;
    }
    DemoSpec spec{static_cast<int>(c.Int("simulator-demo-users")),
                  static_cast<int>(c.Int("simulator-demo-days")),
                  0.03,
                  static_cast<int>(c.Int("simulator-demo-concurrency")),
                  static_cast<uint64_t>(c.Int("simulator-demo-seed")),
                  Millis(20'000)};
    log::Info("simulator: filling the demo history",
              {{"shoppers", spec.users}, {"days", spec.days}, {"products", products}});
    World world(std::move(*catalog), spec.seed);
    Population population =
        Population::Make(world, PopulationOptions{spec.users, spec.fraud_rate, spec.seed});
    TargetOptions target;
    target.base_url = base;
    target.seed = spec.seed;
    // The issuer files chargebacks where payment sends the money: the providers' configured URLs.
    for (auto& [name, url] : target.sandboxes)
      if (const std::string& configured = c.Get("payment-" + name + "-url"); !configured.empty())
        url = configured;
    target.progress = [](const std::string& line) { log::Info("simulator: " + line); };
    const auto t0 = std::chrono::steady_clock::now();
    auto r = History(world, population, target, spec, (dir / "truth.json").string(), &cancel_);
    if (!r.ok()) {
      log::Warn("simulator: the demo history stopped", {{"detail", r.status().message()}});
      return;
    }
    const auto& counts = r->report.counts;
    int64_t orders = 0;
    for (const auto& [_, n] : counts.orders) orders += n;
    log::Info("simulator: demo history done",
              {{"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
               {"sessions", counts.sessions_finished},
               {"events", counts.events_sent},
               {"orders", orders},
               {"fraud_orders", r->fraud_orders.size()},
               {"chargebacks", counts.chargebacks_filed},
               {"errors", r->report.total.error_count()}});
    std::ofstream(dir / "demo.done") << r->report.ToJson() << "\n";
  }

  Runtime& rt_;
  std::thread thread_;
  std::atomic<bool> cancel_{false};
};

}  // namespace

ModuleDef Module() {
  std::vector<Command> commands;
  std::vector<config::Key> offline = CommonKeys("10000", "demo");
  offline.insert(
      offline.end(),
      {{"days", Type::kInt, "30", "Simulated days.", AtLeastOne},
       {"start", Type::kString, "2026-01-05T00:00:00Z", "Start of the simulated period (RFC 3339)."},
       {"promotions", Type::kString, "default",
        "Promotion days DAY:FACTOR,... (default: a third in at x2 and five days before the end at x3)."},
       {"out", Type::kString, "", "Directory for history.jsonl, truth.json and summary.json."},
       {"catalog-seed", Type::kInt, "42", "Seed of the demo catalog (catalog-seed of the shop)."}});
  commands.push_back(
      Command{"simulate offline",
              "Simulate shoppers and fraudsters into files (history.jsonl, truth.json), fast and "
              "deterministic by --seed.",
              offline, OfflineCommand});
  std::vector<config::Key> online = CommonKeys("2000", "shop");
  auto online_keys = OnlineKeys();
  online.insert(online.end(), online_keys.begin(), online_keys.end());
  online.insert(online.end(),
                {{"rate", Type::kString, "1", "Session arrivals per second (open loop).", PositiveNumber},
                 {"duration", Type::kDuration, "60s", "How long sessions keep arriving."},
                 {"sample-every", Type::kDuration, "60s", "How often the shop's RSS is read from /metrics."},
                 {"report", Type::kString, "", "Write the JSON report to this file too."},
                 {"catalog-seed", Type::kInt, "42", "Seed of the demo catalog (with --catalog=demo)."}});
  commands.push_back(
      Command{"simulate online",
              "Open-loop load from simulated shoppers against a live shop's public API: latency "
              "percentiles per endpoint (from the planned send time), errors, the shop's RSS.",
              online, OnlineCommand});
  std::vector<config::Key> history = CommonKeys("2000", "shop");
  history.insert(history.end(), online_keys.begin(), online_keys.end());
  history.insert(
      history.end(),
      {{"days", Type::kInt, "28", "Days of history (at most 30: older events are refused).", AtLeastOne},
       {"concurrency", Type::kInt, "12", "Sessions at once.", AtLeastOne},
       {"catalog-seed", Type::kInt, "42", "Seed of the demo catalog (with --catalog=demo)."}});
  commands.push_back(
      Command{"simulate history",
              "Fill a live shop with the simulated past: weeks of behaviour, orders, fraud and its "
              "chargebacks (what the demo does), and write the ground truth.",
              history, HistoryCommand});
  commands.push_back(
      Command{"simulate truth",
              "Ask the ground truth: how much --user wants --product, or the fraud kind of --order.",
              {{"truth", Type::kString, "", "The truth.json of a simulation."},
               {"user", Type::kString, "", "A shop user id or a shopper key (u-000123)."},
               {"product", Type::kString, "", "A product id."},
               {"order", Type::kString, "", "An order id."}},
              TruthCommand});
  return ModuleDef{
      .name = "simulator",
      .description = "Shopper simulator: the demo history of a new shop (--simulator-demo)",
      .deps = {},
      .in_all = true,
      .keys =
          {
              {"simulator-demo", Type::kBool, "false",
               "Fill an empty shop with a simulated history in the background (make run sets it)."},
              {"simulator-demo-users", Type::kInt, "2000", "Shoppers of the demo history.", AtLeastOne},
              {"simulator-demo-days", Type::kInt, "21", "Days of the demo history (at most 30).",
               [](std::string_view v) -> std::string {
                 int64_t d = std::atoll(std::string(v).c_str());
                 return d >= 1 && d <= 29 ? "" : "expected 1..29";
               }},
              {"simulator-demo-seed", Type::kInt, "7", "Seed of the demo history."},
              {"simulator-demo-fraud-rate", Type::kString, "0.03",
               "Fraudsters per shopper in the demo (0..0.5).", Fraction},
              {"simulator-demo-concurrency", Type::kInt, "12", "Demo sessions at once.", AtLeastOne},
          },
      .make = [](Runtime& rt) { return std::make_unique<SimulatorModule>(rt); },
      .commands = std::move(commands),
  };
}

}  // namespace emporium::sim
