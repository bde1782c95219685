#include "services/recommend/generators.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "platform/core/pod_bytes.h"
#include "platform/core/xoshiro.h"

// LAPACK's Cholesky factorisation and inverse from the factor, as OpenBLAS exports them (the
// Fortran interface; Debian ships no LAPACK header with OpenBLAS).
extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
}

namespace emporium::recommend {
namespace {

constexpr double kDayMs = 86'400'000.0;

// Little-endian fields of a saved generator.
using bytes::Put;
using bytes::Take;

// Multi-threaded fill of rows [0, n): fn(begin, end) on contiguous chunks.
template <typename Fn>
void ParallelChunks(size_t n, unsigned threads, const Fn& fn) {
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(n / 64, 1))));
  std::vector<std::jthread> pool;
  const size_t chunk = (n + threads - 1) / threads;
  for (unsigned t = 1; t < threads; ++t) {
    const size_t begin = std::min(n, t * chunk), end = std::min(n, begin + chunk);
    pool.emplace_back([&fn, begin, end] { fn(begin, end); });
  }
  fn(0, std::min(n, chunk));
}

unsigned Cores() {
  return std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
}

// Distinct users per item.
std::vector<float> ItemUsers(const TrainingSet& data) {
  std::vector<float> count(static_cast<size_t>(data.items));
  for (int32_t i = 0; i < data.items; ++i)
    count[static_cast<size_t>(i)] = static_cast<float>(data.item_users.indptr[static_cast<size_t>(i) + 1] -
                                                       data.item_users.indptr[static_cast<size_t>(i)]);
  return count;
}

class Popularity final : public Generator {
 public:
  std::string_view name() const override { return "popularity"; }
  Status Fit(const TrainingSet& data) override {
    score_ = ItemUsers(data);
    Order();
    return Status::Ok();
  }
  // TopK's list without its scan over every item: the first of the items in order that are not
  // excluded (a request asks for 50-100 of tens of thousands).
  std::vector<Scored> Recommend(const History&, size_t k, std::span<const int32_t> exclude) const override {
    std::vector<Scored> out;
    for (size_t n = 0; n < order_.size() && out.size() < k; ++n) {
      const int32_t item = order_[n];
      if (!std::binary_search(exclude.begin(), exclude.end(), item))
        out.push_back({item, score_[static_cast<size_t>(item)]});
    }
    return out;
  }
  Result<std::string> Save() const override {
    std::string out;
    Put<uint64_t>(out, score_.size());
    for (float v : score_) Put(out, v);
    return out;
  }
  static Result<std::unique_ptr<Generator>> Load(std::string_view in) {
    auto g = std::make_unique<Popularity>();
    uint64_t n = 0;
    if (!Take(in, &n) || in.size() != n * sizeof(float)) return InvalidArgument("damaged popularity model");
    g->score_.resize(n);
    for (float& v : g->score_) Take(in, &v);
    g->Order();
    return std::unique_ptr<Generator>(std::move(g));
  }

 private:
  // TopK's order: most users first, ties by lower item.
  void Order() {
    order_.clear();
    for (const Scored& s : TopK(score_, score_.size(), {})) order_.push_back(s.item);
  }
  std::vector<float> score_;
  std::vector<int32_t> order_;
};

// Jaccard similarity of items over their users: |U_i ∩ U_j| / (|U_i| + |U_j| - |U_i ∩ U_j|).
class Cooccur final : public Generator {
 public:
  explicit Cooccur(CooccurOptions options) : options_(options) {}
  std::string_view name() const override { return "cooccur"; }

  Status Fit(const TrainingSet& data) override {
    items_ = data.items;
    const std::vector<float> users = ItemUsers(data);
    neighbours_.assign(static_cast<size_t>(items_), {});
    const ml::CsrMatrix& ui = data.user_items;
    const ml::CsrMatrix& iu = data.item_users;
    ParallelChunks(static_cast<size_t>(items_), Cores(), [&](size_t begin, size_t end) {
      std::vector<float> together(static_cast<size_t>(items_), 0);
      std::vector<int32_t> touched;
      for (size_t i = begin; i < end; ++i) {
        touched.clear();
        for (int64_t a = iu.indptr[i]; a < iu.indptr[i + 1]; ++a) {
          const auto u = static_cast<size_t>(iu.indices[static_cast<size_t>(a)]);
          for (int64_t b = ui.indptr[u]; b < ui.indptr[u + 1]; ++b) {
            const int32_t j = ui.indices[static_cast<size_t>(b)];
            if (static_cast<size_t>(j) == i) continue;
            if (together[static_cast<size_t>(j)] == 0) touched.push_back(j);
            together[static_cast<size_t>(j)] += 1;
          }
        }
        std::vector<Scored>& out = neighbours_[i];
        out.reserve(touched.size());
        for (int32_t j : touched) {
          const float c = together[static_cast<size_t>(j)];
          out.push_back({j, c / (users[i] + users[static_cast<size_t>(j)] - c)});
          together[static_cast<size_t>(j)] = 0;
        }
        const size_t keep = std::min(out.size(), options_.neighbours);
        std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(keep), out.end(),
                          [](const Scored& x, const Scored& y) {
                            return x.score > y.score || (x.score == y.score && x.item < y.item);
                          });
        out.resize(keep);
        out.shrink_to_fit();
      }
    });
    return Status::Ok();
  }

  std::vector<Scored> Recommend(const History& h, size_t k, std::span<const int32_t> exclude) const override {
    std::vector<float> score(static_cast<size_t>(items_), -std::numeric_limits<float>::infinity());
    for (size_t n = 0; n < h.items.size(); ++n) {
      if (h.items[n] < 0 || h.items[n] >= items_) continue;
      for (const Scored& s : neighbours_[static_cast<size_t>(h.items[n])]) {
        float& v = score[static_cast<size_t>(s.item)];
        v = (std::isinf(v) ? 0 : v) + h.affinity[n] * s.score;
      }
    }
    return TopK(score, k, exclude);
  }

  std::optional<int32_t> Because(const History& h, int32_t item) const override {
    std::optional<int32_t> best;
    float best_score = 0;
    for (size_t n = 0; n < h.items.size(); ++n) {
      if (h.items[n] < 0 || h.items[n] >= items_) continue;
      for (const Scored& s : neighbours_[static_cast<size_t>(h.items[n])]) {
        if (s.item != item) continue;
        if (const float v = h.affinity[n] * s.score; v > best_score) {
          best_score = v;
          best = h.items[n];
        }
      }
    }
    return best;
  }

  Result<std::string> Save() const override {
    std::string out;
    Put<int32_t>(out, items_);
    for (const auto& list : neighbours_) {
      Put<uint32_t>(out, static_cast<uint32_t>(list.size()));
      for (const Scored& s : list) {
        Put(out, s.item);
        Put(out, s.score);
      }
    }
    return out;
  }
  static Result<std::unique_ptr<Generator>> Load(std::string_view in) {
    auto g = std::make_unique<Cooccur>(CooccurOptions{});
    if (!Take(in, &g->items_) || g->items_ < 0) return InvalidArgument("damaged cooccur model");
    g->neighbours_.resize(static_cast<size_t>(g->items_));
    for (auto& list : g->neighbours_) {
      uint32_t n = 0;
      if (!Take(in, &n) || in.size() < static_cast<size_t>(n) * 8)
        return InvalidArgument("damaged cooccur model");
      list.resize(n);
      for (Scored& s : list) {
        Take(in, &s.item);
        Take(in, &s.score);
        if (s.item < 0 || s.item >= g->items_) return InvalidArgument("damaged cooccur model");
      }
    }
    if (!in.empty()) return InvalidArgument("damaged cooccur model: trailing bytes");
    g->options_.neighbours = 0;
    return std::unique_ptr<Generator>(std::move(g));
  }

 private:
  CooccurOptions options_;
  int32_t items_ = 0;
  std::vector<std::vector<Scored>> neighbours_;
};

class Als final : public Generator {
 public:
  explicit Als(ml::AlsOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return "als"; }

  Status Fit(const TrainingSet& data) override {
    EMP_ASSIGN_OR_RETURN(ml::AlsModel m, ml::AlsModel::Fit(data.user_items, options_));
    model_ = std::make_unique<ml::AlsModel>(std::move(m));
    return Status::Ok();
  }

  std::vector<Scored> Recommend(const History& h, size_t k, std::span<const int32_t> exclude) const override {
    std::vector<int32_t> items;
    std::vector<float> weights;
    for (size_t n = 0; n < h.items.size(); ++n) {
      if (h.items[n] < 0 || h.items[n] >= model_->items()) continue;
      // An item the fit saw no interaction with has no factors: it says nothing of the user.
      const std::span<const float> y = model_->item_factors(h.items[n]);
      if (std::all_of(y.begin(), y.end(), [](float v) { return v == 0.0f; })) continue;
      items.push_back(h.items[n]);
      weights.push_back(h.weights[n]);
    }
    std::vector<Scored> out;
    if (items.empty()) return out;
    auto x = model_->FoldIn(items, weights);
    if (!x.ok()) return out;
    for (const auto& [item, score] : model_->TopK(*x, k, exclude)) out.push_back({item, score});
    return out;
  }

  std::optional<int32_t> Because(const History& h, int32_t item) const override {
    if (item < 0 || item >= model_->items()) return std::nullopt;
    const std::span<const float> target = model_->item_factors(item);
    std::optional<int32_t> best;
    float best_score = 0;
    for (int32_t j : h.items) {
      if (j < 0 || j >= model_->items() || j == item) continue;
      const std::span<const float> y = model_->item_factors(j);
      float dot = 0;
      for (size_t f = 0; f < target.size(); ++f) dot += y[f] * target[f];
      if (dot > best_score) {
        best_score = dot;
        best = j;
      }
    }
    return best;
  }

  Result<std::string> Save() const override { return model_->Save(); }
  static Result<std::unique_ptr<Generator>> Load(std::string_view in) {
    EMP_ASSIGN_OR_RETURN(ml::AlsModel m, ml::AlsModel::Load(in));
    auto g = std::make_unique<Als>(ml::AlsOptions{});
    g->model_ = std::make_unique<ml::AlsModel>(std::move(m));
    return std::unique_ptr<Generator>(std::move(g));
  }

 private:
  ml::AlsOptions options_;
  std::unique_ptr<ml::AlsModel> model_;
};

class Ease final : public Generator {
 public:
  explicit Ease(EaseOptions options) : options_(options) {}
  std::string_view name() const override { return "ease"; }

  Status Fit(const TrainingSet& data) override {
    items_ = data.items;
    // The most popular items (at least two users: an item seen once has no co-occurrence).
    const std::vector<float> users = ItemUsers(data);
    std::vector<int32_t> order(static_cast<size_t>(items_));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return users[static_cast<size_t>(a)] > users[static_cast<size_t>(b)];
    });
    size_t m = 0;
    while (m < order.size() && m < static_cast<size_t>(options_.max_items) &&
           users[static_cast<size_t>(order[m])] >= 2)
      ++m;
    modelled_.assign(order.begin(), order.begin() + static_cast<ptrdiff_t>(m));
    slot_.assign(static_cast<size_t>(items_), -1);
    for (size_t s = 0; s < m; ++s) slot_[static_cast<size_t>(modelled_[s])] = static_cast<int32_t>(s);
    if (m == 0) return Status::Ok();

    // G = XᵀX + λI over the modelled items (binary X), then P = G⁻¹ and B = -P / diag(P).
    b_.assign(m * m, 0.0f);
    const ml::CsrMatrix& ui = data.user_items;
    std::vector<int32_t> slots;
    for (int32_t u = 0; u < data.users; ++u) {
      slots.clear();
      for (int64_t a = ui.indptr[static_cast<size_t>(u)]; a < ui.indptr[static_cast<size_t>(u) + 1]; ++a)
        if (int32_t s = slot_[static_cast<size_t>(ui.indices[static_cast<size_t>(a)])]; s >= 0)
          slots.push_back(s);
      for (int32_t s : slots)
        for (int32_t t : slots) b_[static_cast<size_t>(s) * m + static_cast<size_t>(t)] += 1;
    }
    for (size_t s = 0; s < m; ++s) b_[s * m + s] += static_cast<float>(options_.lambda);
    const int n = static_cast<int>(m);
    int info = 0;
    spotrf_("L", &n, b_.data(), &n, &info);
    if (info != 0)
      return Internal("EASE: the Gram matrix is not positive definite (" + std::to_string(info) + ")");
    spotri_("L", &n, b_.data(), &n, &info);
    if (info != 0) return Internal("EASE: cannot invert the Gram matrix (" + std::to_string(info) + ")");
    // LAPACK is column-major: "L" there is the upper triangle of this row-major array. Mirror it.
    for (size_t s = 0; s < m; ++s)
      for (size_t t = s + 1; t < m; ++t) b_[t * m + s] = b_[s * m + t];
    std::vector<float> diagonal(m);
    for (size_t s = 0; s < m; ++s) diagonal[s] = b_[s * m + s];
    for (size_t s = 0; s < m; ++s) {
      float* row = b_.data() + s * m;
      for (size_t t = 0; t < m; ++t) row[t] = s == t ? 0.0f : -row[t] / diagonal[t];
    }
    return Status::Ok();
  }

  std::vector<Scored> Recommend(const History& h, size_t k, std::span<const int32_t> exclude) const override {
    const size_t m = modelled_.size();
    std::vector<float> score(static_cast<size_t>(items_), -std::numeric_limits<float>::infinity());
    std::vector<float> sum(m, 0.0f);
    bool any = false;
    for (int32_t item : h.items) {
      if (item < 0 || item >= items_) continue;
      const int32_t s = slot_[static_cast<size_t>(item)];
      if (s < 0) continue;
      any = true;
      const float* row = b_.data() + static_cast<size_t>(s) * m;
      for (size_t t = 0; t < m; ++t) sum[t] += row[t];
    }
    if (!any) return {};
    for (size_t t = 0; t < m; ++t) score[static_cast<size_t>(modelled_[t])] = sum[t];
    return TopK(score, k, exclude);
  }

 private:
  EaseOptions options_;
  int32_t items_ = 0;
  std::vector<int32_t> modelled_;  // slot → item
  std::vector<int32_t> slot_;      // item → slot or -1
  std::vector<float> b_;           // row-major m × m item-item weights
};

// Pixie-style: from an item of the user's (picked by affinity), to a random user of that item, to
// a random item of that user; visits counted; back to the user's items with probability restart.
class Walk final : public Generator {
 public:
  explicit Walk(WalkOptions options) : options_(options) {}
  std::string_view name() const override { return "walk"; }

  Status Fit(const TrainingSet& data) override {
    items_ = data.items;
    user_items_ = data.user_items;
    item_users_ = data.item_users;
    return Status::Ok();
  }

  std::vector<Scored> Recommend(const History& h, size_t k, std::span<const int32_t> exclude) const override {
    std::vector<int32_t> start;
    std::vector<double> cumulative;
    double total = 0;
    uint64_t seed = options_.seed;
    for (size_t n = 0; n < h.items.size(); ++n) {
      const int32_t i = h.items[n];
      if (i < 0 || i >= items_ ||
          item_users_.indptr[static_cast<size_t>(i) + 1] == item_users_.indptr[static_cast<size_t>(i)])
        continue;
      start.push_back(i);
      total += std::max(h.affinity[n], 1e-6f);
      cumulative.push_back(total);
      seed = seed * 0x100000001B3ull ^ static_cast<uint64_t>(i);
    }
    if (start.empty()) return {};
    Xoshiro256 rng(seed);
    const auto uniform = [&rng] { return static_cast<double>(rng.Next() >> 11) * 0x1.0p-53; };
    std::unordered_map<int32_t, float> visits;
    int32_t at = -1;
    for (int step = 0; step < options_.steps; ++step) {
      if (at < 0 || uniform() < options_.restart) {
        const double r = uniform() * total;
        at = start[static_cast<size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), r) -
                                       cumulative.begin())];
      }
      const auto ib = item_users_.indptr[static_cast<size_t>(at)],
                 ie = item_users_.indptr[static_cast<size_t>(at) + 1];
      const int32_t u = item_users_.indices[static_cast<size_t>(
          ib + static_cast<int64_t>(rng.Next() % static_cast<uint64_t>(ie - ib)))];
      const auto ub = user_items_.indptr[static_cast<size_t>(u)],
                 ue = user_items_.indptr[static_cast<size_t>(u) + 1];
      at = user_items_.indices[static_cast<size_t>(
          ub + static_cast<int64_t>(rng.Next() % static_cast<uint64_t>(ue - ub)))];
      visits[at] += 1;
    }
    std::vector<Scored> out;
    out.reserve(visits.size());
    for (const auto& [item, count] : visits)
      if (!std::binary_search(exclude.begin(), exclude.end(), item)) out.push_back({item, count});
    const size_t keep = std::min(k, out.size());
    std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(keep), out.end(),
                      [](const Scored& a, const Scored& b) {
                        return a.score > b.score || (a.score == b.score && a.item < b.item);
                      });
    out.resize(keep);
    return out;
  }

 private:
  WalkOptions options_;
  int32_t items_ = 0;
  ml::CsrMatrix user_items_, item_users_;
};

}  // namespace

std::vector<History> Histories(const std::vector<Interaction>& rows, int32_t users, double half_life_days) {
  std::vector<std::vector<const Interaction*>> by_user(static_cast<size_t>(users));
  for (const Interaction& r : rows) by_user[static_cast<size_t>(r.user)].push_back(&r);
  std::vector<History> out(static_cast<size_t>(users));
  for (size_t u = 0; u < by_user.size(); ++u) {
    auto& list = by_user[u];
    if (list.empty()) continue;
    std::sort(list.begin(), list.end(),
              [](const Interaction* a, const Interaction* b) { return a->item < b->item; });
    int64_t latest = INT64_MIN;
    for (const Interaction* r : list) latest = std::max(latest, r->at_ms);
    History& h = out[u];
    for (const Interaction* r : list) {
      const double age_days = static_cast<double>(latest - r->at_ms) / kDayMs;
      const float decay =
          half_life_days > 0 ? static_cast<float>(std::exp2(-age_days / half_life_days)) : 1.0f;
      if (h.items.empty() || h.items.back() != r->item) {
        h.items.push_back(r->item);
        h.weights.push_back(0);
        h.affinity.push_back(0);
      }
      h.weights.back() += r->weight;
      h.affinity.back() += r->weight * decay;
    }
  }
  return out;
}

Result<TrainingSet> MakeTrainingSet(const std::vector<Interaction>& rows, int32_t users, int32_t items,
                                    double half_life_days) {
  TrainingSet t;
  t.users = users;
  t.items = items;
  t.histories = Histories(rows, users, half_life_days);
  EMP_ASSIGN_OR_RETURN(t.user_items, UserItemMatrix(rows, users, items));
  t.item_users = t.user_items.Transposed();
  return t;
}

Result<std::unique_ptr<Generator>> LoadGenerator(std::string_view name, std::string_view bytes) {
  if (name == "popularity") return Popularity::Load(bytes);
  if (name == "cooccur") return Cooccur::Load(bytes);
  if (name == "als") return Als::Load(bytes);
  return InvalidArgument("no saved form for generator '" + std::string(name) + "'");
}

std::unique_ptr<Generator> MakePopularity() {
  return std::make_unique<Popularity>();
}
std::unique_ptr<Generator> MakeCooccur(CooccurOptions options) {
  return std::make_unique<Cooccur>(options);
}
std::unique_ptr<Generator> MakeAls(ml::AlsOptions options) {
  return std::make_unique<Als>(std::move(options));
}
std::unique_ptr<Generator> MakeEase(EaseOptions options) {
  return std::make_unique<Ease>(options);
}
std::unique_ptr<Generator> MakeWalk(WalkOptions options) {
  return std::make_unique<Walk>(options);
}

std::vector<Scored> TopK(std::span<const float> scores, size_t k, std::span<const int32_t> exclude) {
  std::vector<Scored> all;
  size_t e = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    while (e < exclude.size() && static_cast<size_t>(exclude[e]) < i) ++e;
    if (e < exclude.size() && static_cast<size_t>(exclude[e]) == i) continue;
    if (scores[i] == -std::numeric_limits<float>::infinity() || std::isnan(scores[i])) continue;
    all.push_back({static_cast<int32_t>(i), scores[i]});
  }
  const size_t keep = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(keep), all.end(),
                    [](const Scored& a, const Scored& b) {
                      return a.score > b.score || (a.score == b.score && a.item < b.item);
                    });
  all.resize(keep);
  return all;
}

}  // namespace emporium::recommend
