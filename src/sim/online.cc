#include "sim/online.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdio>
#include <thread>

#include "platform/core/json.h"
#include "platform/core/random.h"

namespace emporium::sim {
namespace {

using boost::json::array;
using boost::json::object;

int64_t WallMs() {
  return UnixMillis(SystemClock::Get().WallNow());
}

double Ms(int64_t micros) {
  return static_cast<double>(micros) / 1000.0;
}

// The one shopper state per simulated account, created on first use.
class States {
 public:
  explicit States(size_t shoppers) {
    for (size_t i = 0; i < shoppers; ++i) states_.push_back(std::make_unique<UserState>());
  }
  UserState* Shopper(int index) { return states_[static_cast<size_t>(index)].get(); }
  UserState* Fraudster(const std::string& key) {
    std::lock_guard lock(mu_);
    auto& s = fraud_[key];
    if (!s) s = std::make_unique<UserState>();
    return s.get();
  }

 private:
  std::vector<std::unique_ptr<UserState>> states_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<UserState>> fraud_;
};

// Starts one session on the current thread; `done` runs when it has ended.
void StartSession(const World& world, const Population& population, States& states, ApiShop& shop,
                  const SimUser& u, bool fraud, std::string session_id, int64_t now_ms,
                  const ScheduleOptions& period, uint64_t seed, std::function<void()> done) {
  auto c = std::make_unique<Ctx>();
  c->world = &world;
  c->population = &population;
  c->user = &u;
  const bool takeover = u.fraud == FraudKind::kAccountTakeover && u.victim >= 0;
  c->account = takeover ? &population.shoppers()[static_cast<size_t>(u.victim)] : &u;
  c->state = takeover || !fraud ? states.Shopper(c->account->index) : states.Fraudster(u.key);
  c->rng = Rng(Hash(seed, session_id));
  c->device = &u.devices[c->rng.Below(u.devices.size())];
  c->session_id = std::move(session_id);
  c->now_ms = now_ms;
  c->period_start_ms = period.start_ms;
  c->period_end_ms = period.end_ms;
  shop.SessionStarted();
  Ctx* raw = c.release();
  Session s = fraud ? FraudSession(*raw, shop) : ShopperSession(*raw, shop);
  s.Start([raw, &shop, done] {
    delete raw;
    shop.SessionFinished();
    if (done) done();
  });
}

std::optional<int64_t> ScrapeRss(http::HttpClient& client, const std::string& base) {
  http::Request req = http::NewRequest(http::Method::kGet, "/metrics");
  auto resp = client.Send(base, req, std::chrono::steady_clock::now() + Millis(5000));
  if (!resp.ok() || resp->status != 200) return std::nullopt;
  const std::string_view name = "process_resident_memory_bytes ";
  size_t at = resp->body.find(std::string("\n") + std::string(name));
  if (at == std::string::npos) return std::nullopt;
  return static_cast<int64_t>(std::strtod(resp->body.c_str() + at + 1 + name.size(), nullptr));
}

std::string ProgressLine(const char* what, double elapsed, double total_s, const ShopCounts& counts,
                         const EndpointStats& total) {
  char line[256];
  const double rate = elapsed > 0 ? static_cast<double>(total.latency.count()) / elapsed : 0;
  std::snprintf(
      line, sizeof line,
      "%s %5.0f/%.0f s  sessions %lld started %lld done  %lld calls (%.0f/s)  errors %lld  p99 %.1f ms", what,
      elapsed, total_s, static_cast<long long>(counts.sessions_started),
      static_cast<long long>(counts.sessions_finished), static_cast<long long>(total.latency.count()), rate,
      static_cast<long long>(total.error_count()), Ms(total.latency.Percentile(0.99)));
  return line;
}

}  // namespace

Status CheckTarget(const TargetOptions& target) {
  const std::string_view url = target.base_url;
  if (!url.starts_with("http://") || url.size() <= 7)
    return InvalidArgument("--target must be an http:// URL, e.g. http://127.0.0.1:8080");
  std::string_view rest = url.substr(7);
  std::string_view host =
      rest.starts_with("[") ? rest.substr(0, rest.find(']') + 1) : rest.substr(0, rest.find_first_of(":/"));
  const bool loopback = host == "localhost" || host.starts_with("127.") || host == "[::1]";
  if (!loopback && !target.allow_remote)
    return InvalidArgument("--target " + target.base_url +
                           " is not on loopback: this is a load generator; pass --allow-remote to load a "
                           "deployment you are responsible for");
  return Status::Ok();
}

std::string LoadReport::ToText() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-32s %8s %8s %7s %9s %9s %9s %9s %9s\n", "endpoint", "calls", "ok",
                "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
  out += line;
  auto row = [&](const std::string& name, const EndpointStats& s) {
    std::snprintf(line, sizeof line, "%-32s %8lld %8lld %7lld %9.1f %9.1f %9.1f %9.1f %9.1f\n", name.c_str(),
                  static_cast<long long>(s.latency.count()), static_cast<long long>(s.ok),
                  static_cast<long long>(s.error_count()), Ms(s.latency.Percentile(0.5)),
                  Ms(s.latency.Percentile(0.9)), Ms(s.latency.Percentile(0.99)),
                  Ms(s.latency.Percentile(0.999)), Ms(s.latency.max()));
    out += line;
  };
  for (const auto& [name, s] : endpoints) row(name, s);
  row("all", total);
  std::snprintf(line, sizeof line,
                "\n%.0f s, %.1f calls/s, sessions %lld started / %lld finished, events sent %lld\n", seconds,
                seconds > 0 ? static_cast<double>(total.latency.count()) / seconds : 0.0,
                static_cast<long long>(counts.sessions_started),
                static_cast<long long>(counts.sessions_finished), static_cast<long long>(counts.events_sent));
  out += line;
  bool header = false;
  for (const auto& [name, s] : endpoints) {
    for (const auto& [kind, n] : s.errors) {
      if (!header) out += "errors by kind (with the first answer):\n";
      header = true;
      std::snprintf(line, sizeof line, "  %-48s %8lld  ", (name + " " + kind).c_str(),
                    static_cast<long long>(n));
      out += line;
      auto ex = s.examples.find(kind);
      out += (ex == s.examples.end() ? "" : ex->second.substr(0, 160)) + "\n";
    }
  }
  if (!counts.orders.empty()) out += "orders:\n";
  for (const auto& [k, n] : counts.orders) {
    std::snprintf(line, sizeof line, "  %-24s %8lld\n", k.c_str(), static_cast<long long>(n));
    out += line;
  }
  std::snprintf(line, sizeof line, "chargebacks filed %lld, fraud stopped before capture %lld\n",
                static_cast<long long>(counts.chargebacks_filed),
                static_cast<long long>(counts.chargebacks_skipped));
  out += line;
  if (!rss.empty()) out += "shop RSS (MiB) by minute:";
  for (const auto& [t, bytes] : rss) {
    std::snprintf(line, sizeof line, " %.0fs=%.1f", t, static_cast<double>(bytes) / (1 << 20));
    out += line;
  }
  if (!rss.empty()) out += "\n";
  return out;
}

std::string LoadReport::ToJson() const {
  auto stats = [](const EndpointStats& s) {
    object errors, examples;
    for (const auto& [k, n] : s.errors) errors[k] = n;
    for (const auto& [k, v] : s.examples) examples[k] = v;
    return object{{"calls", s.latency.count()},
                  {"ok", s.ok},
                  {"errors", std::move(errors)},
                  {"error_examples", std::move(examples)},
                  {"mean_ms", s.latency.mean() / 1000.0},
                  {"p50_ms", Ms(s.latency.Percentile(0.5))},
                  {"p90_ms", Ms(s.latency.Percentile(0.9))},
                  {"p99_ms", Ms(s.latency.Percentile(0.99))},
                  {"p999_ms", Ms(s.latency.Percentile(0.999))},
                  {"max_ms", Ms(s.latency.max())}};
  };
  object eps;
  for (const auto& [name, s] : endpoints) eps[name] = stats(s);
  object orders;
  for (const auto& [k, n] : counts.orders) orders[k] = n;
  array samples;
  for (const auto& [t, bytes] : rss) samples.push_back(object{{"seconds", t}, {"rss_bytes", bytes}});
  return json::Dump(object{{"seconds", seconds},
                           {"endpoints", std::move(eps)},
                           {"total", stats(total)},
                           {"sessions_started", counts.sessions_started},
                           {"sessions_finished", counts.sessions_finished},
                           {"events_sent", counts.events_sent},
                           {"orders", std::move(orders)},
                           {"chargebacks_filed", counts.chargebacks_filed},
                           {"fraud_stopped_before_capture", counts.chargebacks_skipped},
                           {"rss", std::move(samples)}});
}

Result<LoadReport> RunLoad(const World& world, const Population& population, const TargetOptions& target,
                           const LoadOptions& load) {
  EMP_RETURN_IF_ERROR(CheckTarget(target));
  if (load.rate <= 0) return InvalidArgument("--rate must be positive");
  const auto& shoppers = population.shoppers();
  if (shoppers.empty()) return InvalidArgument("--users must be at least 1");

  LoadGen gen(LoadGenOptions{target.workers});
  const SteadyTime t0 = std::chrono::steady_clock::now();
  const int64_t t0_wall = WallMs();
  ApiShop shop(world, gen,
               ApiShopOptions{target.base_url, target.sandboxes, target.chargeback_delay, true, t0_wall, t0,
                              target.seed});
  States states(shoppers.size());
  ScheduleOptions period{t0_wall, t0_wall + load.duration.count(), {}};
  http::HttpClient scraper;
  LoadReport report;
  std::mutex rss_mu;

  // Arrivals: a Poisson process, fixed in advance (the open loop); shoppers by activity.
  std::vector<double> cumulative;
  double sum = 0;
  for (const SimUser& u : shoppers) cumulative.push_back(sum += u.sessions_per_month);
  const double fraud_share = std::min(
      0.2, 0.5 * static_cast<double>(population.fraudsters().size()) / static_cast<double>(shoppers.size()));
  const std::string run = FastRandomHex(4);
  Rng rng(Hash(target.seed, "arrivals"));
  double t = 0;
  int64_t arrivals = 0;
  size_t next_fraudster = 0;
  for (;;) {
    t += rng.Exponential(1.0 / load.rate);
    if (t * 1000.0 >= static_cast<double>(load.duration.count())) break;
    const bool fraud = !population.fraudsters().empty() && rng.Chance(fraud_share);
    const SimUser* u;
    if (fraud) {
      u = &population.fraudsters()[next_fraudster++ % population.fraudsters().size()];
    } else {
      const size_t i = static_cast<size_t>(
          std::upper_bound(cumulative.begin(), cumulative.end(), rng.Uniform() * sum) - cumulative.begin());
      u = &shoppers[std::min(i, shoppers.size() - 1)];
    }
    const int64_t at_ms = static_cast<int64_t>(t * 1000.0);
    std::string session_id = "s" + run + "-" + std::to_string(arrivals++);
    gen.Schedule(t0 + Millis(at_ms), [&, u, fraud, at_ms, session_id] {
      StartSession(world, population, states, shop, *u, fraud, session_id, t0_wall + at_ms, period,
                   target.seed, {});
    });
  }
  auto sample = [&] {
    if (auto rss = ScrapeRss(scraper, target.base_url)) {
      std::lock_guard lock(rss_mu);
      report.rss.emplace_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                              *rss);
    }
  };
  sample();
  for (Millis at = load.sample_every; at <= load.duration; at += load.sample_every)
    gen.Schedule(t0 + at, sample);

  const SteadyTime end = t0 + load.duration;
  SteadyTime next_progress = t0 + Millis(5000);
  for (;;) {
    std::this_thread::sleep_for(Millis(200));
    const SteadyTime now = std::chrono::steady_clock::now();
    const ShopCounts counts = shop.counts();
    const bool arrivals_done = now >= end;
    const bool drained = counts.sessions_finished >= arrivals;
    if (arrivals_done && (drained || now >= end + load.drain)) break;
    if (target.progress && now >= next_progress) {
      next_progress = now + Millis(5000);
      target.progress(ProgressLine("load", std::chrono::duration<double>(now - t0).count(),
                                   static_cast<double>(load.duration.count()) / 1000.0, counts, gen.Total()));
    }
  }
  gen.Stop();
  report.endpoints = gen.Stats();
  report.total = gen.Total();
  report.counts = shop.counts();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

Result<HistoryResult> RunHistory(const World& world, const Population& population,
                                 const TargetOptions& target, const HistoryOptions& history) {
  EMP_RETURN_IF_ERROR(CheckTarget(target));
  const int concurrency = std::max(1, history.concurrency);
  LoadGen gen(LoadGenOptions{std::max(target.workers, concurrency * 2)});
  const SteadyTime t0 = std::chrono::steady_clock::now();
  ApiShopOptions shop_options{target.base_url, target.sandboxes, target.chargeback_delay, false, WallMs(), t0,
                              target.seed};
  shop_options.fetch_product_pages = false;
  ApiShop shop(world, gen, shop_options);
  States states(population.shoppers().size());
  const std::vector<PlannedSession> plan = PlanSessions(population, history.schedule, target.seed);

  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  size_t finished = 0;
  SteadyTime next_progress = t0 + Millis(5000);
  bool cancelled = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (history.cancel && history.cancel->load()) {
      cancelled = true;
      break;
    }
    const PlannedSession& s = plan[i];
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return running < concurrency; });
      ++running;
    }
    const SimUser& u = s.fraud ? population.fraudsters()[static_cast<size_t>(s.user)]
                               : population.shoppers()[static_cast<size_t>(s.user)];
    // Stable ids: a history interrupted and run again replays the same events and orders.
    std::string session_id = "h-" + u.key + "-" + std::to_string(s.number);
    gen.Schedule(std::chrono::steady_clock::now(), [&, session_id, at = s.at_ms, fraud = s.fraud, user = &u] {
      StartSession(world, population, states, shop, *user, fraud, session_id, at, history.schedule,
                   target.seed, [&] {
                     std::lock_guard lock(mu);
                     --running;
                     ++finished;
                     cv.notify_all();
                   });
    });
    if (target.progress && std::chrono::steady_clock::now() >= next_progress) {
      next_progress = std::chrono::steady_clock::now() + Millis(5000);
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char line[200];
      const double rate = elapsed > 0 ? static_cast<double>(i) / elapsed : 0;
      std::snprintf(line, sizeof line,
                    "history: %zu/%zu sessions (%.0f/s, ETA %.0f s), %lld calls, %lld errors", i, plan.size(),
                    rate, rate > 0 ? static_cast<double>(plan.size() - i) / rate : 0.0,
                    static_cast<long long>(gen.Total().latency.count()),
                    static_cast<long long>(gen.Total().error_count()));
      target.progress(line);
    }
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return running == 0; });
  }
  if (cancelled) {
    gen.Stop();
    return Status(Code::kCancelled, "stopped after " + std::to_string(finished) + " of " +
                                        std::to_string(plan.size()) + " sessions");
  }
  // Chargebacks filed after a delay are still queued: wait for them (bounded).
  const SteadyTime limit = std::chrono::steady_clock::now() + target.chargeback_delay * 2 + Millis(10'000);
  while (gen.pending() > 0 && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(Millis(200));
  gen.Stop();
  HistoryResult out;
  out.report.endpoints = gen.Stats();
  out.report.total = gen.Total();
  out.report.counts = shop.counts();
  out.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.user_ids = shop.user_ids();
  out.fraud_orders = shop.fraud_orders();
  return out;
}

}  // namespace emporium::sim
