// Approximate nearest neighbours over unit vectors (cosine = inner product), for every model that
// retrieves by embedding: search's product vectors, recommendations, the assistant.
//
// A VectorIndex maps string keys (product ids) to float vectors in an HNSW graph (hnswlib).
// Upsert replaces a key's vector; Remove hides it from searches (hnswlib marks it deleted; the
// slot is reused when the key comes back). Save writes the graph and the keys into a directory
// atomically (a temp directory renamed into place), with a caller's metadata string (e.g. the
// encoder version and the product versions) that Load hands back.
//
// Thread-safety: every method may be called from any thread. Searches run in parallel; a write
// waits for the searches in progress (a shared mutex), so writers should batch.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"

namespace emporium::ml {

struct AnnOptions {
  size_t dim = 0;
  size_t m = 16;                   // graph degree (hnswlib M)
  size_t ef_construction = 200;    // candidate list while inserting
  size_t ef_search = 200;          // candidate list while searching (≥ the k asked for)
  size_t initial_capacity = 1024;  // grows by doubling
  uint64_t seed = 100;
};

struct Neighbor {
  std::string key;
  float similarity = 0;  // inner product: cosine for unit vectors
};

class VectorIndex {
 public:
  explicit VectorIndex(AnnOptions options);
  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // kNotFound when dir holds no index; kFailedPrecondition when its files are damaged.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::filesystem::path& dir);
  // Writes the index and metadata into dir (replacing what is there).
  Status Save(const std::filesystem::path& dir, std::string_view metadata) const;
  // The metadata of the last Load (empty for a new index).
  const std::string& loaded_metadata() const;

  // kInvalidArgument when the vector has the wrong dimension or a key is empty.
  Status Upsert(std::string_view key, std::span<const float> vector);
  // False when the key is not in the index.
  bool Remove(std::string_view key);
  bool Contains(std::string_view key) const;

  // Up to k live keys, most similar first.
  std::vector<Neighbor> Search(std::span<const float> query, size_t k) const;
  // The similarity of each key's vector to the query, exactly (no graph walk); NaN for a key that
  // is not in the index (and for all when the query has the wrong dimension).
  std::vector<float> Similarity(std::span<const float> query, std::span<const std::string> keys) const;
  // The normalized mean of the vectors of the keys in the index (a centroid: "what these are
  // like"); empty when none is.
  std::vector<float> Centroid(std::span<const std::string> keys) const;

  size_t size() const;  // live keys
  size_t dim() const;

 private:
  struct Impl;
  explicit VectorIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace emporium::ml
