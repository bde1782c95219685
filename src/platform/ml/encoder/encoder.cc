#include "platform/ml/encoder/encoder.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "platform/core/json.h"
#include "platform/crypto/crypto.h"
#include "platform/log/log.h"
#include "platform/ml/encoder/bert.h"
#include "platform/ml/encoder/safetensors.h"
#include "platform/ml/encoder/tokenizer.h"

namespace emporium::ml {
namespace {

constexpr std::string_view kInstallHint =
    "install it with `make deps` (or scripts/fetch-model.sh; EMPORIUM_MODEL_DIR picks the model root)";

Result<std::string> ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return NotFound(path.string() + " is missing");
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    return FailedPrecondition("cannot read " + path.string());
  }
  return bytes;
}

// A file that is there but wrong is kFailedPrecondition whatever the parser called it: the
// install is broken, not the caller's request.
Status Broken(const std::filesystem::path& file, const Status& s) {
  return FailedPrecondition("sentence encoder model: " + file.string() + ": " + s.message() +
                            "; reinstall it with scripts/fetch-model.sh");
}

// Only mean pooling is implemented; a model that pools otherwise must not load silently.
Status CheckPooling(const std::filesystem::path& file) {
  auto text = ReadText(file);
  if (!text.ok()) return text.status();
  auto doc = json::Parse(*text);
  if (!doc.ok()) return Broken(file, doc.status());
  const auto* o = doc->if_object();
  const auto* mean = o ? o->if_contains("pooling_mode_mean_tokens") : nullptr;
  if (!mean || !mean->is_bool() || !mean->get_bool())
    return Broken(file, InvalidArgument("not mean pooling"));
  for (const auto& [key, value] : *o) {
    if (key != "pooling_mode_mean_tokens" && key.starts_with("pooling_mode_") && value.is_bool() &&
        value.get_bool()) {
      return Broken(file, InvalidArgument(std::string(key) + " is not supported"));
    }
  }
  return Status::Ok();
}

}  // namespace

struct SentenceEncoder::Impl {
  WordPieceTokenizer tokenizer;
  BertModel model;
};

SentenceEncoder::SentenceEncoder(std::unique_ptr<Impl> impl, EncoderOptions options, std::string version)
    : impl_(std::move(impl)), options_(options), version_(std::move(version)) {}

SentenceEncoder::~SentenceEncoder() = default;

Result<std::unique_ptr<SentenceEncoder>> SentenceEncoder::Load(const std::filesystem::path& dir,
                                                               EncoderOptions options) {
  const std::filesystem::path files[] = {dir / "model.safetensors", dir / "config.json",
                                         dir / "tokenizer.json", dir / "1_Pooling" / "config.json"};
  for (const auto& f : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(f, ec)) {
      return NotFound("sentence encoder model not found: " + f.string() + " is missing; " +
                      std::string(kInstallHint));
    }
  }
  EMP_RETURN_IF_ERROR(CheckPooling(files[3]));

  EMP_ASSIGN_OR_RETURN(std::string config_text, ReadText(files[1]));
  auto config = ParseBertConfig(config_text);
  if (!config.ok()) return Broken(files[1], config.status());

  auto tokenizer = WordPieceTokenizer::Load(files[2]);
  if (!tokenizer.ok()) return Broken(files[2], tokenizer.status());
  if (tokenizer->vocab_size() > static_cast<size_t>(config->vocab)) {
    return Broken(files[2], InvalidArgument("vocabulary larger than the model's vocab_size"));
  }

  EMP_ASSIGN_OR_RETURN(std::string weights, ReadText(files[0]));
  const std::string version =
      dir.filename().string() + "@" + crypto::HexEncode(crypto::Sha256(weights)).substr(0, 8);
  auto st = SafeTensors::Parse(std::move(weights));
  if (!st.ok()) return Broken(files[0], st.status());
  auto model = BertModel::FromSafeTensors(*st, *config);
  if (!model.ok()) {
    return Broken(files[0], InvalidArgument("does not match config.json: " + model.status().message()));
  }

  options.max_tokens = std::clamp(options.max_tokens, 2, config->max_positions);
  options.batch_tokens = std::max(options.batch_tokens, options.max_tokens);
  // Our threads and OpenBLAS's would fight over the same cores (measured slower than either
  // alone): when OpenBLAS runs multi-threaded, one Encode call keeps to one thread of its own.
  if (options.threads <= 0) {
    options.threads = openblas_get_num_threads() > 1
                          ? 1
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  auto impl = std::make_unique<Impl>(Impl{std::move(*tokenizer), std::move(*model)});
  return std::unique_ptr<SentenceEncoder>(new SentenceEncoder(std::move(impl), options, version));
}

size_t SentenceEncoder::dim() const {
  return static_cast<size_t>(impl_->model.config().hidden);
}

std::vector<int32_t> SentenceEncoder::Tokenize(std::string_view text) const {
  return impl_->tokenizer.Encode(text, static_cast<size_t>(options_.max_tokens));
}

Embeddings SentenceEncoder::Encode(std::span<const std::string> texts, std::stop_token stop) const {
  Embeddings out;
  out.rows = texts.size();
  out.dim = dim();
  out.data.resize(out.rows * out.dim);
  if (texts.empty()) return out;
  const size_t n = texts.size();
  const size_t threads = std::min<size_t>(static_cast<size_t>(options_.threads), n);

  // Runs fn(i, worker) for i in [0, count) on up to `threads` threads (the caller's is worker 0).
  auto parallel = [](size_t count, size_t threads, const auto& fn) {
    std::atomic<size_t> next{0};
    auto work = [&](size_t worker) {
      for (size_t i; (i = next.fetch_add(1)) < count;) fn(i, worker);
    };
    std::vector<std::jthread> helpers;
    for (size_t t = 1; t < std::min(threads, count); ++t) helpers.emplace_back(work, t);
    work(0);
  };

  std::vector<std::vector<int32_t>> ids(n);
  constexpr size_t kTokenizeChunk = 64;
  parallel((n + kTokenizeChunk - 1) / kTokenizeChunk, n > kTokenizeChunk ? threads : 1,
           [&](size_t c, size_t) {
             for (size_t i = c * kTokenizeChunk; i < std::min(n, (c + 1) * kTokenizeChunk); ++i)
               ids[i] = Tokenize(texts[i]);
           });

  // Consecutive sentences packed into passes of about batch_tokens tokens each.
  std::vector<std::pair<size_t, size_t>> batches;
  for (size_t begin = 0, tokens = 0, i = 0; i < n; ++i) {
    tokens += ids[i].size();
    if (tokens >= static_cast<size_t>(options_.batch_tokens) || i + 1 == n) {
      batches.emplace_back(begin, i + 1);
      begin = i + 1;
      tokens = 0;
    }
  }
  std::vector<BertWorkspace> workspaces(threads);  // one per worker, reused across its passes
  std::atomic<bool> stopped{false};
  parallel(batches.size(), threads, [&](size_t b, size_t worker) {
    if (stopped) return;
    const auto [begin, end] = batches[b];
    std::vector<int32_t> packed, lengths;
    for (size_t i = begin; i < end; ++i) {
      packed.insert(packed.end(), ids[i].begin(), ids[i].end());
      lengths.push_back(static_cast<int32_t>(ids[i].size()));
    }
    if (!impl_->model.Encode(packed, lengths, out.data.data() + begin * out.dim, &workspaces[worker], stop))
      stopped = true;
  });
  if (stopped) return Embeddings{.rows = 0, .dim = dim(), .data = {}};
  return out;
}

std::vector<float> SentenceEncoder::Encode(std::string_view text) const {
  const std::vector<int32_t> ids = Tokenize(text);
  const int32_t length = static_cast<int32_t>(ids.size());
  std::vector<float> out(dim());
  BertWorkspace ws;
  impl_->model.Encode(ids, {&length, 1}, out.data(), &ws);
  return out;
}

Result<std::shared_ptr<const SentenceEncoder>> SharedEncoder(const std::filesystem::path& model_dir) {
  static std::mutex mu;
  static std::map<std::filesystem::path, Result<std::shared_ptr<const SentenceEncoder>>> loaded;
  std::filesystem::path key = model_dir.lexically_normal();
  if (!key.has_filename()) key = key.parent_path();  // "dir/" and "dir" are one model
  // Held while loading, so concurrent first callers wait for the one load instead of repeating it.
  std::lock_guard lock(mu);
  if (auto it = loaded.find(key); it != loaded.end()) return it->second;
  auto encoder = SentenceEncoder::Load(key);
  if (!encoder.ok()) {
    log::Warn("sentence encoder unavailable; features that need it fall back",
              {{"model_dir", key.string()}, {"error", encoder.status().ToString()}});
    return loaded.emplace(key, encoder.status()).first->second;
  }
  std::shared_ptr<const SentenceEncoder> shared = std::move(*encoder);
  log::Info("sentence encoder loaded", {{"model_dir", key.string()}, {"version", shared->version()}});
  return loaded.emplace(key, shared).first->second;
}

std::filesystem::path DefaultModelRoot() {
  if (const char* env = std::getenv("EMPORIUM_MODEL_DIR"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".cache" / "emporium" / "models";
}

std::filesystem::path ModelRoot(const config::Config& config) {
  const std::string& dir = config.Get("model-dir");
  if (!dir.empty()) return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".cache" / "emporium" / "models";
}

std::filesystem::path EncoderModelDir(const config::Config& config) {
  return ModelRoot(config) / kMiniLmDirName;
}

}  // namespace emporium::ml
