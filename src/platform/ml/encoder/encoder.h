// The shared sentence encoder: text → unit-length vectors (cosine = dot product), from the
// pretrained all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions) as sentence-transformers runs it:
// WordPiece tokens (truncated to max_tokens), the transformer, mean pooling, L2 normalisation.
// Search, recommendations and the assistant use the one process-wide instance (SharedEncoder).
//
// The weights are installed by `make deps` (scripts/fetch-model.sh) into
// ${EMPORIUM_MODEL_DIR:-$HOME/.cache/emporium/models}/all-minilm-l6-v2/; nothing is downloaded at
// run time. A model directory holds model.safetensors, config.json, tokenizer.json and
// 1_Pooling/config.json. Callers must cope with the model being absent (a fallback without
// vectors): Load and SharedEncoder say so with kNotFound, and how to install it.
//
// A SentenceEncoder is immutable and thread-safe: any number of threads may call Encode at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "platform/config/config.h"
#include "platform/core/status.h"

namespace emporium::ml {

// The folder of all-MiniLM-L6-v2 inside a model root.
inline constexpr std::string_view kMiniLmDirName = "all-minilm-l6-v2";

struct EncoderOptions {
  // Longest token sequence, [CLS] and [SEP] included (sentence-transformers' max_seq_length for
  // this model is 256); capped by the model's positions.
  int max_tokens = 256;
  // Threads one Encode call may use for a large batch. 0: one when OpenBLAS runs its own threads
  // (the default), else one per core (OPENBLAS_NUM_THREADS=1: ~10 % faster for bulk jobs, see
  // docs/ml.md). A call of one pass runs on the caller's thread alone.
  int threads = 0;
  // Tokens per forward pass: sentences are packed into passes of about this many tokens.
  int batch_tokens = 2048;
};

// Row-major float32 vectors, one row of dim floats per input text.
struct Embeddings {
  size_t rows = 0;
  size_t dim = 0;
  std::vector<float> data;

  std::span<const float> row(size_t i) const { return {data.data() + i * dim, dim}; }
};

class SentenceEncoder {
 public:
  ~SentenceEncoder();
  SentenceEncoder(const SentenceEncoder&) = delete;
  SentenceEncoder& operator=(const SentenceEncoder&) = delete;

  // Loads a model directory. kNotFound (with how to install the model) when the directory or one
  // of its files is missing; kFailedPrecondition when a file is malformed or describes another
  // kind of model.
  static Result<std::unique_ptr<SentenceEncoder>> Load(const std::filesystem::path& model_dir,
                                                       EncoderOptions options = {});

  // One unit-length row per text (an empty text still gets [CLS] [SEP]'s vector). When `stop` is
  // requested during the call (checked between layers), returns no rows: a long batch need not
  // hold up a shutdown.
  Embeddings Encode(std::span<const std::string> texts, std::stop_token stop = {}) const;
  std::vector<float> Encode(std::string_view text) const;
  // The token ids the model sees for a text (after truncation), for counting and debugging.
  std::vector<int32_t> Tokenize(std::string_view text) const;

  size_t dim() const;
  int max_tokens() const { return options_.max_tokens; }
  // "<model dir name>@<first 8 hex digits of model.safetensors' sha256>": changes when the
  // weights do, so stored vectors can say which model made them.
  const std::string& version() const { return version_; }

 private:
  struct Impl;
  SentenceEncoder(std::unique_ptr<Impl> impl, EncoderOptions options, std::string version);

  std::unique_ptr<Impl> impl_;
  EncoderOptions options_;
  std::string version_;
};

// The process-wide encoder of a model directory, loaded on first use and then shared, so modules
// in one process hold one copy. A directory is tried once per process: a failure is logged once
// (a warning saying how to install the model) and the same status is returned to later callers.
Result<std::shared_ptr<const SentenceEncoder>> SharedEncoder(const std::filesystem::path& model_dir);

// The model root: the runtime key `model-dir` when set (it is also EMPORIUM_MODEL_DIR), otherwise
// $HOME/.cache/emporium/models.
std::filesystem::path ModelRoot(const config::Config& config);
// The same without a configuration: $EMPORIUM_MODEL_DIR, otherwise $HOME/.cache/emporium/models.
std::filesystem::path DefaultModelRoot();
// ModelRoot(config) / "all-minilm-l6-v2".
std::filesystem::path EncoderModelDir(const config::Config& config);

}  // namespace emporium::ml
