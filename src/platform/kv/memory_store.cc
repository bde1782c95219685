#include "platform/kv/memory_store.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace emporium::kv {
namespace {

// A shard is never swept more often than this, so small shards do not sweep on every call.
constexpr size_t kMinOpsBetweenSweeps = 1024;

bool Expired(int64_t expires_at_ms, int64_t now_ms) {
  return expires_at_ms != 0 && expires_at_ms <= now_ms;
}

// Redis's rule: the whole value is a base-10 int64 with no spaces or '+'.
std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.front() == '+') return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Status CheckTtl(Millis ttl) {
  if (ttl.count() < 0) return InvalidArgument("kv: negative ttl");
  return Status::Ok();
}

}  // namespace

MemoryStore::MemoryStore(Clock& clock, MemoryStoreOptions options)
    : clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<MemoryStore>> MemoryStore::Open(Clock& clock, MemoryStoreOptions options) {
  auto store = std::make_unique<MemoryStore>(clock, std::move(options));
  if (!store->options_.dir) return store;
  int64_t now_ms = store->NowMs();
  bool replayed_logs = false;
  EMP_ASSIGN_OR_RETURN(
      store->journal_,
      Journal::Open(
          *store->options_.dir, [&](Record&& r) { store->Apply(std::move(r), now_ms); }, replayed_logs));
  // Folding the old logs into a snapshot now also drops the keys that expired while we were down.
  if (replayed_logs) EMP_RETURN_IF_ERROR(store->Compact());
  return store;
}

void MemoryStore::Apply(Record&& record, int64_t now_ms) {
  Shard& shard = ShardFor(record.key);
  std::lock_guard lock(shard.mu);
  if (record.type == Record::Type::kDelete || Expired(record.expires_at_ms, now_ms)) {
    shard.map.erase(record.key);
    return;
  }
  Entry entry{std::move(record.value), record.expires_at_ms};
  shard.map.insert_or_assign(std::move(record.key), std::move(entry));
}

int64_t MemoryStore::NowMs() const {
  return UnixMillis(clock_.WallNow());
}

MemoryStore::Shard& MemoryStore::ShardFor(std::string_view key) {
  return shards_[Hash{}(key) % kShards];
}

MemoryStore::Entry* MemoryStore::FindLive(Shard& shard, std::string_view key, int64_t now_ms) {
  if (++shard.ops >= std::max(kMinOpsBetweenSweeps, shard.map.size())) {
    std::erase_if(shard.map, [&](const auto& kv) { return Expired(kv.second.expires_at_ms, now_ms); });
    shard.ops = 0;
  }
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return nullptr;
  if (Expired(it->second.expires_at_ms, now_ms)) {
    // Expiry is absolute in the log too, so dropping it needs no log record.
    shard.map.erase(it);
    return nullptr;
  }
  return &it->second;
}

Result<uint64_t> MemoryStore::Put(Shard& shard, std::string_view key, std::string value,
                                  int64_t expires_at_ms) {
  uint64_t seq = 0;
  if (journal_) {
    Record record{Record::Type::kPut, std::string(key), value, expires_at_ms};
    EMP_ASSIGN_OR_RETURN(seq, journal_->Append(record));
  }
  auto it = shard.map.find(key);
  if (it == shard.map.end()) {
    shard.map.emplace(std::string(key), Entry{std::move(value), expires_at_ms});
  } else {
    it->second = Entry{std::move(value), expires_at_ms};
  }
  return seq;
}

Result<uint64_t> MemoryStore::Erase(Shard& shard, std::string_view key) {
  uint64_t seq = 0;
  if (journal_) {
    EMP_ASSIGN_OR_RETURN(seq, journal_->Append(Record{Record::Type::kDelete, std::string(key), {}, 0}));
  }
  auto it = shard.map.find(key);
  if (it != shard.map.end()) shard.map.erase(it);
  return seq;
}

Status MemoryStore::Commit(uint64_t seq) {
  if (!journal_) return Status::Ok();
  EMP_RETURN_IF_ERROR(journal_->Sync(seq));
  uint64_t limit =
      std::max({options_.compact_log_bytes, journal_->SnapshotBytes(), retry_compact_bytes_.load()});
  if (journal_->LogBytes() <= limit) return Status::Ok();
  std::unique_lock lock(compact_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Status::Ok();  // someone else is compacting
  if (journal_->LogBytes() <= limit) return Status::Ok();
  // The write itself is durable; a failed compaction only means the log keeps growing for now.
  if (!CompactLocked().ok()) retry_compact_bytes_ = 2 * journal_->LogBytes();
  return Status::Ok();
}

Status MemoryStore::Compact() {
  if (!journal_) return Status::Ok();
  std::lock_guard lock(compact_mu_);
  return CompactLocked();
}

Status MemoryStore::CompactLocked() {
  // Switching logs first means every record in the old logs is already in the map; records in
  // the new log may also be in the snapshot, which is fine because they carry absolute state.
  EMP_ASSIGN_OR_RETURN(uint64_t first_gen, journal_->StartNewLog());
  Status s = journal_->WriteSnapshot(first_gen, [&](const Journal::ChunkWriter& write) -> Status {
    std::string chunk;
    for (Shard& shard : shards_) {
      chunk.clear();
      {
        std::lock_guard lock(shard.mu);
        int64_t now_ms = NowMs();
        for (const auto& [key, entry] : shard.map) {
          if (Expired(entry.expires_at_ms, now_ms)) continue;
          EncodeRecord(Record{Record::Type::kPut, key, entry.value, entry.expires_at_ms}, chunk);
        }
      }
      EMP_RETURN_IF_ERROR(write(chunk));
    }
    return Status::Ok();
  });
  if (s.ok()) retry_compact_bytes_ = 0;
  return s;
}

Result<std::optional<std::string>> MemoryStore::Get(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  Entry* entry = FindLive(shard, key, NowMs());
  if (entry == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(entry->value);
}

Status MemoryStore::Set(std::string_view key, std::string_view value, Millis ttl) {
  EMP_RETURN_IF_ERROR(CheckTtl(ttl));
  Shard& shard = ShardFor(key);
  uint64_t seq = 0;
  {
    std::lock_guard lock(shard.mu);
    int64_t now_ms = NowMs();
    FindLive(shard, key, now_ms);
    int64_t expires = ttl.count() > 0 ? now_ms + ttl.count() : 0;
    EMP_ASSIGN_OR_RETURN(seq, Put(shard, key, std::string(value), expires));
  }
  return Commit(seq);
}

Result<bool> MemoryStore::Delete(std::string_view key) {
  Shard& shard = ShardFor(key);
  uint64_t seq = 0;
  {
    std::lock_guard lock(shard.mu);
    if (FindLive(shard, key, NowMs()) == nullptr) return false;
    EMP_ASSIGN_OR_RETURN(seq, Erase(shard, key));
  }
  EMP_RETURN_IF_ERROR(Commit(seq));
  return true;
}

Result<int64_t> MemoryStore::Increment(std::string_view key, int64_t delta, Millis ttl) {
  const std::pair<std::string, int64_t> one{std::string(key), delta};
  EMP_ASSIGN_OR_RETURN(std::vector<int64_t> values, IncrementMany({&one, 1}, ttl));
  return values[0];
}

Result<std::vector<int64_t>> MemoryStore::IncrementMany(
    std::span<const std::pair<std::string, int64_t>> deltas, Millis ttl) {
  EMP_RETURN_IF_ERROR(CheckTtl(ttl));
  std::vector<int64_t> out;
  out.reserve(deltas.size());
  uint64_t seq = 0;
  for (const auto& [key, delta] : deltas) {
    Shard& shard = ShardFor(key);
    std::lock_guard lock(shard.mu);
    int64_t now_ms = NowMs();
    Entry* entry = FindLive(shard, key, now_ms);
    int64_t current = 0;
    int64_t expires = ttl.count() > 0 ? now_ms + ttl.count() : 0;
    if (entry != nullptr) {
      std::optional<int64_t> parsed = ParseInt(entry->value);
      if (!parsed) return FailedPrecondition("kv: value at key is not an integer");
      current = *parsed;
      expires = entry->expires_at_ms;  // only a new key takes the ttl
    }
    int64_t result = 0;
    if (__builtin_add_overflow(current, delta, &result)) {
      return FailedPrecondition("kv: increment would overflow");
    }
    EMP_ASSIGN_OR_RETURN(seq, Put(shard, key, std::to_string(result), expires));
    out.push_back(result);
  }
  // One sync covers every record appended up to the last one.
  EMP_RETURN_IF_ERROR(Commit(seq));
  return out;
}

Result<bool> MemoryStore::CompareAndSet(std::string_view key, std::optional<std::string_view> expected,
                                        std::string_view desired, Millis ttl) {
  EMP_RETURN_IF_ERROR(CheckTtl(ttl));
  Shard& shard = ShardFor(key);
  uint64_t seq = 0;
  {
    std::lock_guard lock(shard.mu);
    int64_t now_ms = NowMs();
    Entry* entry = FindLive(shard, key, now_ms);
    bool matches = expected ? (entry != nullptr && entry->value == *expected) : entry == nullptr;
    if (!matches) return false;
    int64_t expires = ttl.count() > 0 ? now_ms + ttl.count() : 0;
    EMP_ASSIGN_OR_RETURN(seq, Put(shard, key, std::string(desired), expires));
  }
  EMP_RETURN_IF_ERROR(Commit(seq));
  return true;
}

Result<std::optional<Millis>> MemoryStore::Ttl(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  int64_t now_ms = NowMs();
  Entry* entry = FindLive(shard, key, now_ms);
  if (entry == nullptr) return std::optional<Millis>();
  if (entry->expires_at_ms == 0) return std::optional<Millis>(Millis(0));
  return std::optional<Millis>(Millis(entry->expires_at_ms - now_ms));
}

size_t MemoryStore::EntryCount() {
  size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.map.size();
  }
  return n;
}

}  // namespace emporium::kv
