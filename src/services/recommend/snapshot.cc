#include "services/recommend/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <mutex>
#include <type_traits>

#include "platform/core/file_util.h"
#include "platform/core/pod_bytes.h"

namespace emporium::recommend {
namespace {

static_assert(std::endian::native == std::endian::little, "the snapshot is written in host order");

enum Tag : uint32_t { kMeta = 1, kUsers = 2, kItems = 3, kFacts = 4, kRows = 5, kByUser = 6, kCarts = 7 };
constexpr uint32_t kSections = 7;
constexpr size_t kHeader = kSnapshotMagic.size() + 4 + 4;
constexpr size_t kTrailer = 8;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  template <class T>
  void Put(T v) {
    bytes::Put(out_, v);
  }
  void Str(std::string_view s) {
    Put(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  // n values get(0..n-1) of type T, copied into place rather than appended one by one.
  template <class T, class Get>
  void Column(size_t n, Get get) {
    const size_t at = out_.size();
    out_.resize(at + n * sizeof(T));
    char* p = out_.data() + at;
    for (size_t i = 0; i < n; ++i) {
      const T v = get(i);
      std::memcpy(p + i * sizeof(T), &v, sizeof(T));
    }
  }
  void Begin(Tag tag) {
    Put(static_cast<uint32_t>(tag));
    length_at_ = out_.size();
    Put(uint64_t{0});
  }
  void End() {
    const uint64_t n = out_.size() - length_at_ - sizeof(uint64_t);
    std::memcpy(out_.data() + length_at_, &n, sizeof n);
  }

 private:
  std::string& out_;
  size_t length_at_ = 0;
};

// Reads what Writer wrote; every call is false when the bytes run out.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : b_(bytes) {}

  template <class T>
  bool Get(T* v) {
    return bytes::Take(b_, v);
  }
  bool Str(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || b_.size() < n) return false;
    s->assign(b_.data(), n);
    b_.remove_prefix(n);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (b_.size() < n) return false;
    *out = b_.substr(0, n);
    b_.remove_prefix(n);
    return true;
  }
  // A column of n values of T, read with At.
  template <class T>
  bool Column(size_t n, const char** at) {
    if (n > b_.size() / sizeof(T)) return false;
    *at = b_.data();
    b_.remove_prefix(n * sizeof(T));
    return true;
  }
  bool done() const { return b_.empty(); }

 private:
  std::string_view b_;
};

template <class T>
T At(const char* column, size_t i) {
  T v;
  std::memcpy(&v, column + i * sizeof(T), sizeof(T));
  return v;
}

Status Bad(const std::string& why) {
  return InvalidArgument("graph snapshot: " + why);
}

}  // namespace

uint64_t Checksum64(std::string_view bytes) {
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, sizeof w);
    h = (h ^ w) * kPrime;
    h ^= h >> 32;
  }
  for (; i < bytes.size(); ++i) {
    h = (h ^ static_cast<unsigned char>(bytes[i])) * kPrime;
    h ^= h >> 32;
  }
  return h;
}

std::string Graph::EncodeSnapshot(uint64_t log_offset) const {
  std::shared_lock lock(mu_);
  std::vector<const std::string*> users(by_user_.size());
  for (const auto& [subject, u] : user_index_) users[static_cast<size_t>(u)] = &subject;
  std::vector<const std::string*> cart_subjects;
  for (const auto& [subject, lines] : carts_) cart_subjects.push_back(&subject);
  std::sort(cart_subjects.begin(), cart_subjects.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });

  std::string out;
  out.reserve(kHeader + kTrailer + 256 + rows_.size() * (sizeof(Interaction) + 8) + users.size() * 32 +
              item_ids_.size() * 96);
  Writer w(out);
  out.append(kSnapshotMagic);
  w.Put(kSnapshotVersion);
  w.Put(kSections);

  w.Begin(kMeta);
  w.Put(log_offset);
  w.Put(static_cast<uint64_t>(users.size()));
  w.Put(static_cast<uint64_t>(item_ids_.size()));
  w.Put(static_cast<uint64_t>(rows_.size()));
  w.Put(static_cast<uint64_t>(cart_subjects.size()));
  w.End();

  w.Begin(kUsers);
  for (const std::string* s : users) w.Str(*s);
  w.End();

  w.Begin(kItems);
  for (const std::string& id : item_ids_) w.Str(id);
  w.End();

  w.Begin(kFacts);
  for (const std::optional<ItemFacts>& f : facts_) {
    w.Put(static_cast<uint8_t>(f.has_value()));
    if (!f) continue;
    w.Str(f->title);
    w.Str(f->category);
    w.Str(f->brand);
    w.Put(f->price);
    w.Put(static_cast<uint8_t>(f->in_stock));
    w.Put(static_cast<uint8_t>(f->deleted));
  }
  w.End();

  const size_t n = rows_.size();
  w.Begin(kRows);
  w.Column<int32_t>(n, [&](size_t i) { return rows_[i].user; });
  w.Column<int32_t>(n, [&](size_t i) { return rows_[i].item; });
  w.Column<float>(n, [&](size_t i) { return rows_[i].weight; });
  w.Column<int64_t>(n, [&](size_t i) { return rows_[i].at_ms; });
  w.End();

  w.Begin(kByUser);
  w.Column<uint64_t>(by_user_.size(), [&](size_t u) { return static_cast<uint64_t>(by_user_[u].size()); });
  for (const std::vector<size_t>& positions : by_user_)
    w.Column<uint64_t>(positions.size(), [&](size_t i) { return static_cast<uint64_t>(positions[i]); });
  w.End();

  w.Begin(kCarts);
  for (const std::string* subject : cart_subjects) {
    const std::vector<CartEntry>& lines = carts_.at(*subject);
    w.Str(*subject);
    w.Put(static_cast<uint32_t>(lines.size()));
    for (const CartEntry& e : lines) {
      w.Str(e.product_id);
      w.Put(e.quantity);
    }
  }
  w.End();
  lock.unlock();

  w.Put(Checksum64(out));
  return out;
}

Result<uint64_t> Graph::DecodeSnapshot(std::string_view bytes) {
  if (bytes.size() < kHeader + kTrailer) return Bad("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) return Bad("not a graph snapshot");
  uint32_t version = 0, sections = 0;
  std::memcpy(&version, bytes.data() + kSnapshotMagic.size(), sizeof version);
  std::memcpy(&sections, bytes.data() + kSnapshotMagic.size() + 4, sizeof sections);
  if (version != kSnapshotVersion) {
    return Bad("version " + std::to_string(version) + ", this build reads " +
               std::to_string(kSnapshotVersion));
  }
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - kTrailer, sizeof stored);
  if (Checksum64(bytes.substr(0, bytes.size() - kTrailer)) != stored)
    return Bad("checksum mismatch (corrupt or truncated)");

  std::unordered_map<uint32_t, std::string_view> payloads;
  Reader file(bytes.substr(kHeader, bytes.size() - kHeader - kTrailer));
  for (uint32_t s = 0; s < sections; ++s) {
    uint32_t tag = 0;
    uint64_t length = 0;
    std::string_view payload;
    if (!file.Get(&tag) || !file.Get(&length) || !file.Bytes(length, &payload))
      return Bad("truncated section");
    if (!payloads.emplace(tag, payload).second) return Bad("section " + std::to_string(tag) + " twice");
  }
  if (!file.done()) return Bad("bytes after the last section");
  for (uint32_t tag : {kMeta, kUsers, kItems, kFacts, kRows, kByUser, kCarts})
    if (!payloads.contains(tag)) return Bad("no section " + std::to_string(tag));

  Reader meta(payloads[kMeta]);
  uint64_t log_offset = 0, users = 0, items = 0, rows = 0, carts = 0;
  if (!meta.Get(&log_offset) || !meta.Get(&users) || !meta.Get(&items) || !meta.Get(&rows) ||
      !meta.Get(&carts))
    return Bad("short meta section");
  // Every user, item and cart takes at least 4 bytes, so the counts bound the allocations.
  if (users > bytes.size() / 4 || items > bytes.size() / 4 || carts > bytes.size() / 4 || users > INT32_MAX ||
      items > INT32_MAX)
    return Bad("impossible counts");

  std::unordered_map<std::string, int32_t> user_index, item_index;
  std::vector<std::string> item_ids(items);
  std::vector<std::optional<ItemFacts>> facts(items);
  std::vector<Interaction> row_list(rows);
  std::vector<std::vector<size_t>> by_user(users);
  std::unordered_map<std::string, std::vector<CartEntry>> cart_map;

  Reader r(payloads[kUsers]);
  user_index.reserve(users);
  for (uint64_t u = 0; u < users; ++u) {
    std::string subject;
    if (!r.Str(&subject)) return Bad("short users section");
    if (!user_index.emplace(std::move(subject), static_cast<int32_t>(u)).second) return Bad("a user twice");
  }
  if (!r.done()) return Bad("users section too long");

  r = Reader(payloads[kItems]);
  item_index.reserve(items);
  for (uint64_t i = 0; i < items; ++i) {
    if (!r.Str(&item_ids[i])) return Bad("short items section");
    if (!item_index.emplace(item_ids[i], static_cast<int32_t>(i)).second) return Bad("an item twice");
  }
  if (!r.done()) return Bad("items section too long");

  r = Reader(payloads[kFacts]);
  for (uint64_t i = 0; i < items; ++i) {
    uint8_t present = 0, in_stock = 0, deleted = 0;
    if (!r.Get(&present)) return Bad("short facts section");
    if (!present) continue;
    ItemFacts f;
    f.id = item_ids[i];
    if (!r.Str(&f.title) || !r.Str(&f.category) || !r.Str(&f.brand) || !r.Get(&f.price) ||
        !r.Get(&in_stock) || !r.Get(&deleted))
      return Bad("short facts section");
    f.in_stock = in_stock != 0;
    f.deleted = deleted != 0;
    facts[i] = std::move(f);
  }
  if (!r.done()) return Bad("facts section too long");

  r = Reader(payloads[kRows]);
  const char *user_col = nullptr, *item_col = nullptr, *weight_col = nullptr, *at_col = nullptr;
  if (!r.Column<int32_t>(rows, &user_col) || !r.Column<int32_t>(rows, &item_col) ||
      !r.Column<float>(rows, &weight_col) || !r.Column<int64_t>(rows, &at_col) || !r.done())
    return Bad("rows section of the wrong size");
  for (size_t i = 0; i < rows; ++i) {
    Interaction& x = row_list[i];
    x.user = At<int32_t>(user_col, i);
    x.item = At<int32_t>(item_col, i);
    x.weight = At<float>(weight_col, i);
    x.at_ms = At<int64_t>(at_col, i);
    if (x.user < 0 || static_cast<uint64_t>(x.user) >= users || x.item < 0 ||
        static_cast<uint64_t>(x.item) >= items)
      return Bad("a row's user or item out of range");
  }

  r = Reader(payloads[kByUser]);
  const char* counts = nullptr;
  if (!r.Column<uint64_t>(users, &counts)) return Bad("short positions section");
  uint64_t total = 0;
  for (size_t u = 0; u < users; ++u) total += At<uint64_t>(counts, u);
  const char* positions = nullptr;
  if (total != rows || !r.Column<uint64_t>(total, &positions) || !r.done())
    return Bad("positions do not cover the rows");
  size_t next = 0;
  for (size_t u = 0; u < users; ++u) {
    std::vector<size_t>& list = by_user[u];
    list.resize(At<uint64_t>(counts, u));
    for (size_t& at : list) {
      at = At<uint64_t>(positions, next++);
      if (at >= rows) return Bad("a position out of range");
    }
  }

  r = Reader(payloads[kCarts]);
  cart_map.reserve(carts);
  for (uint64_t c = 0; c < carts; ++c) {
    std::string subject;
    uint32_t lines = 0;
    if (!r.Str(&subject) || !r.Get(&lines)) return Bad("short carts section");
    std::vector<CartEntry>& cart = cart_map[std::move(subject)];
    for (uint32_t l = 0; l < lines; ++l) {
      CartEntry e;
      if (!r.Str(&e.product_id) || !r.Get(&e.quantity)) return Bad("short carts section");
      cart.push_back(std::move(e));
    }
  }
  if (!r.done()) return Bad("carts section too long");

  std::unique_lock lock(mu_);
  user_index_ = std::move(user_index);
  item_index_ = std::move(item_index);
  item_ids_ = std::move(item_ids);
  facts_ = std::move(facts);
  rows_ = std::move(row_list);
  by_user_ = std::move(by_user);
  carts_ = std::move(cart_map);
  return log_offset;
}

Status WriteSnapshot(const std::filesystem::path& path, const Graph& graph, uint64_t log_offset) {
  const std::string bytes = graph.EncodeSnapshot(log_offset);
  return fileutil::WriteFileAtomic(path.string(), bytes);
}

Result<uint64_t> ReadSnapshot(const std::filesystem::path& path, Graph& graph) {
  const std::string name = path.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no graph snapshot " + name);
    return fileutil::ErrnoStatus("open", name);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = fileutil::ErrnoStatus("stat", name);
    ::close(fd);
    return s;
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  Status read = fileutil::PreadAll(fd, bytes.data(), bytes.size(), 0, name);
  ::close(fd);
  EMP_RETURN_IF_ERROR(read);
  return graph.DecodeSnapshot(bytes);
}

}  // namespace emporium::recommend
