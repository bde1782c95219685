#include "platform/ml/encoder/test_model.h"

#include <boost/json.hpp>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include "platform/ml/encoder/safetensors.h"

namespace emporium::ml::testing {
namespace {

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

boost::json::object Special(std::string_view token) {
  return {{"SpecialToken", {{"id", token}, {"type_id", 0}}}};
}

}  // namespace

std::vector<std::string> TinyVocabulary() {
  return {"the",    "a",   "red",   "blue",   "shoe",  "shoes", "running", "run",   "##ning", "##s",
          "for",    "men", "women", "cotton", "shirt", "cafe",  "naive",   "where", "is",     "my",
          "order",  "?",   "!",     ",",      ".",     "'",     "t",       "don",   "un",     "##aff",
          "##able", "中",  "国",    "b",      "##b",   "##c",   "$",       "5",     "##5",    "€"};
}

std::string TinyTokenizerJson(const std::vector<std::string>& pieces, int max_word_chars) {
  const std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  boost::json::object vocab;
  boost::json::array added;
  for (size_t i = 0; i < specials.size(); ++i) {
    vocab[specials[i]] = static_cast<int64_t>(i);
    added.push_back({{"id", static_cast<int64_t>(i)},
                     {"content", specials[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  for (size_t i = 0; i < pieces.size(); ++i) vocab[pieces[i]] = static_cast<int64_t>(specials.size() + i);
  boost::json::object doc = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", std::move(added)},
      {"normalizer",
       {{"type", "BertNormalizer"},
        {"clean_text", true},
        {"handle_chinese_chars", true},
        {"strip_accents", nullptr},
        {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {Special("[CLS]"), {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, Special("[SEP]")}},
        {"special_tokens",
         {{"[CLS]", {{"id", "[CLS]"}, {"ids", {2}}, {"tokens", {"[CLS]"}}}},
          {"[SEP]", {{"id", "[SEP]"}, {"ids", {3}}, {"tokens", {"[SEP]"}}}}}}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", "[UNK]"},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", max_word_chars},
        {"vocab", std::move(vocab)}}},
  };
  return boost::json::serialize(doc);
}

BertConfig TinyConfig() {
  BertConfig c;
  c.layers = 2;
  c.hidden = 32;
  c.heads = 4;
  c.intermediate = 64;
  c.vocab = static_cast<int>(5 + TinyVocabulary().size());
  c.max_positions = 24;
  c.type_vocab = 2;
  c.layer_norm_eps = 1e-12f;
  return c;
}

const std::vector<float>& TinyModel::Tensor(const std::string& name) const {
  for (const auto& [n, values] : tensors) {
    if (n == name) return values;
  }
  throw std::out_of_range("no tensor " + name);
}

TinyModel WriteTinyModel(const std::filesystem::path& dir, uint32_t seed) {
  TinyModel m;
  m.config = TinyConfig();
  m.pieces = TinyVocabulary();
  const BertConfig& c = m.config;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<NamedTensor> named;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    std::vector<float> values(n);
    for (float& v : values) v = offset + scale * normal(rng);
    named.push_back(F32Tensor(name, shape, values));
    m.tensors.emplace_back(name, std::move(values));
  };
  const int64_t h = c.hidden;
  const int64_t i = c.intermediate;
  // The real file carries this integer tensor too; the loader must ignore it.
  std::vector<int64_t> position_ids(static_cast<size_t>(c.max_positions));
  for (size_t p = 0; p < position_ids.size(); ++p) position_ids[p] = static_cast<int64_t>(p);
  NamedTensor ids{"embeddings.position_ids", DType::kI64, {1, c.max_positions}, {}};
  ids.data.resize(position_ids.size() * sizeof(int64_t));
  std::memcpy(ids.data.data(), position_ids.data(), ids.data.size());
  named.push_back(std::move(ids));

  add("embeddings.word_embeddings.weight", {c.vocab, h}, 0.5f, 0.0f);
  add("embeddings.position_embeddings.weight", {c.max_positions, h}, 0.5f, 0.0f);
  add("embeddings.token_type_embeddings.weight", {c.type_vocab, h}, 0.5f, 0.0f);
  add("embeddings.LayerNorm.weight", {h}, 0.1f, 1.0f);
  add("embeddings.LayerNorm.bias", {h}, 0.1f, 0.0f);
  for (int l = 0; l < c.layers; ++l) {
    const std::string n = "encoder.layer." + std::to_string(l) + ".";
    for (const char* part : {"query", "key", "value"}) {
      add(n + "attention.self." + part + ".weight", {h, h}, 0.3f, 0.0f);
      add(n + "attention.self." + part + ".bias", {h}, 0.1f, 0.0f);
    }
    add(n + "attention.output.dense.weight", {h, h}, 0.2f, 0.0f);
    add(n + "attention.output.dense.bias", {h}, 0.1f, 0.0f);
    add(n + "attention.output.LayerNorm.weight", {h}, 0.1f, 1.0f);
    add(n + "attention.output.LayerNorm.bias", {h}, 0.1f, 0.0f);
    add(n + "intermediate.dense.weight", {i, h}, 0.2f, 0.0f);
    add(n + "intermediate.dense.bias", {i}, 0.1f, 0.0f);
    add(n + "output.dense.weight", {h, i}, 0.2f, 0.0f);
    add(n + "output.dense.bias", {h}, 0.1f, 0.0f);
    add(n + "output.LayerNorm.weight", {h}, 0.1f, 1.0f);
    add(n + "output.LayerNorm.bias", {h}, 0.1f, 0.0f);
  }
  WriteFile(dir / "model.safetensors", SerializeSafeTensors(named, {{"format", "pt"}}));
  boost::json::object config = {{"architectures", {"BertModel"}},
                                {"model_type", "bert"},
                                {"hidden_act", "gelu"},
                                {"hidden_size", c.hidden},
                                {"num_hidden_layers", c.layers},
                                {"num_attention_heads", c.heads},
                                {"intermediate_size", c.intermediate},
                                {"vocab_size", c.vocab},
                                {"max_position_embeddings", c.max_positions},
                                {"type_vocab_size", c.type_vocab},
                                {"layer_norm_eps", 1e-12},
                                {"position_embedding_type", "absolute"}};
  WriteFile(dir / "config.json", boost::json::serialize(config));
  WriteFile(dir / "tokenizer.json", TinyTokenizerJson(m.pieces));
  WriteFile(
      dir / "1_Pooling" / "config.json",
      R"({"word_embedding_dimension": 32, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,)"
      R"( "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false})");
  return m;
}

}  // namespace emporium::ml::testing
