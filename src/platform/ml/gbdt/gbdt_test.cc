#include "platform/ml/gbdt/gbdt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

namespace emporium::ml {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Four features in [-1, 1]; the label is x0 + x1 > 0; x3 is missing in a tenth of the rows.
Dataset SeparableData(size_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  Dataset d;
  for (size_t i = 0; i < rows; ++i) {
    std::vector<float> row{u(rng), u(rng), u(rng), u(rng)};
    if (i % 10 == 0) row[3] = kNaN;
    EXPECT_TRUE(d.AddRow(row, row[0] + row[1] > 0 ? 1.0f : 0.0f).ok());
  }
  return d;
}

// Labels that no feature explains.
Dataset NoiseData(size_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::bernoulli_distribution coin(0.5);
  Dataset d;
  for (size_t i = 0; i < rows; ++i) {
    const std::vector<float> row{u(rng), u(rng), u(rng)};
    EXPECT_TRUE(d.AddRow(row, coin(rng) ? 1.0f : 0.0f).ok());
  }
  return d;
}

// Groups of 8 items with 3 features; in each group one planted item (label 1) has a high x0.
constexpr size_t kGroupSize = 8;
Dataset RankingData(size_t groups, uint32_t seed, std::vector<size_t>* planted) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0, 1);
  std::uniform_int_distribution<size_t> pick(0, kGroupSize - 1);
  Dataset d;
  for (size_t g = 0; g < groups; ++g) {
    const size_t relevant = pick(rng);
    if (planted) planted->push_back(relevant);
    for (size_t i = 0; i < kGroupSize; ++i) {
      std::vector<float> row{n(rng), n(rng), n(rng)};
      if (i == relevant) row[0] += 4.0f;
      EXPECT_TRUE(d.AddRow(row, i == relevant ? 1.0f : 0.0f).ok());
    }
    d.groups.push_back(kGroupSize);
  }
  return d;
}

// One thread: with two, every parallel region of XGBoost waits for a second OpenMP thread that a
// busy machine may not schedule, which made this suite 50 times slower while other builds ran.
TrainParams SmallParams() {
  TrainParams p;
  p.threads = 1;
  p.rounds = 30;
  p.max_depth = 3;
  p.eta = 0.3;
  return p;
}

std::unique_ptr<Booster> MustTrain(const Dataset& train, const Dataset* valid, const TrainParams& p) {
  auto b = Booster::Train(train, valid, p);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : nullptr;
}

std::vector<float> MustPredict(const Booster& b, std::span<const float> rows) {
  auto p = b.Predict(rows);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : std::vector<float>{};
}

double LogLoss(const std::vector<float>& probs, const std::vector<float>& labels) {
  double sum = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double p = std::clamp(static_cast<double>(probs[i]), 1e-7, 1 - 1e-7);
    sum -= labels[i] > 0.5 ? std::log(p) : std::log(1 - p);
  }
  return sum / static_cast<double>(probs.size());
}

TEST(Gbdt, BinaryLogisticLearnsASeparableRule) {
  const Dataset train = SeparableData(600, 1);
  const Dataset test = SeparableData(300, 2);
  auto booster = MustTrain(train, nullptr, SmallParams());
  ASSERT_NE(booster, nullptr);
  EXPECT_EQ(booster->num_features(), 4u);
  EXPECT_EQ(booster->rounds(), 30);
  const std::vector<float> probs = MustPredict(*booster, test.values);
  ASSERT_EQ(probs.size(), test.rows());
  size_t correct = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    EXPECT_GE(probs[i], 0.0f);
    EXPECT_LE(probs[i], 1.0f);
    correct += (probs[i] > 0.5f) == (test.labels[i] > 0.5f);
  }
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(probs.size()), 0.9);
}

TEST(Gbdt, RankNdcgPutsThePlantedItemFirst) {
  const Dataset train = RankingData(80, 3, nullptr);
  std::vector<size_t> planted;
  const Dataset test = RankingData(30, 4, &planted);
  TrainParams p = SmallParams();
  p.objective = "rank:ndcg";
  p.eval_metric = "ndcg@3";
  auto booster = MustTrain(train, nullptr, p);
  ASSERT_NE(booster, nullptr);
  const std::vector<float> scores = MustPredict(*booster, test.values);
  ASSERT_EQ(scores.size(), test.rows());
  size_t first = 0;
  for (size_t g = 0; g < planted.size(); ++g) {
    const auto begin = scores.begin() + static_cast<ptrdiff_t>(g * kGroupSize);
    const auto top = std::max_element(begin, begin + kGroupSize) - begin;
    first += static_cast<size_t>(top) == planted[g];
  }
  EXPECT_GE(first, 27u) << first << " of " << planted.size() << " groups";
}

TEST(Gbdt, SaveThenLoadPredictsTheSame) {
  Dataset train = SeparableData(400, 5);
  train.feature_names = {"a", "b", "c", "d"};
  const Dataset test = SeparableData(100, 6);
  auto booster = MustTrain(train, nullptr, SmallParams());
  ASSERT_NE(booster, nullptr);
  auto bytes = booster->Save();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_FALSE(bytes->empty());
  EXPECT_EQ((*bytes)[0], '{');  // UBJSON opens an object like JSON does

  auto loaded = Booster::Load(*bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->num_features(), 4u);
  EXPECT_EQ((*loaded)->rounds(), booster->rounds());
  EXPECT_EQ(MustPredict(**loaded, test.values), MustPredict(*booster, test.values));
  auto again = (*loaded)->Save();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
}

TEST(Gbdt, ContributionsSumToTheMargin) {
  const Dataset train = SeparableData(400, 7);
  const Dataset test = SeparableData(20, 8);
  auto booster = MustTrain(train, nullptr, SmallParams());
  ASSERT_NE(booster, nullptr);
  for (size_t r = 0; r < test.rows(); ++r) {
    const std::span<const float> row(test.values.data() + r * test.cols, test.cols);
    auto contribs = booster->Contributions(row);
    ASSERT_TRUE(contribs.ok()) << contribs.status().ToString();
    ASSERT_EQ(contribs->size(), booster->num_features() + 1);
    double sum = 0;
    for (float c : *contribs) sum += c;
    const double p = MustPredict(*booster, row).at(0);
    EXPECT_NEAR(sum, std::log(p / (1 - p)), 1e-3) << "row " << r;
    // x2 plays no part in the rule, so it explains far less than x0 and x1 do.
    EXPECT_LT(std::abs((*contribs)[2]), std::abs((*contribs)[0]) + std::abs((*contribs)[1]));
  }
}

TEST(Gbdt, EarlyStoppingKeepsTheBestRoundsWhenValidationStalls) {
  const Dataset train = NoiseData(300, 9);
  const Dataset valid = NoiseData(300, 10);
  TrainParams p = SmallParams();
  p.max_depth = 6;
  p.rounds = 200;
  p.early_stopping_rounds = 5;
  p.eta = 0.3;
  p.eval_metric = "logloss";
  auto stopped = MustTrain(train, &valid, p);
  ASSERT_NE(stopped, nullptr);
  EXPECT_GE(stopped->rounds(), 1);
  EXPECT_LT(stopped->rounds(), 50);

  // The kept rounds score at least as well on the validation data as five more rounds would.
  TrainParams longer = p;
  longer.early_stopping_rounds = 0;
  longer.rounds = stopped->rounds() + 5;
  auto more = MustTrain(train, nullptr, longer);
  ASSERT_NE(more, nullptr);
  EXPECT_EQ(more->rounds(), longer.rounds);
  EXPECT_LE(LogLoss(MustPredict(*stopped, valid.values), valid.labels),
            LogLoss(MustPredict(*more, valid.values), valid.labels));
}

TEST(Gbdt, EarlyStoppingMaximisesAuc) {
  const Dataset train = SeparableData(400, 11);
  const Dataset valid = SeparableData(200, 12);
  TrainParams p = SmallParams();
  p.rounds = 300;
  p.eta = 0.05;
  p.early_stopping_rounds = 10;
  p.eval_metric = "auc";
  auto booster = MustTrain(train, &valid, p);
  ASSERT_NE(booster, nullptr);
  // Minimising AUC would keep the first round; maximising keeps the round where it peaked.
  EXPECT_GT(booster->rounds(), 1);
  EXPECT_LT(booster->rounds(), 300);
}

TEST(Gbdt, AStopRequestEndsTrainingAsCancelled) {
  const Dataset train = SeparableData(200, 3);
  TrainParams p = SmallParams();
  std::stop_source stop;
  p.stop = stop.get_token();
  ASSERT_NE(MustTrain(train, nullptr, p), nullptr);
  stop.request_stop();
  auto stopped = Booster::Train(train, nullptr, p);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), Code::kCancelled) << stopped.status().ToString();
}

TEST(Gbdt, BadInputsAreInvalidArgument) {
  const Dataset good = SeparableData(50, 13);
  const TrainParams params = SmallParams();
  auto expect_invalid = [&](const Dataset& d, const Dataset* valid, const TrainParams& p, const char* what) {
    auto b = Booster::Train(d, valid, p);
    ASSERT_FALSE(b.ok()) << what;
    EXPECT_EQ(b.status().code(), Code::kInvalidArgument) << what << ": " << b.status().ToString();
  };

  expect_invalid(Dataset{}, nullptr, params, "empty");
  Dataset d = good;
  d.values.pop_back();
  expect_invalid(d, nullptr, params, "values not a multiple of cols");
  d = good;
  d.labels.pop_back();
  expect_invalid(d, nullptr, params, "labels");
  d = good;
  d.labels[0] = kNaN;
  expect_invalid(d, nullptr, params, "NaN label");
  d = good;
  d.weights = {1, 2};
  expect_invalid(d, nullptr, params, "weights");
  d = good;
  d.feature_names = {"only one"};
  expect_invalid(d, nullptr, params, "feature names");
  d = good;
  d.groups = {20, 20};
  expect_invalid(d, nullptr, params, "groups not summing to rows");
  d.groups = {25, 0, 25};
  expect_invalid(d, nullptr, params, "empty group");
  d.groups = {25, 25};
  d.weights.assign(50, 1);
  expect_invalid(d, nullptr, params, "ranking weights are one per group");

  Dataset narrow;
  ASSERT_TRUE(narrow.AddRow(std::vector<float>{1, 2, 3}, 1).ok());
  ASSERT_TRUE(narrow.AddRow(std::vector<float>{3, 2, 1}, 0).ok());
  expect_invalid(good, &narrow, params, "validation columns");

  TrainParams p = params;
  p.rounds = 0;
  expect_invalid(good, nullptr, p, "zero rounds");
  p = params;
  p.early_stopping_rounds = 3;
  expect_invalid(good, nullptr, p, "early stopping without validation data");
  p = params;
  p.objective = "binary:nonsense";
  expect_invalid(good, nullptr, p, "unknown objective");
  p = params;
  p.extra = {{"max_depth", "deep"}};
  expect_invalid(good, nullptr, p, "malformed parameter");

  Dataset with_inf = good;
  with_inf.values[3] = std::numeric_limits<float>::infinity();
  expect_invalid(with_inf, nullptr, params, "infinite value");

  EXPECT_EQ(narrow.AddRow(std::vector<float>{1, 2}, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(narrow.rows(), 2u);

  auto booster = MustTrain(good, nullptr, params);
  ASSERT_NE(booster, nullptr);
  EXPECT_EQ(booster->Predict(std::vector<float>{1, 2, 3}).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(booster->Predict({}).ok());
  EXPECT_TRUE(booster->Predict({})->empty());
  EXPECT_EQ(booster->Contributions(std::vector<float>{1, 2, 3, 4, 5}).status().code(),
            Code::kInvalidArgument);

  EXPECT_EQ(Booster::Load("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Booster::Load("not a model at all").status().code(), Code::kInvalidArgument);
  auto bytes = booster->Save();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(Booster::Load(bytes->substr(0, bytes->size() / 2)).status().code(), Code::kInvalidArgument);
}

TEST(Gbdt, ConcurrentPredictEqualsSerial) {
  const Dataset train = SeparableData(400, 14);
  const Dataset test = SeparableData(200, 15);
  auto booster = MustTrain(train, nullptr, SmallParams());
  ASSERT_NE(booster, nullptr);
  const std::vector<float> serial = MustPredict(*booster, test.values);
  std::vector<std::vector<float>> serial_contribs;
  for (size_t r = 0; r < 8; ++r) {
    auto c = booster->Contributions(std::span<const float>(test.values.data() + r * test.cols, test.cols));
    ASSERT_TRUE(c.ok());
    serial_contribs.push_back(*c);
  }

  // Each thread predicts the whole matrix, then row by row, then explains a few rows.
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep) {
        auto all = booster->Predict(test.values);
        if (!all.ok() || *all != serial) ++mismatches[t];
      }
      for (size_t r = 0; r < test.rows(); ++r) {
        auto one = booster->Predict(std::span<const float>(test.values.data() + r * test.cols, test.cols));
        if (!one.ok() || one->size() != 1 || (*one)[0] != serial[r]) ++mismatches[t];
      }
      for (size_t r = 0; r < serial_contribs.size(); ++r) {
        auto c =
            booster->Contributions(std::span<const float>(test.values.data() + r * test.cols, test.cols));
        if (!c.ok() || *c != serial_contribs[r]) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;

  // The same with two OpenMP threads inside each call (a few calls: see SmallParams).
  auto bytes = booster->Save();
  ASSERT_TRUE(bytes.ok());
  auto two = Booster::Load(*bytes, 2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  std::vector<int> omp_mismatches(kThreads, 0);
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        auto all = (*two)->Predict(test.values);
        if (!all.ok() || *all != serial) ++omp_mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(omp_mismatches[t], 0) << "thread " << t;
}

TEST(Gbdt, FirstContributionsCallsRaceNothingOnAFreshModel) {
  // SHAP's per-tree tables are filled on first use; concurrent first calls must agree.
  const Dataset train = SeparableData(400, 16);
  auto booster = MustTrain(train, nullptr, SmallParams());
  ASSERT_NE(booster, nullptr);
  auto bytes = booster->Save();
  ASSERT_TRUE(bytes.ok());
  const std::vector<float> row{0.3f, -0.2f, 0.5f, kNaN};
  auto expected = booster->Contributions(row);
  ASSERT_TRUE(expected.ok());
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto fresh = Booster::Load(*bytes);
    ASSERT_TRUE(fresh.ok());
    std::vector<std::vector<float>> got(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t)
      threads.emplace_back([&, t] {
        auto c = (*fresh)->Contributions(row);
        if (c.ok()) got[t] = *c;
      });
    for (auto& th : threads) th.join();
    for (const auto& g : got) EXPECT_EQ(g, *expected);
  }
}

}  // namespace
}  // namespace emporium::ml
