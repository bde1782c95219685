#include "services/search/vectors.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "platform/log/log.h"
#include "platform/ml/ann/ann.h"
#include "platform/ml/encoder/encoder.h"

namespace emporium::search {
namespace {

constexpr size_t kDrainBatches = 16;

using Clock = std::chrono::steady_clock;

// Queues this long are a rebuild: their progress is logged.
constexpr size_t kLoggedQueue = 1000;
constexpr auto kProgressEvery = std::chrono::seconds(5);

struct Pending {
  int64_t version = 0;
  std::string text;
  bool remove = false;
};

struct Item {
  std::string id;
  Pending p;
};

// Saved metadata: "encoder <version>\n" then one "<version> <product id>" line per vector.
std::string Metadata(const std::string& encoder, const std::unordered_map<std::string, int64_t>& versions) {
  std::string out = "encoder " + encoder + "\n";
  for (const auto& [id, v] : versions) out += std::to_string(v) + " " + id + "\n";
  return out;
}

bool ParseMetadata(const std::string& text, std::string* encoder,
                   std::unordered_map<std::string, int64_t>* versions) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || !line.starts_with("encoder ")) return false;
  *encoder = line.substr(8);
  while (std::getline(in, line)) {
    size_t space = line.find(' ');
    if (space == std::string::npos) return false;
    (*versions)[line.substr(space + 1)] = std::atoll(line.substr(0, space).c_str());
  }
  return true;
}

}  // namespace

struct ProductVectors::State {
  std::shared_ptr<const ml::SentenceEncoder> encoder;
  VectorsOptions options;
  std::unique_ptr<ml::VectorIndex> ann;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, Pending> queued;
  std::deque<std::string> order;                      // ids in queued, first come first embedded
  std::unordered_map<std::string, int64_t> versions;  // embedded product → its version
  bool dirty = false;
  bool stop = false;
  std::stop_source stopper;  // interrupts the worker's Encode call at Stop
  Clock::time_point last_save = Clock::now();
  // Progress of a large queue.
  size_t run_total = 0, run_done = 0;
  Clock::time_point run_start, last_progress;

  std::mutex worker_mu;  // one embedding batch at a time (worker or Drain)
  std::thread worker;

  void Enqueue(const std::string& id, Pending p) {
    auto [it, inserted] = queued.insert_or_assign(id, std::move(p));
    if (inserted) order.push_back(id);
    if (order.size() >= kLoggedQueue && run_total == 0) {
      run_total = order.size();
      run_done = 0;
      run_start = last_progress = Clock::now();
    } else if (run_total) {
      run_total += inserted;
    }
  }

  std::vector<Item> Take(size_t n) {
    std::vector<Item> batch;
    while (!order.empty() && batch.size() < n) {
      auto it = queued.find(order.front());
      order.pop_front();
      batch.push_back(Item{it->first, std::move(it->second)});
      queued.erase(it);
    }
    return batch;
  }

  // The k nearest products to the query vector, and the similarity of any other.
  SemanticCandidates Near(std::vector<float> query, size_t k) const {
    SemanticCandidates out;
    for (ml::Neighbor& n : ann->Search(query, k)) {
      out.ids.push_back(std::move(n.key));
      out.similarity.push_back(n.similarity);
    }
    out.similarity_of = [index = ann.get(), q = std::move(query)](const std::vector<std::string>& ids) {
      return index->Similarity(q, ids);
    };
    return out;
  }

  // Embeds and stores one batch (worker_mu held, mu not). Products whose Encode was interrupted by
  // `stop` go back to the front of the queue (unless queued again meanwhile) and keep their stored
  // version, so a restarted worker, or the next process's Reconcile, embeds them.
  void Apply(std::vector<Item>& batch, std::stop_token stop = {}) {
    std::vector<std::string> texts;
    std::vector<size_t> upserts;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].p.remove) {
        ann->Remove(batch[i].id);
      } else {
        texts.push_back(std::move(batch[i].p.text));
        upserts.push_back(i);
      }
    }
    ml::Embeddings e = texts.empty() ? ml::Embeddings{} : encoder->Encode(texts, stop);
    std::vector<bool> stored(batch.size(), true);
    if (e.rows < texts.size()) {
      std::lock_guard lock(mu);
      for (size_t j = upserts.size(); j-- > 0;) {
        Item& item = batch[upserts[j]];
        stored[upserts[j]] = false;
        if (queued.count(item.id)) continue;
        item.p.text = std::move(texts[j]);
        queued.emplace(item.id, std::move(item.p));
        order.push_front(item.id);
      }
      upserts.clear();
    }
    for (size_t j = 0; j < upserts.size(); ++j) {
      Status s = ann->Upsert(batch[upserts[j]].id, e.row(j));
      if (!s.ok()) {
        stored[upserts[j]] = false;
        log::Error("search vectors: cannot store a vector",
                   {{"product_id", batch[upserts[j]].id}, {"error", s.ToString()}});
      }
    }
    std::lock_guard lock(mu);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].p.remove) {
        versions.erase(batch[i].id);
      } else if (stored[i]) {
        versions[batch[i].id] = batch[i].p.version;
      }
    }
    dirty = true;
    if (run_total) {
      run_done += batch.size();
      const auto now = Clock::now();
      if (order.empty() || now - last_progress >= kProgressEvery) {
        double secs = std::chrono::duration<double>(now - run_start).count();
        double rate = secs > 0 ? static_cast<double>(run_done) / secs : 0;
        log::Info(
            "search vectors: embedding products",
            {{"done", run_done},
             {"total", run_total},
             {"per_second", static_cast<int64_t>(rate)},
             {"eta_seconds", rate > 0 ? static_cast<int64_t>(static_cast<double>(order.size()) / rate) : 0}});
        last_progress = now;
      }
      if (order.empty()) run_total = 0;
    }
  }

  // Saves when dirty (worker_mu held, mu not).
  void Save() {
    if (options.dir.empty()) return;
    std::string metadata;
    {
      std::lock_guard lock(mu);
      if (!dirty) return;
      metadata = Metadata(encoder->version(), versions);
      dirty = false;
      last_save = Clock::now();
    }
    if (Status s = ann->Save(options.dir, metadata); !s.ok()) {
      log::Error("search vectors: cannot save", {{"error", s.ToString()}});
      std::lock_guard lock(mu);
      dirty = true;
    }
  }

  void Run() {
    for (;;) {
      std::vector<Item> batch;
      bool save = false;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, options.save_every, [&] { return stop || !order.empty(); });
        if (stop) return;
        batch = Take(options.batch);
        save = dirty && Clock::now() - last_save >= options.save_every;
      }
      std::lock_guard work(worker_mu);
      if (!batch.empty()) Apply(batch, stopper.get_token());
      if (save) Save();
    }
  }
};

ProductVectors::ProductVectors(std::unique_ptr<State> state) : state_(std::move(state)) {}

ProductVectors::~ProductVectors() {
  Stop();
}

Result<std::unique_ptr<ProductVectors>> ProductVectors::Open(
    std::shared_ptr<const ml::SentenceEncoder> encoder, VectorsOptions options) {
  if (!encoder) return InvalidArgument("product vectors need an encoder");
  auto s = std::make_unique<State>();
  s->encoder = std::move(encoder);
  s->options = std::move(options);
  if (!s->options.dir.empty()) {
    auto loaded = ml::VectorIndex::Load(s->options.dir);
    std::string saved_encoder;
    std::unordered_map<std::string, int64_t> versions;
    if (loaded.ok() && ParseMetadata((*loaded)->loaded_metadata(), &saved_encoder, &versions) &&
        saved_encoder == s->encoder->version() && (*loaded)->dim() == s->encoder->dim()) {
      s->ann = std::move(loaded).value();
      s->versions = std::move(versions);
      log::Info("search vectors: loaded", {{"products", s->versions.size()}, {"encoder", saved_encoder}});
    } else if (loaded.ok()) {
      log::Info("search vectors: saved vectors are from another model; re-embedding",
                {{"saved", saved_encoder}, {"encoder", s->encoder->version()}});
    } else if (loaded.status().code() != Code::kNotFound) {
      log::Warn("search vectors: saved vectors unreadable; re-embedding",
                {{"error", loaded.status().ToString()}});
    }
  }
  if (!s->ann) s->ann = std::make_unique<ml::VectorIndex>(ml::AnnOptions{.dim = s->encoder->dim()});
  return std::unique_ptr<ProductVectors>(new ProductVectors(std::move(s)));
}

void ProductVectors::Reconcile(const std::vector<IndexedProduct>& products) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  std::unordered_map<std::string, bool> indexed;
  for (const IndexedProduct& p : products) {
    indexed.emplace(p.id, true);
    auto v = s.versions.find(p.id);
    if (v == s.versions.end() || v->second != p.version) s.Enqueue(p.id, Pending{p.version, p.text, false});
  }
  for (const auto& [id, v] : s.versions) {
    if (!indexed.count(id)) s.Enqueue(id, Pending{0, "", true});
  }
  s.cv.notify_one();
}

void ProductVectors::Start() {
  State& s = *state_;
  if (s.worker.joinable()) return;
  s.stop = false;
  s.stopper = std::stop_source{};
  s.worker = std::thread([&s] { s.Run(); });
}

void ProductVectors::Stop() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    s.stop = true;
  }
  s.stopper.request_stop();
  s.cv.notify_all();
  if (s.worker.joinable()) s.worker.join();
  std::lock_guard work(s.worker_mu);
  s.Save();
}

void ProductVectors::Upserted(const ProductDoc& product) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    s.Enqueue(product.id, Pending{product.version, EmbeddingText(product), false});
  }
  s.cv.notify_one();
}

void ProductVectors::Removed(const std::string& product_id) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    s.Enqueue(product_id, Pending{0, "", true});
  }
  s.cv.notify_one();
}

SemanticCandidates ProductVectors::Candidates(std::string_view text) const {
  return Candidates(text, state_->options.candidates);
}

SemanticCandidates ProductVectors::Candidates(std::string_view text, size_t k) const {
  return state_->Near(state_->encoder->Encode(text), k);
}

SemanticCandidates ProductVectors::Like(std::span<const std::string> of, size_t k) const {
  std::vector<float> centroid = state_->ann->Centroid(of);
  if (centroid.empty()) return {};
  SemanticCandidates near = state_->Near(std::move(centroid), k + of.size());
  SemanticCandidates out;
  for (size_t i = 0; i < near.ids.size() && out.ids.size() < k; ++i) {
    if (std::find(of.begin(), of.end(), near.ids[i]) != of.end()) continue;
    out.ids.push_back(std::move(near.ids[i]));
    out.similarity.push_back(near.similarity[i]);
  }
  out.similarity_of = std::move(near.similarity_of);
  return out;
}

std::vector<float> ProductVectors::SimilarityToCentroid(std::span<const std::string> of,
                                                        std::span<const std::string> candidates) const {
  std::vector<float> centroid = state_->ann->Centroid(of);
  if (centroid.empty()) return std::vector<float>(candidates.size(), std::numeric_limits<float>::quiet_NaN());
  return state_->ann->Similarity(centroid, candidates);
}

std::vector<SemanticCandidates> ProductVectors::Candidates(std::span<const std::string> texts, size_t k,
                                                           std::stop_token stop) const {
  std::vector<SemanticCandidates> out;
  ml::Embeddings e = state_->encoder->Encode(texts, stop);
  if (e.rows < texts.size()) return out;
  out.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::span<const float> row = e.row(i);
    out.push_back(state_->Near(std::vector<float>(row.begin(), row.end()), k));
  }
  return out;
}

Status ProductVectors::Drain(const std::function<void(size_t, size_t)>& progress) {
  State& s = *state_;
  size_t total = pending(), done = 0;
  for (;;) {
    std::lock_guard work(s.worker_mu);
    std::vector<Item> batch;
    {
      std::lock_guard lock(s.mu);
      // Commands drain in larger batches: one Encode call then spans several passes and cores.
      batch = s.Take(s.options.batch * kDrainBatches);
    }
    if (batch.empty()) break;
    done += batch.size();
    s.Apply(batch);
    if (progress) progress(done, std::max(total, done));
  }
  std::lock_guard work(s.worker_mu);
  s.Save();
  return Status::Ok();
}

size_t ProductVectors::size() const {
  return state_->ann->size();
}

size_t ProductVectors::pending() const {
  std::lock_guard lock(state_->mu);
  return state_->order.size();
}

const std::string& ProductVectors::encoder_version() const {
  return state_->encoder->version();
}

}  // namespace emporium::search
