// The BERT encoder stack (embeddings, N post-LayerNorm transformer layers with exact-erf GELU) and
// mean pooling + L2 normalisation, in float32. Internal to the encoder library (encoder.h is the
// public face).
//
// Sequences run packed: the tokens of a batch of sentences are rows of one matrix, so the dense
// layers (which hold almost all the work) are single large GEMMs with no padding, and attention
// runs per sentence and head on that sentence's rows only. A BertModel is immutable: Encode may
// run on many threads at once, each with its own Workspace.
#pragma once

#include <cstdint>
#include <span>
#include <stop_token>
#include <string_view>
#include <vector>

#include "platform/core/status.h"
#include "platform/ml/encoder/safetensors.h"

namespace emporium::ml {

struct BertConfig {
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int vocab = 0;
  int max_positions = 0;
  int type_vocab = 0;
  float layer_norm_eps = 1e-12f;
};

// Hugging Face config.json of a BertModel: kFailedPrecondition when it is another architecture or
// activation, kInvalidArgument when malformed.
Result<BertConfig> ParseBertConfig(std::string_view json);

// Scratch memory for one thread's Encode calls, grown as needed and reused.
struct BertWorkspace {
  std::vector<float> x, qkv, ctx, tmp, inter, scores;
};

class BertModel {
 public:
  // Every tensor the configuration calls for, with its exact shape (kNotFound naming a missing
  // one, kInvalidArgument for a wrong dtype or shape). Names as Hugging Face's BertModel writes
  // them, with or without a "bert." prefix.
  static Result<BertModel> FromSafeTensors(const SafeTensors& st, const BertConfig& config);

  // `ids` holds the sentences' token ids back to back, lengths[i] of them for sentence i (each
  // 1..max_positions, ids < vocab: the caller's tokenizer guarantees it). Writes one L2-normalised
  // mean-pooled row of `hidden` floats per sentence to out. Returns false, with out unwritten, when
  // `stop` was requested before the last layer (checked between layers).
  bool Encode(std::span<const int32_t> ids, std::span<const int32_t> lengths, float* out, BertWorkspace* ws,
              std::stop_token stop = {}) const;

  const BertConfig& config() const { return config_; }

 private:
  struct Layer {
    std::vector<float> qkv_w, qkv_b;  // [3H, H] rows: query, key, value
    std::vector<float> out_w, out_b;  // [H, H]
    std::vector<float> ln1_g, ln1_b;
    std::vector<float> inter_w, inter_b;  // [I, H]
    std::vector<float> down_w, down_b;    // [H, I]
    std::vector<float> ln2_g, ln2_b;
  };

  void Attention(const Layer& layer, std::span<const int32_t> lengths, size_t tokens,
                 BertWorkspace* ws) const;

  BertConfig config_;
  std::vector<float> word_, position_, type_, emb_ln_g_, emb_ln_b_;
  std::vector<Layer> layers_;
};

}  // namespace emporium::ml
