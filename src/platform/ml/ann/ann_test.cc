#include "platform/ml/ann/ann.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <thread>

namespace emporium::ml {
namespace {

std::vector<float> Unit(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> n;
  std::vector<float> v(dim);
  float norm = 0;
  for (float& x : v) {
    x = n(rng);
    norm += x * x;
  }
  for (float& x : v) x /= std::sqrt(norm);
  return v;
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The exact top k by brute force.
std::set<std::string> Exact(const std::vector<std::vector<float>>& data, const std::vector<float>& q,
                            size_t k) {
  std::vector<std::pair<float, size_t>> all;
  for (size_t i = 0; i < data.size(); ++i) all.emplace_back(-Dot(data[i], q), i);
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end());
  std::set<std::string> out;
  for (size_t i = 0; i < k; ++i) out.insert("k" + std::to_string(all[i].second));
  return out;
}

struct Fixture {
  std::vector<std::vector<float>> data;
  std::vector<std::vector<float>> queries;
  explicit Fixture(size_t n, size_t dim = 32, size_t nq = 100) {
    std::mt19937 rng(7);
    for (size_t i = 0; i < n; ++i) data.push_back(Unit(rng, dim));
    for (size_t i = 0; i < nq; ++i) queries.push_back(Unit(rng, dim));
  }
  double Recall(const VectorIndex& index, size_t k) const {
    size_t found = 0;
    for (const auto& q : queries) {
      auto exact = Exact(data, q, k);
      for (const Neighbor& n : index.Search(q, k)) found += exact.count(n.key);
    }
    return static_cast<double>(found) / static_cast<double>(queries.size() * k);
  }
};

TEST(VectorIndex, RecallAgainstBruteForceAndSimilaritiesInOrder) {
  Fixture f(5000);
  VectorIndex index(AnnOptions{.dim = 32, .initial_capacity = 16});  // grows by doubling
  for (size_t i = 0; i < f.data.size(); ++i)
    ASSERT_TRUE(index.Upsert("k" + std::to_string(i), f.data[i]).ok());
  EXPECT_EQ(index.size(), 5000u);
  EXPECT_GE(f.Recall(index, 10), 0.95);
  auto hits = index.Search(f.queries[0], 10);
  ASSERT_EQ(hits.size(), 10u);
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].similarity, hits[i].similarity);
  size_t id = std::stoul(hits[0].key.substr(1));
  EXPECT_NEAR(hits[0].similarity, Dot(f.data[id], f.queries[0]), 1e-5);
}

TEST(VectorIndex, UpsertReplacesAndRemoveHides) {
  std::mt19937 rng(1);
  VectorIndex index(AnnOptions{.dim = 8});
  auto a = Unit(rng, 8), b = Unit(rng, 8);
  ASSERT_TRUE(index.Upsert("a", a).ok());
  ASSERT_TRUE(index.Upsert("b", b).ok());
  EXPECT_EQ(index.Search(a, 1).at(0).key, "a");
  ASSERT_TRUE(index.Upsert("a", b).ok());  // a now points where b does
  EXPECT_EQ(index.size(), 2u);
  EXPECT_NEAR(index.Search(b, 2).at(1).similarity, 1.0f, 1e-5);
  EXPECT_TRUE(index.Remove("a"));
  EXPECT_FALSE(index.Remove("a"));
  EXPECT_FALSE(index.Contains("a"));
  auto hits = index.Search(b, 5);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].key, "b");
  ASSERT_TRUE(index.Upsert("a", a).ok());  // back again, same slot
  EXPECT_TRUE(index.Contains("a"));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.Search(a, 1).at(0).key, "a");
}

TEST(VectorIndex, SimilarityOfNamedKeysIsExact) {
  std::mt19937 rng(3);
  VectorIndex index(AnnOptions{.dim = 8});
  auto a = Unit(rng, 8), b = Unit(rng, 8), q = Unit(rng, 8);
  ASSERT_TRUE(index.Upsert("a", a).ok());
  ASSERT_TRUE(index.Upsert("b", b).ok());
  ASSERT_TRUE(index.Remove("b"));
  const std::vector<std::string> keys = {"a", "b", "never"};
  auto sims = index.Similarity(q, keys);
  ASSERT_EQ(sims.size(), 3u);
  EXPECT_NEAR(sims[0], Dot(a, q), 1e-5);
  EXPECT_TRUE(std::isnan(sims[1])) << "removed";
  EXPECT_TRUE(std::isnan(sims[2])) << "never added";
  ASSERT_TRUE(index.Upsert("a", b).ok());
  EXPECT_NEAR(index.Similarity(q, keys)[0], Dot(b, q), 1e-5) << "follows a replaced vector";
  EXPECT_TRUE(std::isnan(index.Similarity(std::vector<float>(3, 0.5f), keys)[0])) << "wrong dimension";
}

TEST(VectorIndex, CentroidIsTheNormalizedMeanOfTheKeysFound) {
  std::mt19937 rng(4);
  VectorIndex index(AnnOptions{.dim = 8});
  auto a = Unit(rng, 8), b = Unit(rng, 8), c = Unit(rng, 8);
  ASSERT_TRUE(index.Upsert("a", a).ok());
  ASSERT_TRUE(index.Upsert("b", b).ok());
  ASSERT_TRUE(index.Upsert("c", c).ok());
  ASSERT_TRUE(index.Remove("c"));
  const std::vector<std::string> keys = {"a", "b", "c", "never"};
  std::vector<float> mean = index.Centroid(keys);
  ASSERT_EQ(mean.size(), 8u);
  std::vector<float> expected(8);
  for (size_t i = 0; i < 8; ++i) expected[i] = a[i] + b[i];
  const float norm = std::sqrt(Dot(expected, expected));
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(mean[i], expected[i] / norm, 1e-5) << i;
  EXPECT_TRUE(index.Centroid(std::vector<std::string>{"c", "never"}).empty());
}

TEST(VectorIndex, RejectsBadInput) {
  VectorIndex index(AnnOptions{.dim = 4});
  std::vector<float> three(3, 0.5f), four(4, 0.5f);
  EXPECT_EQ(index.Upsert("x", three).code(), Code::kInvalidArgument);
  EXPECT_EQ(index.Upsert("", four).code(), Code::kInvalidArgument);
  EXPECT_EQ(index.Upsert("a\nb", four).code(), Code::kInvalidArgument);
  EXPECT_TRUE(index.Search(three, 3).empty());
  EXPECT_TRUE(index.Search(four, 3).empty());  // empty index
}

TEST(VectorIndex, SaveAndLoadKeepVectorsDeletionsAndMetadata) {
  Fixture f(800, 16, 20);
  VectorIndex index(AnnOptions{.dim = 16});
  for (size_t i = 0; i < f.data.size(); ++i)
    ASSERT_TRUE(index.Upsert("k" + std::to_string(i), f.data[i]).ok());
  ASSERT_TRUE(index.Remove("k3"));
  auto dir = std::filesystem::temp_directory_path() / ("ann-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(VectorIndex::Load(dir).status().code(), Code::kNotFound);
  ASSERT_TRUE(index.Save(dir, "encoder=x@1").ok());
  ASSERT_TRUE(index.Save(dir, "encoder=x@2").ok());  // a second save replaces the first
  auto loaded = VectorIndex::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  VectorIndex& l = **loaded;
  EXPECT_EQ(l.loaded_metadata(), "encoder=x@2");
  EXPECT_EQ(l.size(), 799u);
  EXPECT_FALSE(l.Contains("k3"));
  for (const auto& q : f.queries) {
    auto before = index.Search(q, 5), after = l.Search(q, 5);
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].key, after[i].key);
  }
  ASSERT_TRUE(l.Upsert("new", f.queries[0]).ok());  // a loaded index still grows
  EXPECT_EQ(l.Search(f.queries[0], 1).at(0).key, "new");
  size_t versions = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) versions += e.is_directory();
  EXPECT_EQ(versions, 1u);
  std::filesystem::remove_all(dir / "v2" / "keys");
  EXPECT_NE(VectorIndex::Load(dir).status().code(), Code::kOk);
  std::filesystem::remove_all(dir);
}

TEST(VectorIndex, ConcurrentSearchesWhileWriting) {
  Fixture f(2000, 16, 50);
  VectorIndex index(AnnOptions{.dim = 16});
  for (size_t i = 0; i < 1000; ++i) ASSERT_TRUE(index.Upsert("k" + std::to_string(i), f.data[i]).ok());
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        for (const auto& q : f.queries) EXPECT_EQ(index.Search(q, 10).size(), 10u);
        ++searches;
      }
    });
  }
  for (size_t i = 1000; i < 2000; ++i) ASSERT_TRUE(index.Upsert("k" + std::to_string(i), f.data[i]).ok());
  for (size_t i = 0; i < 500; ++i) index.Remove("k" + std::to_string(i));
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(searches.load(), 0u);
  EXPECT_EQ(index.size(), 1500u);
}

}  // namespace
}  // namespace emporium::ml
