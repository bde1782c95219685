#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "platform/module/runtime.h"
#include "services/recommend/api.h"
#include "services/recommend/offline.h"

namespace emporium::recommend {
namespace {

class RecommendModule final : public emporium::Module {
 public:
  Status Start() override { return Status::Ok(); }
};

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

int EvalCommand(Runtime& rt, const std::vector<std::string>& positional) {
  const config::Config& c = rt.config();
  std::string file = c.Get("interactions");
  if (file.empty() && positional.size() == 1) file = positional[0];
  if (file.empty()) {
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
  Status s = RunOfflineEvalCommand(file, options, c.Bool("json"), std::cout);
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
      .description = "Recommendations from behaviour (offline evaluation so far)",
      .deps = {},
      .in_all = false,
      .keys = {},
      .make = [](Runtime&) { return std::make_unique<RecommendModule>(); },
      .commands = {Command{
          "eval recommend",
          "NDCG, precision, recall, MAP at k and coverage of every recommendation generator on a file of "
          "interactions (a seeded per-user split).",
          {{"interactions", Type::kString, "",
            "The interactions CSV (MovieLens ratings.csv, or user,item,...)."},
           {"k", Type::kInt, "10", "Rank cut-off."},
           {"seed", Type::kInt, "42", "Seed of the per-user 75/25 split."},
           {"generators", Type::kString, "", "Comma-separated generators to evaluate (default: all)."},
           {"half-life-days", Type::kString, Text(d.half_life_days),
            "Half-life of a user's affinities (0: no decay).", NonNegative},
           {"als-factors", Type::kInt, std::to_string(d.als.factors), "ALS latent factors."},
           {"als-alpha", Type::kString, Text(d.als.alpha), "ALS confidence slope: c = 1 + alpha * weight.",
            NonNegative},
           {"als-regularization", Type::kString, Text(d.als.regularization), "ALS L2 regularisation.",
            NonNegative},
           {"als-iterations", Type::kInt, std::to_string(d.als.iterations), "ALS iterations."},
           {"ease-lambda", Type::kString, Text(d.ease.lambda), "EASE L2 regularisation.", NonNegative},
           {"cooccur-neighbours", Type::kInt, std::to_string(d.cooccur.neighbours),
            "Most similar items cooccur keeps per item."},
           {"json", Type::kBool, "false", "Print the table as JSON."}},
          EvalCommand}},
  };
}

}  // namespace emporium::recommend
