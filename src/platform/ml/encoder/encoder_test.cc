#include "platform/ml/encoder/encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "platform/crypto/crypto.h"
#include "platform/log/log.h"
#include "platform/ml/encoder/test_model.h"

namespace emporium::ml {
namespace {

// A straightforward double-precision BERT written from the architecture, not from bert.cc: the
// packed float32 implementation must agree with it.
class Reference {
 public:
  explicit Reference(const testing::TinyModel& m) : m_(m), h_(m.config.hidden) {}

  std::vector<double> Embed(const std::vector<int32_t>& ids) const {
    const size_t n = ids.size();
    Mat x(n, Row(h_));
    const auto& word = m_.Tensor("embeddings.word_embeddings.weight");
    const auto& pos = m_.Tensor("embeddings.position_embeddings.weight");
    const auto& type = m_.Tensor("embeddings.token_type_embeddings.weight");
    for (size_t t = 0; t < n; ++t) {
      for (int j = 0; j < h_; ++j) x[t][j] = double{word[ids[t] * h_ + j]} + pos[t * h_ + j] + type[j];
    }
    LayerNorm(x, "embeddings.LayerNorm");
    for (int l = 0; l < m_.config.layers; ++l) {
      const std::string p = "encoder.layer." + std::to_string(l) + ".";
      Mat q = Dense(x, p + "attention.self.query"), k = Dense(x, p + "attention.self.key"),
          v = Dense(x, p + "attention.self.value");
      const int heads = m_.config.heads, d = h_ / heads;
      Mat ctx(n, Row(h_, 0.0));
      for (int head = 0; head < heads; ++head) {
        for (size_t i = 0; i < n; ++i) {
          std::vector<double> s(n);
          double max = -1e300, sum = 0;
          for (size_t j = 0; j < n; ++j) {
            for (int e = 0; e < d; ++e) s[j] += q[i][head * d + e] * k[j][head * d + e];
            s[j] /= std::sqrt(double(d));
            max = std::max(max, s[j]);
          }
          for (double& e : s) sum += (e = std::exp(e - max));
          for (size_t j = 0; j < n; ++j) {
            for (int e = 0; e < d; ++e) ctx[i][head * d + e] += s[j] / sum * v[j][head * d + e];
          }
        }
      }
      Mat a = Dense(ctx, p + "attention.output.dense");
      Add(a, x);
      LayerNorm(a, p + "attention.output.LayerNorm");
      Mat inter = Dense(a, p + "intermediate.dense");
      for (auto& row : inter) {
        for (double& e : row) e = 0.5 * e * (1 + std::erf(e / std::sqrt(2.0)));
      }
      x = Dense(inter, p + "output.dense");
      Add(x, a);
      LayerNorm(x, p + "output.LayerNorm");
    }
    std::vector<double> out(h_, 0.0);
    for (const auto& row : x) {
      for (int j = 0; j < h_; ++j) out[j] += row[j] / double(n);
    }
    double norm = 0;
    for (double e : out) norm += e * e;
    for (double& e : out) e /= std::sqrt(norm);
    return out;
  }

 private:
  using Row = std::vector<double>;
  using Mat = std::vector<Row>;

  Mat Dense(const Mat& x, const std::string& name) const {
    const auto& w = m_.Tensor(name + ".weight");
    const auto& b = m_.Tensor(name + ".bias");
    const size_t out = b.size(), in = x[0].size();
    Mat y(x.size(), Row(out));
    for (size_t t = 0; t < x.size(); ++t) {
      for (size_t o = 0; o < out; ++o) {
        double acc = b[o];
        for (size_t i = 0; i < in; ++i) acc += double{w[o * in + i]} * x[t][i];
        y[t][o] = acc;
      }
    }
    return y;
  }
  static void Add(Mat& a, const Mat& b) {
    for (size_t t = 0; t < a.size(); ++t) {
      for (size_t j = 0; j < a[t].size(); ++j) a[t][j] += b[t][j];
    }
  }
  void LayerNorm(Mat& x, const std::string& name) const {
    const auto& g = m_.Tensor(name + ".weight");
    const auto& b = m_.Tensor(name + ".bias");
    for (auto& row : x) {
      double mean = 0, var = 0;
      for (double e : row) mean += e / double(row.size());
      for (double e : row) var += (e - mean) * (e - mean) / double(row.size());
      for (size_t j = 0; j < row.size(); ++j) row[j] = (row[j] - mean) / std::sqrt(var + 1e-12) * g[j] + b[j];
    }
  }

  const testing::TinyModel& m_;
  int h_;
};

std::filesystem::path TempDir(const std::string& name) {
  std::string pattern = (std::filesystem::temp_directory_path() / (name + ".XXXXXX")).string();
  return mkdtemp(pattern.data());
}

class EncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir("encoder_test");
    dir_ = root_ / "tiny-bert";
    model_ = testing::WriteTinyModel(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<SentenceEncoder> Load(EncoderOptions options = {}) {
    auto enc = SentenceEncoder::Load(dir_, options);
    EXPECT_TRUE(enc.ok()) << enc.status().ToString();
    return enc.ok() ? std::move(*enc) : nullptr;
  }

  static void ExpectNear(std::span<const float> got, const std::vector<double>& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_NEAR(got[j], want[j], tol) << "component " << j;
  }

  std::filesystem::path root_, dir_;
  testing::TinyModel model_;
};

const std::vector<std::string> kSentences = {
    "",
    "shoe",
    "Red running shoes for men",
    "Where is my order?",
    "the blue cotton shirt, for women!",
    "don't run",
    "中国 cafe naive unaffable $5",
    "a a a a a a a a a a the the the red red blue blue shoes shoes",
};

TEST_F(EncoderTest, MatchesTheDoublePrecisionReference) {
  auto enc = Load();
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->dim(), 32u);
  Reference ref(model_);
  Embeddings batch = enc->Encode(kSentences);
  ASSERT_EQ(batch.rows, kSentences.size());
  ASSERT_EQ(batch.dim, 32u);
  for (size_t i = 0; i < kSentences.size(); ++i) {
    SCOPED_TRACE(kSentences[i]);
    const std::vector<int32_t> ids = enc->Tokenize(kSentences[i]);
    ASSERT_GE(ids.size(), 2u);
    const std::vector<double> want = ref.Embed(ids);
    ExpectNear(batch.row(i), want, 1e-4);
    ExpectNear(enc->Encode(kSentences[i]), want, 1e-4);
    double norm = 0;
    for (float e : batch.row(i)) norm += double{e} * e;
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  // Different texts give different vectors.
  EXPECT_NE(std::vector<float>(batch.row(2).begin(), batch.row(2).end()),
            std::vector<float>(batch.row(3).begin(), batch.row(3).end()));
}

TEST_F(EncoderTest, TruncatesToMaxTokensAndThePositions) {
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "red shoes ";
  Reference ref(model_);

  auto eight = Load({.max_tokens = 8});
  ASSERT_NE(eight, nullptr);
  std::vector<int32_t> ids = eight->Tokenize(long_text);
  EXPECT_EQ(ids.size(), 8u);
  EXPECT_EQ(ids.back(), 3);  // [SEP] still closes a truncated sentence
  ExpectNear(eight->Encode(long_text), ref.Embed(ids), 1e-4);

  // More tokens than the model has positions is capped at its positions (24 here).
  auto capped = Load({.max_tokens = 1000});
  ASSERT_NE(capped, nullptr);
  EXPECT_EQ(capped->max_tokens(), 24);
  ids = capped->Tokenize(long_text);
  EXPECT_EQ(ids.size(), 24u);
  ExpectNear(capped->Encode(long_text), ref.Embed(ids), 1e-4);
}

TEST_F(EncoderTest, ManyBatchesOnManyThreadsGiveTheSameVectors) {
  // Tiny passes (8 tokens) on 2 threads: rows must land in input order whatever finishes first.
  auto enc = Load({.max_tokens = 8, .threads = 2, .batch_tokens = 8});
  ASSERT_NE(enc, nullptr);
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i)
    texts.push_back(kSentences[static_cast<size_t>(i) % kSentences.size()] + " " +
                    std::string(static_cast<size_t>(i % 5), '!'));
  Embeddings all = enc->Encode(texts);
  ASSERT_EQ(all.rows, texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<float> one = enc->Encode(texts[i]);
    for (size_t j = 0; j < one.size(); ++j) ASSERT_NEAR(all.row(i)[j], one[j], 1e-5) << i << "," << j;
  }
  EXPECT_EQ(enc->Encode(std::span<const std::string>()).rows, 0u);
}

TEST_F(EncoderTest, AStopRequestEndsABatchWithNoRows) {
  auto enc = Load({.threads = 2, .batch_tokens = 8});
  ASSERT_NE(enc, nullptr);
  std::vector<std::string> texts(kSentences.begin(), kSentences.end());
  std::stop_source running;
  EXPECT_EQ(enc->Encode(texts, running.get_token()).rows, texts.size());
  std::stop_source stopped;
  stopped.request_stop();
  Embeddings none = enc->Encode(texts, stopped.get_token());
  EXPECT_EQ(none.rows, 0u);
  EXPECT_TRUE(none.data.empty());
}

TEST_F(EncoderTest, VersionNamesTheDirectoryAndTheWeightsHash) {
  auto enc = Load();
  ASSERT_NE(enc, nullptr);
  std::ifstream in(dir_ / "model.safetensors", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(enc->version(), "tiny-bert@" + crypto::HexEncode(crypto::Sha256(bytes)).substr(0, 8));
  // Other weights, another version.
  testing::WriteTinyModel(dir_, 99);
  auto other = Load();
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->version(), enc->version());
}

TEST_F(EncoderTest, MissingModelSaysHowToInstallIt) {
  Status s = SentenceEncoder::Load(root_ / "absent").status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("make deps"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("scripts/fetch-model.sh"), std::string::npos) << s.message();
  for (const char* file : {"model.safetensors", "config.json", "tokenizer.json", "1_Pooling/config.json"}) {
    SCOPED_TRACE(file);
    testing::WriteTinyModel(dir_);
    std::filesystem::remove(dir_ / file);
    EXPECT_EQ(SentenceEncoder::Load(dir_).status().code(), Code::kNotFound);
  }
}

void Overwrite(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST_F(EncoderTest, BrokenFilesAreFailedPreconditions) {
  auto expect_broken = [&](const std::string& file, const std::string& text) {
    SCOPED_TRACE(file + ": " + text.substr(0, 60));
    testing::WriteTinyModel(dir_);
    Overwrite(dir_ / file, text);
    Status s = SentenceEncoder::Load(dir_).status();
    EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
    EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
  };
  expect_broken("model.safetensors", "truncated");
  expect_broken("tokenizer.json", "{");
  expect_broken("config.json", R"({"hidden_act": "relu", "hidden_size": 32})");
  // A config that does not match the weights' shapes.
  expect_broken("config.json",
                R"({"hidden_act":"gelu","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,)"
                R"("intermediate_size":64,"vocab_size":45,"max_position_embeddings":24})");
  expect_broken("config.json",
                R"({"hidden_act":"gelu","hidden_size":32,"num_hidden_layers":3,"num_attention_heads":4,)"
                R"("intermediate_size":64,"vocab_size":45,"max_position_embeddings":24})");
  expect_broken("1_Pooling/config.json",
                R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false})");
  expect_broken("1_Pooling/config.json",
                R"({"pooling_mode_max_tokens": true, "pooling_mode_mean_tokens": true})");
  // A vocabulary with more ids than the embedding matrix has rows.
  std::vector<std::string> pieces = testing::TinyVocabulary();
  pieces.push_back("extra");
  expect_broken("tokenizer.json", testing::TinyTokenizerJson(pieces));
}

TEST_F(EncoderTest, SharedEncoderLoadsOnceAndServesConcurrentCallers) {
  auto a = SharedEncoder(dir_);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = SharedEncoder(dir_ / "." / "");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());

  const std::shared_ptr<const SentenceEncoder> enc = *a;
  const Embeddings first = enc->Encode(kSentences);
  std::vector<std::vector<float>> want;
  for (size_t i = 0; i < kSentences.size(); ++i) want.emplace_back(first.row(i).begin(), first.row(i).end());
  std::vector<std::jthread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        Embeddings got = enc->Encode(kSentences);
        for (size_t i = 0; i < kSentences.size(); ++i) {
          if (!std::equal(got.row(i).begin(), got.row(i).end(), want[i].begin(), want[i].end())) ++mismatches;
        }
      }
    });
  }
  threads.clear();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(EncoderTest, SharedEncoderReportsAMissingModelOnce) {
  std::vector<std::string> lines;
  log::SetSink([&](std::string_view line) { lines.emplace_back(line); });
  const auto absent = root_ / "absent";
  for (int i = 0; i < 3; ++i) {
    auto enc = SharedEncoder(absent);
    ASSERT_FALSE(enc.ok());
    EXPECT_EQ(enc.status().code(), Code::kNotFound);
  }
  log::Flush();
  log::SetSink(nullptr);
  int warnings = 0;
  for (const auto& line : lines) warnings += line.find("sentence encoder unavailable") != std::string::npos;
  EXPECT_EQ(warnings, 1);
}

TEST(EncoderConfig, ModelDirComesFromTheRuntimeKeyOrHome) {
  const std::vector<config::Key> schema = {{"model-dir", config::Type::kString, "", "model root"}};
  auto flag = config::Config::Load(schema, {"--model-dir=/models"}, {});
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(EncoderModelDir(*flag), std::filesystem::path("/models/all-minilm-l6-v2"));
  auto env = config::Config::Load(schema, {}, {"EMPORIUM_MODEL_DIR=/env/models"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(EncoderModelDir(*env), std::filesystem::path("/env/models/all-minilm-l6-v2"));
  auto unset = config::Config::Load(schema, {}, {});
  ASSERT_TRUE(unset.ok());
  const char* home = std::getenv("HOME");
  const std::filesystem::path base = home && *home ? home : ".";
  EXPECT_EQ(ModelRoot(*unset), base / ".cache/emporium/models");
}

}  // namespace
}  // namespace emporium::ml
