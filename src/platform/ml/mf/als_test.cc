#include "platform/ml/mf/als.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stop_token>

#include "platform/core/xoshiro.h"

namespace emporium::ml {
namespace {

// A rows×cols matrix with each cell present with probability `density`, strengths in 1..4.
CsrMatrix RandomMatrix(int32_t rows, int32_t cols, double density, uint64_t seed) {
  Xoshiro256 rng(seed);
  std::vector<int32_t> r, c;
  std::vector<float> v;
  for (int32_t i = 0; i < rows; ++i) {
    for (int32_t j = 0; j < cols; ++j) {
      if (static_cast<double>(rng.Next() >> 11) * 0x1p-53 < density) {
        r.push_back(i);
        c.push_back(j);
        v.push_back(static_cast<float>(1 + rng.Next() % 4));
      }
    }
  }
  return CsrMatrix::FromTriplets(rows, cols, r, c, v).value();
}

AlsOptions SmallOptions() {
  AlsOptions o;
  o.factors = 8;
  o.regularization = 0.1f;
  o.alpha = 2.0f;
  o.iterations = 5;
  o.cg_steps = 3;
  o.threads = 1;
  return o;
}

std::vector<float> AllFactors(const AlsModel& m) {
  std::vector<float> out;
  for (int32_t u = 0; u < m.users(); ++u)
    out.insert(out.end(), m.user_factors(u).begin(), m.user_factors(u).end());
  for (int32_t i = 0; i < m.items(); ++i)
    out.insert(out.end(), m.item_factors(i).begin(), m.item_factors(i).end());
  return out;
}

float MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  float d = 0;
  for (size_t j = 0; j < a.size(); ++j) d = std::max(d, std::fabs(a[j] - b[j]));
  return d;
}

float MaxAbs(std::span<const float> a) {
  float d = 0;
  for (float v : a) d = std::max(d, std::fabs(v));
  return d;
}

double Dot(std::span<const float> a, std::span<const float> b) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) s += static_cast<double>(a[j]) * b[j];
  return s;
}

template <typename T>
void Append(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

// Model bytes in the documented Save format, from given factors (row-major, f per row).
std::string ModelBytes(int32_t users, int32_t items, int32_t f, const std::vector<float>& user_factors,
                       const std::vector<float>& item_factors, float regularization, float alpha) {
  std::string out = "EALS";
  Append(out, uint32_t{1});
  Append(out, users);
  Append(out, items);
  Append(out, f);
  Append(out, regularization);
  Append(out, alpha);
  Append(out, uint64_t{0});
  for (float v : user_factors) Append(out, v);
  for (float v : item_factors) Append(out, v);
  const uint64_t checksum = Fnv1a(std::string_view(out).substr(36));
  std::memcpy(out.data() + 28, &checksum, sizeof checksum);
  return out;
}

std::vector<int32_t> Row(const CsrMatrix& m, int32_t r) {
  return {m.indices.begin() + m.indptr[static_cast<size_t>(r)],
          m.indices.begin() + m.indptr[static_cast<size_t>(r) + 1]};
}

std::vector<float> RowValues(const CsrMatrix& m, int32_t r) {
  return {m.values.begin() + m.indptr[static_cast<size_t>(r)],
          m.values.begin() + m.indptr[static_cast<size_t>(r) + 1]};
}

TEST(CsrMatrixTest, FromTripletsSortsAndSumsDuplicates) {
  const std::vector<int32_t> r = {2, 0, 2, 0, 2, 0};
  const std::vector<int32_t> c = {3, 1, 0, 1, 3, 4};
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  auto m = CsrMatrix::FromTriplets(3, 5, r, c, v);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->rows, 3);
  EXPECT_EQ(m->cols, 5);
  EXPECT_EQ(m->indptr, (std::vector<int64_t>{0, 2, 2, 4}));
  EXPECT_EQ(m->indices, (std::vector<int32_t>{1, 4, 0, 3}));
  EXPECT_EQ(m->values, (std::vector<float>{6, 6, 3, 6}));
  EXPECT_TRUE(m->Validate().ok());

  auto empty = CsrMatrix::FromTriplets(2, 0, {}, {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->indptr, (std::vector<int64_t>{0, 0, 0}));
}

TEST(CsrMatrixTest, FromTripletsRejectsBadInput) {
  const std::vector<int32_t> one = {0};
  const std::vector<float> value = {1};
  auto check = [](const Result<CsrMatrix>& m, std::string_view needle) {
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Code::kInvalidArgument);
    EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().message();
  };
  check(CsrMatrix::FromTriplets(1, 1, std::vector<int32_t>{1}, one, value), "row 1");
  check(CsrMatrix::FromTriplets(1, 1, std::vector<int32_t>{-1}, one, value), "row -1");
  check(CsrMatrix::FromTriplets(1, 1, one, std::vector<int32_t>{1}, value), "column 1");
  check(CsrMatrix::FromTriplets(1, 1, one, one, std::vector<float>{0}), "value 0");
  check(CsrMatrix::FromTriplets(1, 1, one, one, std::vector<float>{-2}), "value -2");
  check(CsrMatrix::FromTriplets(1, 1, one, one, std::vector<float>{std::nanf("")}), "finite");
  check(CsrMatrix::FromTriplets(1, 1, one, one, {}), "values");
  check(CsrMatrix::FromTriplets(-1, 1, {}, {}, {}), "negative");
  const float big = std::numeric_limits<float>::max();
  check(CsrMatrix::FromTriplets(1, 1, std::vector<int32_t>{0, 0}, std::vector<int32_t>{0, 0},
                                std::vector<float>{big, big}),
        "infinity");
}

TEST(CsrMatrixTest, TransposedRoundTrips) {
  const CsrMatrix m = RandomMatrix(37, 23, 0.2, 7);
  const CsrMatrix t = m.Transposed();
  EXPECT_EQ(t.rows, 23);
  EXPECT_EQ(t.cols, 37);
  EXPECT_TRUE(t.Validate().ok()) << t.Validate().ToString();
  EXPECT_EQ(t.nnz(), m.nnz());
  // Entry (r, c) of m is entry (c, r) of t.
  for (int32_t r = 0; r < m.rows; ++r) {
    const auto cols = Row(m, r);
    const auto vals = RowValues(m, r);
    for (size_t k = 0; k < cols.size(); ++k) {
      const auto trow = Row(t, cols[k]);
      const auto pos = std::find(trow.begin(), trow.end(), r);
      ASSERT_NE(pos, trow.end());
      EXPECT_EQ(RowValues(t, cols[k])[static_cast<size_t>(pos - trow.begin())], vals[k]);
    }
  }
  const CsrMatrix back = t.Transposed();
  EXPECT_EQ(back.rows, m.rows);
  EXPECT_EQ(back.cols, m.cols);
  EXPECT_EQ(back.indptr, m.indptr);
  EXPECT_EQ(back.indices, m.indices);
  EXPECT_EQ(back.values, m.values);
}

TEST(CsrMatrixTest, ValidateNamesTheProblem) {
  const CsrMatrix good = CsrMatrix::FromTriplets(2, 3, std::vector<int32_t>{0, 0, 1},
                                                 std::vector<int32_t>{0, 2, 1}, std::vector<float>{1, 2, 3})
                             .value();
  ASSERT_TRUE(good.Validate().ok());
  auto expect_bad = [](const CsrMatrix& m, std::string_view needle) {
    const Status s = m.Validate();
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  };
  CsrMatrix m = good;
  m.indptr.pop_back();
  expect_bad(m, "indptr entries");
  m = good;
  m.indptr = {0, 3, 2};
  expect_bad(m, "decreases");
  m = good;
  m.indptr = {1, 2, 3};
  expect_bad(m, "indptr[0]");
  m = good;
  m.indptr = {0, 1, 2};
  expect_bad(m, "ends at");
  m = good;
  m.indices[1] = 3;
  expect_bad(m, "outside");
  m = good;
  m.indices = {2, 0, 1};
  expect_bad(m, "strictly increasing");
  m = good;
  m.indices = {0, 0, 1};
  expect_bad(m, "strictly increasing");
  m = good;
  m.values[2] = 0;
  expect_bad(m, "values must be finite and > 0");
  m = good;
  m.values[0] = std::numeric_limits<float>::infinity();
  expect_bad(m, "values must be finite and > 0");
  m = good;
  m.values.pop_back();
  expect_bad(m, "values");
  m = good;
  m.cols = -1;
  expect_bad(m, "negative");
}

TEST(AlsTest, RejectsBadOptions) {
  const CsrMatrix m = RandomMatrix(10, 10, 0.3, 1);
  auto expect_bad = [&](void (*edit)(AlsOptions&), std::string_view needle) {
    AlsOptions o = SmallOptions();
    edit(o);
    auto model = AlsModel::Fit(m, o);
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), Code::kInvalidArgument);
    EXPECT_NE(model.status().message().find(needle), std::string::npos) << model.status().message();
  };
  expect_bad([](AlsOptions& o) { o.factors = 0; }, "factors");
  expect_bad([](AlsOptions& o) { o.factors = AlsModel::kMaxFactors + 1; }, "factors");
  expect_bad([](AlsOptions& o) { o.iterations = -1; }, "iterations");
  expect_bad([](AlsOptions& o) { o.cg_steps = 0; }, "cg_steps");
  expect_bad([](AlsOptions& o) { o.threads = 0; }, "threads");
  expect_bad([](AlsOptions& o) { o.regularization = -0.1f; }, "regularization");
  expect_bad([](AlsOptions& o) { o.regularization = std::nanf(""); }, "regularization");
  expect_bad([](AlsOptions& o) { o.alpha = -1; }, "alpha");
  expect_bad([](AlsOptions& o) { o.alpha = std::numeric_limits<float>::infinity(); }, "alpha");
}

TEST(AlsTest, RejectsBadMatrix) {
  CsrMatrix m = RandomMatrix(10, 10, 0.3, 1);
  m.indices[0] = 10;
  auto model = AlsModel::Fit(m, SmallOptions());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), Code::kInvalidArgument);
  EXPECT_NE(model.status().message().find("user_items"), std::string::npos) << model.status().message();

  m = RandomMatrix(10, 10, 0.3, 1);
  m.values[3] = -1;
  EXPECT_EQ(AlsModel::Fit(m, SmallOptions()).status().code(), Code::kInvalidArgument);
}

TEST(AlsTest, StopTokenCancels) {
  const CsrMatrix m = RandomMatrix(20, 20, 0.2, 2);
  std::stop_source stopped;
  stopped.request_stop();
  AlsOptions o = SmallOptions();
  o.stop = stopped.get_token();
  EXPECT_EQ(AlsModel::Fit(m, o).status().code(), Code::kCancelled);

  // A stop requested during iteration 1 ends the fit before iteration 2.
  std::stop_source later;
  o.stop = later.get_token();
  std::vector<int> seen;
  auto model = AlsModel::Fit(m, o, [&](int it, double seconds) {
    EXPECT_GE(seconds, 0);
    seen.push_back(it);
    if (it == 1) later.request_stop();
  });
  EXPECT_EQ(model.status().code(), Code::kCancelled);
  EXPECT_EQ(seen, (std::vector<int>{0, 1}));
}

TEST(AlsTest, ProgressReportsEveryIteration) {
  std::vector<int> seen;
  auto model = AlsModel::Fit(RandomMatrix(20, 20, 0.2, 2), SmallOptions(),
                             [&](int it, double) { seen.push_back(it); });
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(model->users(), 20);
  EXPECT_EQ(model->items(), 20);
  EXPECT_EQ(model->factors(), 8);
}

TEST(AlsTest, LossMatchesBruteForce) {
  const CsrMatrix m = RandomMatrix(30, 25, 0.15, 3);
  AlsOptions o = SmallOptions();
  o.factors = 5;
  o.iterations = 2;
  const AlsModel model = AlsModel::Fit(m, o).value();
  double want = 0;
  for (int32_t u = 0; u < m.rows; ++u) {
    const auto cols = Row(m, u);
    const auto vals = RowValues(m, u);
    for (int32_t i = 0; i < m.cols; ++i) {
      const auto pos = std::find(cols.begin(), cols.end(), i);
      const double s = Dot(model.user_factors(u), model.item_factors(i));
      if (pos == cols.end()) {
        want += s * s;
      } else {
        const double c = 1.0 + o.alpha * vals[static_cast<size_t>(pos - cols.begin())];
        want += c * (1 - s) * (1 - s);
      }
    }
    want += o.regularization * Dot(model.user_factors(u), model.user_factors(u));
  }
  for (int32_t i = 0; i < m.cols; ++i)
    want += o.regularization * Dot(model.item_factors(i), model.item_factors(i));
  auto loss = model.Loss(m);
  ASSERT_TRUE(loss.ok());
  EXPECT_NEAR(*loss, want, 1e-9 * want);

  EXPECT_EQ(model.Loss(RandomMatrix(30, 26, 0.15, 3)).status().code(), Code::kInvalidArgument);
}

TEST(AlsTest, LossNeverIncreases) {
  const CsrMatrix m = RandomMatrix(120, 90, 0.08, 4);
  AlsOptions o = SmallOptions();
  o.factors = 6;
  o.regularization = 0.05f;
  o.alpha = 3;
  std::vector<double> losses;
  for (int it = 0; it <= 8; ++it) {
    o.iterations = it;  // the same seed, so each fit extends the one before
    losses.push_back(AlsModel::Fit(m, o).value().Loss(m).value());
  }
  for (size_t k = 1; k < losses.size(); ++k)
    EXPECT_LE(losses[k], losses[k - 1] * (1 + 1e-6)) << "iteration " << k;
  EXPECT_LT(losses.back(), 0.5 * losses.front());
}

// The largest difference between each user's vector and FoldIn's Cholesky solution for its row,
// relative to the size of that solution.
float WorstFoldInError(const AlsModel& model, const CsrMatrix& m) {
  float worst = 0;
  for (int32_t u = 0; u < m.rows; ++u) {
    const std::vector<float> want = model.FoldIn(Row(m, u), RowValues(m, u)).value();
    worst = std::max(worst, MaxAbsDiff(model.user_factors(u), want) / std::max(1.0f, MaxAbs(want)));
  }
  return worst;
}

TEST(AlsTest, ConvergedCgMatchesCholeskyFoldIn) {
  const CsrMatrix m = RandomMatrix(80, 60, 0.1, 5);
  // Every register count of the kernel's blocks, padded widths, and the wide (> 64) path.
  for (int f : {3, 8, 13, 20, 72}) {
    AlsOptions o = SmallOptions();
    o.factors = f;
    o.iterations = 3;
    const AlsModel model = AlsModel::Fit(m, o).value();
    const double before = model.Loss(m).value();

    // With enough steps (f in exact arithmetic) CG solves each user's system; FoldIn solves it
    // by Cholesky.
    AlsModel exact = model;
    ASSERT_TRUE(exact.UpdateUsers(m, std::max(20, f), 2).ok());
    EXPECT_LE(exact.Loss(m).value(), before * (1 + 1e-6)) << "factors " << f;
    const float worst = WorstFoldInError(exact, m);
    EXPECT_LT(worst, 1e-5f) << "factors " << f;

    // One step from the fitted vectors is far from converged: the comparison above has teeth.
    AlsModel rough = model;
    ASSERT_TRUE(rough.UpdateUsers(m, 1).ok());
    EXPECT_GT(WorstFoldInError(rough, m), 1000 * worst) << "factors " << f;
  }
}

TEST(AlsTest, UpdateUsersValidates) {
  const CsrMatrix m = RandomMatrix(20, 15, 0.2, 6);
  AlsModel model = AlsModel::Fit(m, SmallOptions()).value();
  EXPECT_EQ(model.UpdateUsers(m, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(model.UpdateUsers(m, 3, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(model.UpdateUsers(RandomMatrix(21, 15, 0.2, 6), 3).code(), Code::kInvalidArgument);
  EXPECT_EQ(model.UpdateUsers(m.Transposed(), 3).code(), Code::kInvalidArgument);
}

TEST(AlsTest, SimdKernelMatchesPortable) {
  const CsrMatrix m = RandomMatrix(70, 50, 0.12, 8);
  // One iteration: the users' half-step starts from the same factors in both, so its results
  // differ only by rounding; the items' starts from users that already differ in their last bits,
  // and CG on their ill-conditioned systems amplifies that (as any other order of the float
  // operations would; later iterations drift further).
  for (int f : {3, 13, 20, 64, 72}) {
    AlsOptions o = SmallOptions();
    o.factors = f;
    o.iterations = 1;
    const AlsModel simd = AlsModel::Fit(m, o).value();
    o.use_simd = false;
    const AlsModel portable = AlsModel::Fit(m, o).value();
    for (int32_t u = 0; u < m.rows; ++u)
      ASSERT_LT(MaxAbsDiff(simd.user_factors(u), portable.user_factors(u)),
                1e-5f * std::max(1.0f, MaxAbs(portable.user_factors(u))))
          << "factors " << f << " user " << u;
    for (int32_t i = 0; i < m.cols; ++i)
      ASSERT_LT(MaxAbsDiff(simd.item_factors(i), portable.item_factors(i)),
                1e-3f * std::max(1.0f, MaxAbs(portable.item_factors(i))))
          << "factors " << f << " item " << i;
    EXPECT_NEAR(simd.Loss(m).value(), portable.Loss(m).value(), 1e-5 * portable.Loss(m).value())
        << "factors " << f;
  }
}

TEST(AlsTest, SameResultForAnyThreadCountAndSeed) {
  const CsrMatrix m = RandomMatrix(150, 100, 0.1, 9);
  AlsOptions o = SmallOptions();
  o.factors = 16;
  for (bool simd : {true, false}) {
    o.use_simd = simd;
    o.threads = 1;
    const std::vector<float> one = AllFactors(AlsModel::Fit(m, o).value());
    o.threads = 2;
    EXPECT_EQ(AllFactors(AlsModel::Fit(m, o).value()), one);
    o.threads = 3;
    EXPECT_EQ(AllFactors(AlsModel::Fit(m, o).value()), one);
    o.threads = 1;
    EXPECT_EQ(AllFactors(AlsModel::Fit(m, o).value()), one);
    o.seed = 43;
    EXPECT_NE(AllFactors(AlsModel::Fit(m, o).value()), one);
    o.seed = 42;
  }
}

TEST(AlsTest, RecoversPlantedGroups) {
  // 4 groups of 50 users, each liking 8 of its own block of 20 items, plus 2 random items of all
  // 120 (80 in blocks, 40 outside). One liked block item per user is held out.
  constexpr int kGroups = 4, kUsersPerGroup = 50, kBlock = 20, kItems = 120;
  Xoshiro256 rng(11);
  std::vector<int32_t> r, c, held_out;
  std::vector<float> v;
  for (int32_t u = 0; u < kGroups * kUsersPerGroup; ++u) {
    const int group = u / kUsersPerGroup;
    std::vector<int32_t> liked;
    while (liked.size() < 8) {
      const auto i = static_cast<int32_t>(group * kBlock + static_cast<int>(rng.Next() % kBlock));
      if (std::find(liked.begin(), liked.end(), i) == liked.end()) liked.push_back(i);
    }
    held_out.push_back(liked[0]);
    std::set<int32_t> train(liked.begin() + 1, liked.end());
    while (train.size() < 9) {
      const auto i = static_cast<int32_t>(rng.Next() % kItems);
      if (i != liked[0]) train.insert(i);
    }
    for (int32_t i : train) {
      r.push_back(u);
      c.push_back(i);
      v.push_back(static_cast<float>(1 + rng.Next() % 3));
    }
  }
  const CsrMatrix m = CsrMatrix::FromTriplets(kGroups * kUsersPerGroup, kItems, r, c, v).value();

  AlsOptions o = SmallOptions();
  o.iterations = 10;
  o.alpha = 5;
  const AlsModel model = AlsModel::Fit(m, o).value();

  std::vector<int32_t> popularity(kItems);
  for (int32_t i = 0; i < kItems; ++i) popularity[static_cast<size_t>(i)] = i;
  const CsrMatrix by_item = m.Transposed();
  std::stable_sort(popularity.begin(), popularity.end(),
                   [&](int32_t a, int32_t b) { return Row(by_item, a).size() > Row(by_item, b).size(); });

  int als_hits = 0, popular_hits = 0;
  for (int32_t u = 0; u < m.rows; ++u) {
    const std::vector<int32_t> seen = Row(m, u);
    for (const auto& [item, score] : model.TopK(model.user_factors(u), 10, seen))
      if (item == held_out[static_cast<size_t>(u)]) ++als_hits;
    int taken = 0;
    for (int32_t item : popularity) {
      if (taken == 10) break;
      if (std::find(seen.begin(), seen.end(), item) != seen.end()) continue;
      ++taken;
      if (item == held_out[static_cast<size_t>(u)]) ++popular_hits;
    }
  }
  const double als_recall = static_cast<double>(als_hits) / m.rows;
  const double popular_recall = static_cast<double>(popular_hits) / m.rows;
  std::printf("recall@10: ALS %.3f, popularity %.3f\n", als_recall, popular_recall);
  EXPECT_GT(als_recall, 0.5);
  EXPECT_GT(als_recall, 2 * popular_recall);
}

TEST(AlsTest, SaveLoadRoundTrips) {
  const CsrMatrix m = RandomMatrix(40, 30, 0.15, 12);
  AlsOptions o = SmallOptions();
  o.factors = 13;
  const AlsModel model = AlsModel::Fit(m, o).value();
  const std::string bytes = model.Save();
  EXPECT_EQ(bytes.size(), 36 + (40 + 30) * 13 * sizeof(float));
  auto loaded = AlsModel::Load(bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->users(), 40);
  EXPECT_EQ(loaded->items(), 30);
  EXPECT_EQ(loaded->factors(), 13);
  EXPECT_EQ(loaded->regularization(), o.regularization);
  EXPECT_EQ(loaded->alpha(), o.alpha);
  EXPECT_EQ(AllFactors(*loaded), AllFactors(model));
  EXPECT_EQ(loaded->Save(), bytes);
  EXPECT_EQ(loaded->Loss(m).value(), model.Loss(m).value());
  for (int32_t u = 0; u < 5; ++u) {
    EXPECT_EQ(loaded->TopK(model.user_factors(u), 7, Row(m, u)),
              model.TopK(model.user_factors(u), 7, Row(m, u)));
    EXPECT_EQ(loaded->FoldIn(Row(m, u), RowValues(m, u)).value(),
              model.FoldIn(Row(m, u), RowValues(m, u)).value());
  }
}

TEST(AlsTest, LoadRejectsDamagedBytes) {
  const std::string bytes = AlsModel::Fit(RandomMatrix(10, 8, 0.3, 13), SmallOptions()).value().Save();
  auto expect_bad = [](std::string_view b, std::string_view needle) {
    auto m = AlsModel::Load(b);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Code::kInvalidArgument);
    EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().message();
  };
  expect_bad("", "header");
  expect_bad(std::string_view(bytes).substr(0, 35), "header");
  expect_bad(std::string_view(bytes).substr(0, 36), "bytes");
  expect_bad(std::string_view(bytes).substr(0, bytes.size() - 1), "bytes");
  expect_bad(bytes + "x", "bytes");
  std::string b = bytes;
  b[0] = 'X';
  expect_bad(b, "magic");
  b = bytes;
  b[4] = 2;
  expect_bad(b, "version");
  b = bytes;
  b[bytes.size() - 3] ^= 0x40;
  expect_bad(b, "checksum");
  b = bytes;
  b[11] = static_cast<char>(0x80);  // users < 0
  expect_bad(b, "dimensions");
  b = bytes;
  std::memset(b.data() + 16, 0, 4);  // factors 0
  expect_bad(b, "dimensions");
  expect_bad(ModelBytes(1, 1, 1, {1}, {std::nanf("")}, 0.1f, 1), "NaN");
  expect_bad(ModelBytes(1, 1, 1, {1}, {1}, -1, 1), "regularization");
  expect_bad(std::string(1000, '\0'), "magic");
}

TEST(AlsTest, TopKOrdersBestFirstAndBreaksTiesById) {
  const AlsModel m = AlsModel::Load(ModelBytes(1, 5, 1, {1}, {1, 3, 2, 3, 0.5f}, 0.1f, 1)).value();
  const std::vector<float> q = {1};
  using Top = std::vector<std::pair<int32_t, float>>;
  EXPECT_EQ(m.TopK(q, 3), (Top{{1, 3}, {3, 3}, {2, 2}}));
  EXPECT_EQ(m.TopK(q, 10), (Top{{1, 3}, {3, 3}, {2, 2}, {0, 1}, {4, 0.5f}}));
  EXPECT_EQ(m.TopK(q, 10, std::vector<int32_t>{3, -1, 1, 3, 99}), (Top{{2, 2}, {0, 1}, {4, 0.5f}}));
  EXPECT_EQ(m.TopK(q, 0), Top{});
  EXPECT_EQ(m.TopK(std::vector<float>{-1}, 2), (Top{{4, -0.5f}, {0, -1}}));
  EXPECT_EQ(m.TopK(std::vector<float>{1, 2}, 2), Top{});
  EXPECT_EQ(m.TopK(std::vector<float>{std::nanf("")}, 2), Top{});
  EXPECT_EQ(m.TopK(q, 10, std::vector<int32_t>{0, 1, 2, 3, 4}), Top{});
}

TEST(AlsTest, TopKMatchesBruteForce) {
  const CsrMatrix data = RandomMatrix(20, 700, 0.05, 14);  // more items than one scoring block
  AlsOptions o = SmallOptions();
  o.factors = 10;
  const AlsModel m = AlsModel::Fit(data, o).value();
  const std::vector<int32_t> exclude = {650, 3, 299, 3, 1000, -5, 512, 256, 255};
  for (int32_t u = 0; u < 3; ++u) {
    const auto top = m.TopK(m.user_factors(u), 25, exclude);
    ASSERT_EQ(top.size(), 25u);
    for (size_t k = 0; k < top.size(); ++k) {
      EXPECT_EQ(std::count(exclude.begin(), exclude.end(), top[k].first), 0);
      EXPECT_NEAR(top[k].second, Dot(m.user_factors(u), m.item_factors(top[k].first)), 1e-6);
      if (k > 0) {
        EXPECT_LE(top[k].second, top[k - 1].second);
      }
    }
    for (int32_t i = 0; i < m.items(); ++i) {
      const bool listed = std::any_of(top.begin(), top.end(), [&](const auto& e) { return e.first == i; });
      if (listed || std::count(exclude.begin(), exclude.end(), i)) continue;
      EXPECT_LE(Dot(m.user_factors(u), m.item_factors(i)), top.back().second + 1e-6) << "item " << i;
    }
    EXPECT_EQ(m.TopK(m.user_factors(u), 5000, exclude).size(), 700u - 6);
  }
}

TEST(AlsTest, FoldInSolvesTheUserSystem) {
  // f = 1, items y = 1 and 2, λ = 0.5, α = 1. Item 0 with strength 1:
  // (YᵀY + λ + α r y²) x = (1 + α r) y  →  (5 + 0.5 + 1) x = 2.
  const AlsModel m = AlsModel::Load(ModelBytes(0, 2, 1, {}, {1, 2}, 0.5f, 1)).value();
  auto x = m.FoldIn(std::vector<int32_t>{0}, std::vector<float>{1});
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  ASSERT_EQ(x->size(), 1u);
  EXPECT_NEAR((*x)[0], 2 / 6.5, 1e-6);
  // Repeats are summed.
  EXPECT_NEAR(m.FoldIn(std::vector<int32_t>{0, 0}, std::vector<float>{0.25f, 0.75f}).value()[0], 2 / 6.5,
              1e-6);
  // Both items: (5.5 + 1 + 4 · 2) x = 2 · 1 + 3 · 2.
  EXPECT_NEAR(m.FoldIn(std::vector<int32_t>{1, 0}, std::vector<float>{2, 1}).value()[0], 8 / 14.5, 1e-6);
  EXPECT_EQ(m.FoldIn({}, {}).value(), std::vector<float>{0});

  auto expect_bad = [&](std::vector<int32_t> items, std::vector<float> strengths) {
    EXPECT_EQ(m.FoldIn(items, strengths).status().code(), Code::kInvalidArgument);
  };
  expect_bad({2}, {1});
  expect_bad({-1}, {1});
  expect_bad({0}, {0});
  expect_bad({0}, {std::nanf("")});
  expect_bad({0, 1}, {1});
}

TEST(AlsTest, FoldInWithoutRegularizationSurvivesASingularSystem) {
  // Every item lies on the first axis, λ = 0: the second coordinate is undetermined.
  const AlsModel m = AlsModel::Load(ModelBytes(0, 2, 2, {}, {1, 0, 2, 0}, 0, 1)).value();
  const std::vector<float> x = m.FoldIn(std::vector<int32_t>{0}, std::vector<float>{1}).value();
  EXPECT_NEAR(x[0], 2 / 6.0, 1e-6);
  EXPECT_TRUE(std::isfinite(x[1]));
}

TEST(AlsTest, HandlesEmptyShapes) {
  for (auto [rows, cols] : {std::pair{0, 0}, std::pair{4, 0}, std::pair{0, 4}, std::pair{4, 4}}) {
    const CsrMatrix m = CsrMatrix::FromTriplets(rows, cols, {}, {}, {}).value();
    AlsOptions o = SmallOptions();
    o.threads = 2;
    auto model = AlsModel::Fit(m, o);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_TRUE(std::isfinite(model->Loss(m).value()));
    EXPECT_TRUE(AlsModel::Load(model->Save()).ok());
    EXPECT_EQ(model->TopK(std::vector<float>(8, 1.0f), 3).size(),
              std::min<size_t>(3, static_cast<size_t>(cols)));
  }
}

}  // namespace
}  // namespace emporium::ml
