// Product vectors for semantic and hybrid search: the sentence encoder's embedding of each
// indexed product (EmbeddingText) in an ANN index, following the Xapian index as its listener.
//
// Writes are queued and embedded in batches on a worker thread, so catalog events and rebuilds
// never wait for the encoder; a search sees every product embedded so far. The vectors are saved
// under <dir> with the encoder version and each product's version (every 30 s while changing,
// and at Stop), so a restart re-embeds only what changed; Reconcile queues the products the
// saved vectors lack or hold at an older version (all of them after a model change), and a large
// queue logs its progress. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "platform/core/status.h"
#include "services/search/index.h"

namespace emporium::ml {
class SentenceEncoder;
}

namespace emporium::search {

struct VectorsOptions {
  std::filesystem::path dir;  // where the ANN index is saved (empty: never saved)
  size_t batch = 32;          // products per Encode call
  std::chrono::milliseconds save_every{30'000};
  size_t candidates = 200;  // nearest products one query asks for
};

class ProductVectors final : public IndexListener {
 public:
  // Loads the saved vectors when they were made by this encoder, else starts empty.
  static Result<std::unique_ptr<ProductVectors>> Open(std::shared_ptr<const ml::SentenceEncoder> encoder,
                                                      VectorsOptions options);
  ~ProductVectors() override;

  // Queues what the index has and the vectors do not (call before Start, with index.Products()).
  void Reconcile(const std::vector<IndexedProduct>& products);
  void Start();
  // Interrupts the batch in progress (between encoder layers; its products stay queued), saves,
  // stops the worker. Idempotent.
  void Stop();

  void Upserted(const ProductDoc& product) override;
  void Removed(const std::string& product_id) override;

  // The nearest products to the text. Thread-safe; embeds the query on the caller's thread.
  SemanticCandidates Candidates(std::string_view text) const;
  SemanticCandidates Candidates(std::string_view text, size_t k) const;
  // The same for many texts, embedded in batches (evaluation, training). None when `stop` was
  // requested meanwhile.
  std::vector<SemanticCandidates> Candidates(std::span<const std::string> texts, size_t k,
                                             std::stop_token stop = {}) const;

  // The k products nearest to the centroid of the `of` products' vectors, none of `of` (empty when
  // none of them has a vector): "products like these", by their text. Thread-safe.
  SemanticCandidates Like(std::span<const std::string> of, size_t k) const;

  // The cosine of each candidate's vector to the centroid of the `of` products' vectors (NaN for
  // a candidate without a vector; all NaN when none of `of` has one). Personalization: how much a
  // candidate is like what the shopper looked at lately.
  std::vector<float> SimilarityToCentroid(std::span<const std::string> of,
                                          std::span<const std::string> candidates) const;

  // Embeds everything queued on the caller's thread (commands, tests); `progress` gets the
  // number done after each batch.
  Status Drain(const std::function<void(size_t done, size_t total)>& progress = {});

  size_t size() const;     // products with a vector
  size_t pending() const;  // queued for embedding
  const std::string& encoder_version() const;

  struct State;

 private:
  explicit ProductVectors(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace emporium::search
