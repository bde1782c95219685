// Tiny generated sentence-encoder models for tests (the real one is never needed by a test):
// a tokenizer.json over a given vocabulary, and a whole model directory (random BERT weights as a
// real safetensors file, config.json, tokenizer.json, 1_Pooling/config.json) that
// SentenceEncoder::Load reads like the real one. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "platform/ml/encoder/bert.h"

namespace emporium::ml::testing {

// [PAD] [UNK] [CLS] [SEP] [MASK] are ids 0..4; `pieces` follow from id 5 in order.
std::string TinyTokenizerJson(const std::vector<std::string>& pieces, int max_word_chars = 100);

// A few dozen English pieces (with ## continuations), enough for short test sentences.
std::vector<std::string> TinyVocabulary();

// 2 layers, hidden 32, 4 heads, intermediate 64, 24 positions; vocab = 5 + TinyVocabulary().
BertConfig TinyConfig();

struct TinyModel {
  BertConfig config;
  std::vector<std::string> pieces;  // as passed to TinyTokenizerJson
  // The weights by name (row-major, PyTorch's [out, in] for dense layers), as written.
  std::vector<std::pair<std::string, std::vector<float>>> tensors;
  const std::vector<float>& Tensor(const std::string& name) const;
};

// Writes a model directory (created if needed) and returns what it wrote.
TinyModel WriteTinyModel(const std::filesystem::path& dir, uint32_t seed = 7);

}  // namespace emporium::ml::testing
