#include "platform/kv/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace emporium::kv {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSnapshotMagic = "EMPKVSN1";
constexpr std::string_view kSnapshotName = "snapshot";
constexpr std::string_view kSnapshotTmpName = "snapshot.tmp";
constexpr std::string_view kLogPrefix = "log.";
// A frame is u32 payload length + u32 CRC-32 of the payload.
constexpr size_t kFrameHeader = 8;
// type + expiry + key length + value length
constexpr size_t kMinPayload = 1 + 8 + 4 + 4;

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

template <typename T>
void PutFixed(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

template <typename T>
bool GetFixed(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

// Reads the next framed record; false when `in` is truncated or corrupt (a torn tail).
bool DecodeRecord(std::string_view& in, Record& out) {
  uint32_t len = 0;
  uint32_t crc = 0;
  std::string_view rest = in;
  if (!GetFixed(rest, len) || !GetFixed(rest, crc)) return false;
  if (len < kMinPayload || rest.size() < len) return false;
  std::string_view payload = rest.substr(0, len);
  if (Crc32(payload) != crc) return false;
  uint8_t type = 0;
  uint32_t klen = 0;
  uint32_t vlen = 0;
  GetFixed(payload, type);
  GetFixed(payload, out.expires_at_ms);
  if (!GetFixed(payload, klen) || payload.size() < klen) return false;
  out.key.assign(payload.substr(0, klen));
  payload.remove_prefix(klen);
  if (!GetFixed(payload, vlen) || payload.size() != vlen) return false;
  out.value.assign(payload);
  if (type < 1 || type > 3) return false;
  out.type = static_cast<Record::Type>(type);
  in = rest.substr(len);
  return true;
}

Status PosixError(std::string_view what, const fs::path& path, int err) {
  return Internal("kv: " + std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Out-parameter rather than Result<std::string>: GCC 12 warns (wrongly) about strings moved out
// of a variant here.
Status ReadAll(const fs::path& path, std::string& data) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PosixError("open", path, errno);
  data.clear();
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return PosixError("read", path, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::Ok();
}

Status SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError("open dir", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return PosixError("fsync dir", dir, err);
  return Status::Ok();
}

fs::path LogPath(const fs::path& dir, uint64_t gen) {
  return dir / (std::string(kLogPrefix) + std::to_string(gen));
}

// Generations of the "log.<gen>" files in dir, ascending.
Result<std::vector<uint64_t>> ListLogs(const fs::path& dir) {
  std::vector<uint64_t> gens;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with(kLogPrefix)) continue;
    std::string digits = name.substr(kLogPrefix.size());
    bool numeric = !digits.empty() && digits.size() < 19 &&
                   std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric) continue;
    gens.push_back(std::stoull(digits));
  }
  if (ec) return Internal("kv: list " + dir.string() + ": " + ec.message());
  std::sort(gens.begin(), gens.end());
  return gens;
}

}  // namespace

void EncodeRecord(const Record& record, std::string& out) {
  std::string payload;
  payload.reserve(kMinPayload + record.key.size() + record.value.size());
  PutFixed(payload, static_cast<uint8_t>(record.type));
  PutFixed(payload, record.expires_at_ms);
  PutFixed(payload, static_cast<uint32_t>(record.key.size()));
  payload.append(record.key);
  PutFixed(payload, static_cast<uint32_t>(record.value.size()));
  payload.append(record.value);
  PutFixed(out, static_cast<uint32_t>(payload.size()));
  PutFixed(out, Crc32(payload));
  out.append(payload);
}

Journal::Journal(fs::path dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

Journal::~Journal() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
  ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<Journal>> Journal::Open(const fs::path& dir, const ApplyFn& apply,
                                               bool& replayed_logs) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("kv: create " + dir.string() + ": " + ec.message());
  fs::path lock_path = dir / "LOCK";
  int lock_fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_fd < 0) return PosixError("open", lock_path, errno);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition("kv: " + dir.string() + " is already open by another store");
    }
    return PosixError("lock", lock_path, err);
  }
  auto journal = std::make_unique<Journal>(dir, lock_fd);
  EMP_RETURN_IF_ERROR(journal->Recover(apply, replayed_logs));
  return journal;
}

Status Journal::Recover(const ApplyFn& apply, bool& replayed_logs) {
  replayed_logs = false;
  uint64_t first_gen = 1;
  std::error_code ec;
  fs::remove(dir_ / kSnapshotTmpName, ec);
  fs::path snapshot_path = dir_ / kSnapshotName;
  if (fs::exists(snapshot_path, ec)) {
    std::string data;
    EMP_RETURN_IF_ERROR(ReadAll(snapshot_path, data));
    std::string_view in = data;
    if (!in.starts_with(kSnapshotMagic)) return Internal("kv: bad snapshot " + snapshot_path.string());
    in.remove_prefix(kSnapshotMagic.size());
    if (!GetFixed(in, first_gen)) return Internal("kv: bad snapshot " + snapshot_path.string());
    bool ended = false;
    Record record;
    while (!ended && DecodeRecord(in, record)) {
      if (record.type == Record::Type::kEnd) {
        ended = true;
      } else {
        apply(std::move(record));
        record = Record();
      }
    }
    // The snapshot is renamed into place only when complete, so a short one is real damage.
    if (!ended) return Internal("kv: truncated snapshot " + snapshot_path.string());
    snapshot_bytes_ = data.size();
  }
  EMP_ASSIGN_OR_RETURN(std::vector<uint64_t> gens, ListLogs(dir_));
  uint64_t next_gen = first_gen;
  for (uint64_t gen : gens) {
    fs::path path = LogPath(dir_, gen);
    if (gen < first_gen) {  // left behind by a crash between snapshot rename and cleanup
      fs::remove(path, ec);
      continue;
    }
    replayed_logs = true;
    next_gen = gen + 1;
    std::string data;
    EMP_RETURN_IF_ERROR(ReadAll(path, data));
    std::string_view in = data;
    Record record;
    // Replay stops at a torn tail: the write that was cut short was never acknowledged.
    while (DecodeRecord(in, record)) {
      if (record.type != Record::Type::kEnd) apply(std::move(record));
      record = Record();
    }
  }
  return OpenLog(next_gen);
}

Status Journal::OpenLog(uint64_t gen) {
  fs::path path = LogPath(dir_, gen);
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("create", path, errno);
  if (Status s = SyncDir(dir_); !s.ok()) {
    ::close(fd);
    return s;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  gen_ = gen;
  log_bytes_ = 0;
  return Status::Ok();
}

Result<uint64_t> Journal::Append(const Record& record) {
  std::string frame;
  EncodeRecord(record, frame);
  std::lock_guard lock(mu_);
  if (!broken_.ok()) return broken_;
  if (Status s = WriteAll(fd_, frame, LogPath(dir_, gen_)); !s.ok()) {
    // A partial frame may be on disk; anything appended after it would be unreadable.
    broken_ = s;
    return s;
  }
  log_bytes_ += frame.size();
  return ++written_seq_;
}

Status Journal::Sync(uint64_t seq) {
  if (synced_seq_.load() >= seq) return Status::Ok();
  std::lock_guard sync_lock(sync_mu_);
  if (synced_seq_.load() >= seq) return Status::Ok();
  uint64_t target = 0;
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    if (!broken_.ok()) return broken_;
    target = written_seq_;
    fd = fd_;
  }
  // Appends go on while we sync; they are covered by the next caller's sync.
  if (::fdatasync(fd) != 0) {
    Status s = PosixError("fdatasync", dir_, errno);
    std::lock_guard lock(mu_);
    broken_ = s;
    return s;
  }
  synced_seq_ = target;
  return Status::Ok();
}

Result<uint64_t> Journal::StartNewLog() {
  std::lock_guard sync_lock(sync_mu_);
  std::lock_guard lock(mu_);
  if (!broken_.ok()) return broken_;
  if (::fdatasync(fd_) != 0) return PosixError("fdatasync", LogPath(dir_, gen_), errno);
  synced_seq_ = written_seq_;
  EMP_RETURN_IF_ERROR(OpenLog(gen_ + 1));
  return gen_;
}

Status Journal::WriteSnapshot(uint64_t first_gen, const std::function<Status(const ChunkWriter&)>& fill) {
  fs::path tmp = dir_ / kSnapshotTmpName;
  int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return PosixError("create", tmp, errno);
  uint64_t total = 0;
  auto write_chunk = [&](std::string_view chunk) -> Status {
    total += chunk.size();
    return WriteAll(fd, chunk, tmp);
  };
  auto write_all = [&]() -> Status {
    std::string header(kSnapshotMagic);
    PutFixed(header, first_gen);
    EMP_RETURN_IF_ERROR(write_chunk(header));
    EMP_RETURN_IF_ERROR(fill(write_chunk));
    std::string end;
    EncodeRecord(Record{.type = Record::Type::kEnd}, end);
    EMP_RETURN_IF_ERROR(write_chunk(end));
    if (::fsync(fd) != 0) return PosixError("fsync", tmp, errno);
    return Status::Ok();
  };
  Status s = write_all();
  ::close(fd);
  std::error_code ec;
  if (!s.ok()) {
    fs::remove(tmp, ec);
    return s;
  }
  fs::path final_path = dir_ / kSnapshotName;
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    s = PosixError("rename", tmp, errno);
    fs::remove(tmp, ec);
    return s;
  }
  EMP_RETURN_IF_ERROR(SyncDir(dir_));
  snapshot_bytes_ = total;
  EMP_ASSIGN_OR_RETURN(std::vector<uint64_t> gens, ListLogs(dir_));
  for (uint64_t gen : gens) {
    if (gen < first_gen) fs::remove(LogPath(dir_, gen), ec);
  }
  return Status::Ok();
}

}  // namespace emporium::kv
