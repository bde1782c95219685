#include "platform/ml/ann/ann.h"

#include <hnswlib/hnswlib.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>

#include "platform/core/file_util.h"

namespace emporium::ml {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormat = "emporium-ann 1";

Result<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return NotFound("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteFile(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Internal("cannot write " + p.string());
  return Status::Ok();
}

}  // namespace

struct VectorIndex::Impl {
  AnnOptions options;
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
  std::vector<std::string> keys;  // label → key
  std::vector<char> live;         // label → not removed
  std::unordered_map<std::string, size_t> labels;
  size_t live_count = 0;
  std::string metadata;
  // glibc's rwlock prefers readers, so a steady stream of searches would starve a writer: a
  // writer holds `gate` while it waits for `mu`, and a reader passes `gate` before taking `mu`.
  mutable std::shared_mutex mu;
  mutable std::mutex gate;

  std::shared_lock<std::shared_mutex> Read() const {
    std::lock_guard g(gate);
    return std::shared_lock(mu);
  }
  std::unique_lock<std::shared_mutex> Write() const {
    std::lock_guard g(gate);
    return std::unique_lock(mu);
  }

  explicit Impl(const AnnOptions& o) : options(o), space(o.dim) {}

  void NewGraph(size_t capacity) {
    graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, capacity, options.m,
                                                              options.ef_construction, options.seed);
    graph->setEf(options.ef_search);
  }
};

VectorIndex::VectorIndex(AnnOptions options) : impl_(std::make_unique<Impl>(options)) {
  impl_->NewGraph(std::max<size_t>(options.initial_capacity, 16));
}

VectorIndex::VectorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VectorIndex::~VectorIndex() = default;

// Layout of dir: CURRENT names the live version "v<N>"; v<N>/ holds `header` (format, options,
// sizes), `keys` (one "<live 0|1> <key>" line per hnswlib label), `graph` (hnswlib's file) and
// `metadata`. Save writes v<N+1>/ and then swaps CURRENT by rename, so a crash leaves either the
// old or the new index, never half of one.
Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const fs::path& dir) {
  auto current = ReadFile(dir / "CURRENT");
  if (!current.ok()) return NotFound("no vector index in " + dir.string());
  const fs::path v = dir / *current;
  EMP_ASSIGN_OR_RETURN(std::string header, ReadFile(v / "header"));
  std::istringstream h(header);
  std::string format;
  std::getline(h, format);
  AnnOptions o;
  size_t count = 0;
  if (format != kFormat || !(h >> o.dim >> o.m >> o.ef_construction >> o.ef_search >> o.seed >> count) ||
      o.dim == 0) {
    return FailedPrecondition("vector index header in " + v.string() + " is not " + std::string(kFormat));
  }
  auto impl = std::make_unique<Impl>(o);
  EMP_ASSIGN_OR_RETURN(std::string keys, ReadFile(v / "keys"));
  std::istringstream k(keys);
  for (std::string line; std::getline(k, line);) {
    if (line.size() < 3 || (line[0] != '0' && line[0] != '1') || line[1] != ' ') {
      return FailedPrecondition("damaged key list in " + v.string());
    }
    impl->labels.emplace(line.substr(2), impl->keys.size());
    impl->keys.push_back(line.substr(2));
    impl->live.push_back(line[0] == '1');
    impl->live_count += line[0] == '1';
  }
  if (impl->keys.size() != count) return FailedPrecondition("key list and header disagree in " + v.string());
  auto metadata = ReadFile(v / "metadata");
  if (metadata.ok()) impl->metadata = std::move(metadata).value();
  try {
    impl->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&impl->space, (v / "graph").string(),
                                                                    false, std::max<size_t>(count * 2, 16));
    impl->graph->setEf(o.ef_search);
  } catch (const std::exception& e) {
    return FailedPrecondition("cannot load the graph in " + v.string() + ": " + e.what());
  }
  if (impl->graph->cur_element_count != count) {
    return FailedPrecondition("graph and key list disagree in " + v.string());
  }
  return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(impl)));
}

Status VectorIndex::Save(const fs::path& dir, std::string_view metadata) const {
  auto lock = impl_->Read();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  int64_t version = 0;
  if (auto current = ReadFile(dir / "CURRENT"); current.ok() && current->size() > 1) {
    version = std::atoll(current->c_str() + 1);
  }
  const std::string old_name = "v" + std::to_string(version);
  const std::string name = "v" + std::to_string(version + 1);
  const fs::path v = dir / name;
  fs::remove_all(v, ec);
  fs::create_directories(v, ec);
  if (ec) return Internal("cannot create " + v.string() + ": " + ec.message());
  const AnnOptions& o = impl_->options;
  std::string header = std::string(kFormat) + "\n" + std::to_string(o.dim) + " " + std::to_string(o.m) + " " +
                       std::to_string(o.ef_construction) + " " + std::to_string(o.ef_search) + " " +
                       std::to_string(o.seed) + " " + std::to_string(impl_->keys.size()) + "\n";
  std::string keys;
  for (size_t i = 0; i < impl_->keys.size(); ++i) {
    keys += impl_->live[i] ? "1 " : "0 ";
    keys += impl_->keys[i];
    keys += '\n';
  }
  EMP_RETURN_IF_ERROR(WriteFile(v / "header", header));
  EMP_RETURN_IF_ERROR(WriteFile(v / "keys", keys));
  EMP_RETURN_IF_ERROR(WriteFile(v / "metadata", metadata));
  try {
    impl_->graph->saveIndex((v / "graph").string());
  } catch (const std::exception& e) {
    return Internal("cannot save the graph in " + v.string() + ": " + e.what());
  }
  EMP_RETURN_IF_ERROR(fileutil::WriteFileAtomic((dir / "CURRENT").string(), name));
  fs::remove_all(dir / old_name, ec);
  return Status::Ok();
}

const std::string& VectorIndex::loaded_metadata() const {
  return impl_->metadata;
}

Status VectorIndex::Upsert(std::string_view key, std::span<const float> vector) {
  if (key.empty() || key.find('\n') != std::string_view::npos) {
    return InvalidArgument("vector keys are non-empty single lines");
  }
  if (vector.size() != impl_->options.dim) {
    return InvalidArgument("vector of " + std::to_string(vector.size()) + " floats, the index holds " +
                           std::to_string(impl_->options.dim));
  }
  auto lock = impl_->Write();
  Impl& s = *impl_;
  auto [it, inserted] = s.labels.try_emplace(std::string(key), s.keys.size());
  const size_t label = it->second;
  try {
    if (inserted) {
      if (s.keys.size() >= s.graph->max_elements_) s.graph->resizeIndex(s.graph->max_elements_ * 2);
      s.keys.emplace_back(key);
      s.live.push_back(0);
    }
    s.graph->addPoint(vector.data(), label);
  } catch (const std::exception& e) {
    if (inserted) {
      s.labels.erase(it);
      s.keys.pop_back();
      s.live.pop_back();
    }
    return Internal(std::string("vector index: ") + e.what());
  }
  if (!s.live[label]) {
    s.live[label] = 1;
    ++s.live_count;
  }
  return Status::Ok();
}

bool VectorIndex::Remove(std::string_view key) {
  auto lock = impl_->Write();
  Impl& s = *impl_;
  auto it = s.labels.find(std::string(key));
  if (it == s.labels.end() || !s.live[it->second]) return false;
  s.graph->markDelete(it->second);
  s.live[it->second] = 0;
  --s.live_count;
  return true;
}

bool VectorIndex::Contains(std::string_view key) const {
  auto lock = impl_->Read();
  auto it = impl_->labels.find(std::string(key));
  return it != impl_->labels.end() && impl_->live[it->second];
}

std::vector<Neighbor> VectorIndex::Search(std::span<const float> query, size_t k) const {
  std::vector<Neighbor> out;
  if (query.size() != impl_->options.dim || k == 0) return out;
  auto lock = impl_->Read();
  const Impl& s = *impl_;
  k = std::min(k, s.live_count);
  if (k == 0) return out;
  auto heap = s.graph->searchKnn(query.data(), k);
  out.resize(heap.size());
  for (size_t i = heap.size(); i-- > 0; heap.pop()) {
    out[i] = Neighbor{s.keys[heap.top().second], 1.0f - heap.top().first};
  }
  return out;
}

std::vector<float> VectorIndex::Similarity(std::span<const float> query,
                                           std::span<const std::string> keys) const {
  std::vector<float> out(keys.size(), std::numeric_limits<float>::quiet_NaN());
  if (query.size() != impl_->options.dim) return out;
  auto lock = impl_->Read();
  const Impl& s = *impl_;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto label = s.labels.find(keys[i]);
    if (label == s.labels.end() || !s.live[label->second]) continue;
    auto internal = s.graph->label_lookup_.find(label->second);
    if (internal == s.graph->label_lookup_.end()) continue;
    out[i] = 1.0f - s.graph->fstdistfunc_(query.data(), s.graph->getDataByInternalId(internal->second),
                                          s.graph->dist_func_param_);
  }
  return out;
}

std::vector<float> VectorIndex::Centroid(std::span<const std::string> keys) const {
  std::vector<float> sum(impl_->options.dim, 0.0f);
  size_t found = 0;
  {
    auto lock = impl_->Read();
    const Impl& s = *impl_;
    for (const std::string& key : keys) {
      auto label = s.labels.find(key);
      if (label == s.labels.end() || !s.live[label->second]) continue;
      auto internal = s.graph->label_lookup_.find(label->second);
      if (internal == s.graph->label_lookup_.end()) continue;
      const auto* v = reinterpret_cast<const float*>(s.graph->getDataByInternalId(internal->second));
      for (size_t d = 0; d < sum.size(); ++d) sum[d] += v[d];
      ++found;
    }
  }
  if (found == 0) return {};
  double norm = 0;
  for (float x : sum) norm += static_cast<double>(x) * x;
  if (norm <= 0) return {};
  const float scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : sum) x *= scale;
  return sum;
}

size_t VectorIndex::size() const {
  auto lock = impl_->Read();
  return impl_->live_count;
}

size_t VectorIndex::dim() const {
  return impl_->options.dim;
}

}  // namespace emporium::ml
