#include "services/search/clicks.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>
#include <unordered_map>

namespace emporium::search {
namespace {

constexpr int64_t kPurchaseWindowMs = 7LL * 86'400'000;

struct Key {
  std::string user, product;
  bool operator<(const Key& o) const { return std::tie(user, product) < std::tie(o.user, o.product); }
};

// A hit for a product shown but not among the query's candidates now: no retrieval features.
Hit HitOf(const std::string& id, const ProductFacts& f) {
  Hit h;
  h.product_id = id;
  h.title = f.title;
  h.category = f.category;
  h.brand = f.brand;
  h.price = f.price;
  h.in_stock = f.in_stock;
  h.rating = f.rating;
  h.rating_count = f.rating_count;
  return h;
}

}  // namespace

Result<CandidateCapture> CaptureCandidates(Index& index, const std::string& text,
                                           const std::map<std::string, SemanticCandidates>& semantic) {
  SearchOptions options;
  options.facets = false;
  options.window = kRerankDepth;
  Query q;
  q.text = text;
  q.page_size = 10;
  auto sem = semantic.find(text);
  q.mode = sem == semantic.end() ? SearchMode::kKeyword : SearchMode::kHybrid;
  CandidateCapture capture;
  EMP_RETURN_IF_ERROR(
      index.Search(q, std::nullopt, capture, options, sem == semantic.end() ? nullptr : &sem->second)
          .status());
  return capture;
}

Result<ClickExamples> CollectClickExamples(Index& index, const std::vector<Activity>& activities,
                                           const std::map<std::string, SemanticCandidates>& semantic,
                                           const RecentSimilarity& similarity, int64_t from_ms,
                                           int64_t until_ms, std::stop_token stop) {
  // Clicks by search, purchases by shopper and product.
  std::map<std::string, std::set<std::string>> clicked;
  std::map<Key, std::vector<int64_t>> bought;
  std::vector<std::string> ids;
  for (const Activity& a : activities) {
    if (a.kind == ActivityKind::kSearchClick) clicked[a.search_id].insert(a.product_id);
    if (a.kind == ActivityKind::kPurchase) bought[{a.user, a.product_id}].push_back(a.at_ms);
    if (SignalOf(a.kind)) ids.push_back(a.product_id);
    if (a.kind == ActivityKind::kSearch) {
      for (size_t i = 0; i < a.results.size() && i < kClickDepth; ++i) ids.push_back(a.results[i]);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  EMP_ASSIGN_OR_RETURN(auto found, index.Facts(ids));
  std::unordered_map<std::string, ProductFacts> facts;
  for (size_t i = 0; i < ids.size(); ++i)
    if (found[i]) facts.emplace(ids[i], std::move(*found[i]));

  ClickExamples ex;
  ex.data.feature_names = PersonalRankFeatureNames();
  ex.data.cols = PersonalRankFeatureNames().size();
  ProfileBook book;
  for (const Activity& a : activities) {
    if (auto signal = SignalOf(a.kind)) {
      auto f = facts.find(a.product_id);
      if (f != facts.end()) book.Add(a.user, *signal, a.product_id, f->second, a.at_ms);
      continue;
    }
    if (a.at_ms < from_ms || a.at_ms >= until_ms || a.results.empty() || a.query.empty()) continue;
    if (stop.stop_requested()) return Cancelled("stopped while collecting the click examples");
    EMP_ASSIGN_OR_RETURN(CandidateCapture capture, CaptureCandidates(index, a.query, semantic));
    auto sem = semantic.find(a.query);
    std::unordered_map<std::string, const Hit*> by_id;
    for (const Hit& h : capture.hits) by_id.emplace(h.product_id, &h);
    std::vector<Hit> shown;
    std::vector<uint8_t> positions;
    std::vector<std::string> lookup;
    for (size_t i = 0; i < a.results.size() && i < kClickDepth; ++i) {
      auto c = by_id.find(a.results[i]);
      if (c != by_id.end()) {
        shown.push_back(*c->second);
      } else {
        auto f = facts.find(a.results[i]);
        if (f == facts.end()) continue;  // no longer in the catalog
        shown.push_back(HitOf(a.results[i], f->second));
        lookup.push_back(a.results[i]);
      }
      positions.push_back(static_cast<uint8_t>(i));
    }
    if (shown.empty()) continue;
    if (!lookup.empty() && sem != semantic.end() && sem->second.similarity_of) {
      std::vector<float> sims = sem->second.similarity_of(lookup);
      size_t j = 0;
      for (Hit& h : shown) {
        if (j >= lookup.size() || j >= sims.size() || h.product_id != lookup[j]) continue;
        if (!std::isnan(sims[j])) {
          h.similarity = sims[j];
          h.has_similarity = true;
        }
        ++j;
      }
    }
    std::optional<UserProfile> profile = book.Get(a.user);
    const std::vector<float> rows = RankRows(QueryText(capture.text.empty() ? a.query : capture.text), shown,
                                             shown.size(), true, profile ? &*profile : nullptr, similarity);
    const auto& clicks = clicked[a.search_id];
    ex.offsets.push_back(ex.data.rows());
    ex.users.push_back(a.user);
    ex.at_ms.push_back(a.at_ms);
    if (!clicks.empty()) ++ex.searches_with_clicks;
    for (size_t i = 0; i < shown.size(); ++i) {
      const bool click = clicks.count(shown[i].product_id) > 0;
      EMP_RETURN_IF_ERROR(ex.data.AddRow(std::span<const float>(rows).subspan(i * ex.data.cols, ex.data.cols),
                                         click ? 1.0f : 0.0f));
      float weight = 1;
      if (click) {
        auto b = bought.find({a.user, shown[i].product_id});
        if (b != bought.end() && std::any_of(b->second.begin(), b->second.end(), [&](int64_t t) {
              return t >= a.at_ms && t - a.at_ms <= kPurchaseWindowMs;
            }))
          weight = kPurchaseWeight;
      }
      ex.data.weights.push_back(weight);
      ex.position.push_back(positions[i]);
    }
  }
  ex.offsets.push_back(ex.data.rows());
  return ex;
}

ml::Dataset WithoutPersonalFeatures(const ml::Dataset& data) {
  const size_t keep = RankFeatureNames().size();
  ml::Dataset out;
  out.cols = keep;
  out.feature_names = RankFeatureNames();
  out.labels = data.labels;
  out.weights = data.weights;
  out.values.reserve(data.rows() * keep);
  for (size_t r = 0; r < data.rows(); ++r) {
    const auto begin = data.values.begin() + static_cast<std::ptrdiff_t>(r * data.cols);
    out.values.insert(out.values.end(), begin, begin + static_cast<std::ptrdiff_t>(keep));
  }
  return out;
}

ClickModelParams DefaultClickModelParams() {
  ClickModelParams p;
  p.trees.objective = "count:poisson";
  p.trees.rounds = 200;
  p.trees.max_depth = 5;
  p.trees.eta = 0.1;
  p.trees.subsample = 0.8;
  p.trees.colsample_bytree = 0.9;
  p.trees.min_child_weight = 5;
  p.trees.extra = {{"tree_method", "hist"}};
  return p;
}

Result<ClickModel> FitClickModel(const ml::Dataset& data, const std::vector<uint8_t>& position,
                                 const ClickModelParams& params) {
  const size_t n = data.rows();
  if (n == 0 || position.size() != n) return InvalidArgument("no click rows to learn from");
  std::vector<std::vector<size_t>> at(kClickDepth);
  double total_clicks = 0;
  for (size_t i = 0; i < n; ++i) {
    if (position[i] >= kClickDepth) return InvalidArgument("a click row below the click depth");
    at[position[i]].push_back(i);
    total_clicks += data.labels[i];
  }
  if (total_clicks == 0) return InvalidArgument("no clicks to learn from");
  auto weight = [&](size_t i) { return data.weights.empty() ? 1.0 : static_cast<double>(data.weights[i]); };
  ClickModel m;
  m.click_rate = total_clicks / static_cast<double>(n);
  // Start from the click rate by position relative to the top.
  std::vector<double> rate(kClickDepth, 0);
  for (size_t k = 0; k < kClickDepth; ++k) {
    double c = 0;
    for (size_t i : at[k]) c += data.labels[i];
    rate[k] = at[k].empty() ? 0 : c / static_cast<double>(at[k].size());
  }
  m.examination.assign(kClickDepth, 1.0);
  for (size_t k = 1; k < kClickDepth; ++k)
    if (rate[0] > 0 && !at[k].empty()) m.examination[k] = std::clamp(rate[k] / rate[0], 0.01, 1.0);

  // E[click] = θ_k · γ(x): the trees fit log γ with log θ_k as each row's fixed offset (Poisson,
  // log link), then θ_k = Σ clicks / Σ γ at k, in turn.
  ml::Dataset fit = data;
  fit.base_margin.assign(n, 0.0f);
  ml::TrainParams quick = params.trees;
  quick.rounds = std::max(10, params.trees.rounds / 4);
  const int iterations = std::max(1, params.em_iterations);
  for (int it = 0; it < iterations; ++it) {
    for (size_t i = 0; i < n; ++i)
      fit.base_margin[i] = static_cast<float>(std::log(m.examination[position[i]]));
    EMP_ASSIGN_OR_RETURN(m.booster,
                         ml::Booster::Train(fit, nullptr, it + 1 == iterations ? params.trees : quick));
    EMP_ASSIGN_OR_RETURN(std::vector<float> gamma, m.booster->Predict(data.values));
    if (gamma.size() != n) return Internal("click model predicted " + std::to_string(gamma.size()) + " rows");
    std::vector<double> theta(kClickDepth, 0);
    for (size_t k = 0; k < kClickDepth; ++k) {
      double clicks = 0, expected = 0;
      for (size_t i : at[k]) {
        clicks += weight(i) * data.labels[i];
        expected += weight(i) * gamma[i];
      }
      theta[k] = expected > 0 ? clicks / expected : 0;
    }
    for (size_t k = 0; k < kClickDepth; ++k) {
      if (!at[k].empty() && theta[0] > 0) m.examination[k] = std::clamp(theta[k] / theta[0], 1e-3, 1.0);
    }
  }
  return m;
}

}  // namespace emporium::search
