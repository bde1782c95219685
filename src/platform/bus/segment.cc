#include "platform/bus/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/crc.hpp>

#include "platform/core/file_util.h"

namespace emporium::bus {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

Segment::Segment(std::string path, int fd, OnDurable on_durable)
    : path_(std::move(path)), fd_(fd), on_durable_(std::move(on_durable)) {}

Segment::~Segment() {
  ::close(fd_);
}

Result<std::unique_ptr<Segment>> Segment::Open(const std::string& path, OnDurable on_durable) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fileutil::ErrnoStatus("open", path);
  auto seg = std::make_unique<Segment>(path, fd, std::move(on_durable));
  EMP_RETURN_IF_ERROR(seg->Recover());
  return seg;
}

Status Segment::Recover() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return fileutil::ErrnoStatus("stat", path_);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t pos = 0;
  std::string payload;
  char header[kHeaderSize];
  while (pos + kHeaderSize <= size) {
    EMP_RETURN_IF_ERROR(fileutil::PreadAll(fd_, header, kHeaderSize, pos, path_));
    const uint32_t len = GetU32(header);
    const uint32_t crc = GetU32(header + 4);
    if (len > kMaxPayload || pos + kHeaderSize + len > size) break;
    payload.resize(len);
    EMP_RETURN_IF_ERROR(fileutil::PreadAll(fd_, payload.data(), len, pos + kHeaderSize, path_));
    if (Crc32(payload) != crc) break;
    positions_.push_back(pos);
    pos += kHeaderSize + len;
  }
  if (pos < size) {
    // Everything after the last intact frame is a write that never completed.
    if (::ftruncate(fd_, static_cast<off_t>(pos)) != 0) return fileutil::ErrnoStatus("truncate", path_);
    if (::fsync(fd_) != 0) return fileutil::ErrnoStatus("fsync", path_);
    truncated_bytes_ = size - pos;
  }
  end_pos_ = pos;
  durable_ = static_cast<int64_t>(positions_.size());
  return Status::Ok();
}

Result<int64_t> Segment::Append(std::string_view payload) {
  return AppendMany({&payload, 1});
}

Result<int64_t> Segment::AppendMany(std::span<const std::string_view> payloads) {
  if (payloads.empty()) return InvalidArgument("no records to append");
  std::string frames;
  std::vector<uint64_t> starts;
  for (std::string_view payload : payloads) {
    if (payload.size() > kMaxPayload) return InvalidArgument("record larger than 64 MiB");
    starts.push_back(frames.size());
    PutU32(frames, static_cast<uint32_t>(payload.size()));
    PutU32(frames, Crc32(payload));
    frames.append(payload);
  }

  std::unique_lock lock(mu_);
  if (!broken_.ok()) return broken_;
  Status written = fileutil::PwriteAll(fd_, frames, end_pos_, path_);
  if (!written.ok()) {
    // Cut a partial frame so later appends do not land behind garbage.
    if (::ftruncate(fd_, static_cast<off_t>(end_pos_)) != 0) broken_ = written;
    return written;
  }
  for (uint64_t start : starts) positions_.push_back(end_pos_ + start);
  end_pos_ += frames.size();
  const int64_t offset = static_cast<int64_t>(positions_.size()) - 1;

  while (durable_ <= offset) {
    if (!broken_.ok()) return broken_;
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    // Become the syncer for every record written so far, including other threads' records.
    syncing_ = true;
    const int64_t target = static_cast<int64_t>(positions_.size());
    lock.unlock();
    const bool ok = ::fdatasync(fd_) == 0;
    Status failure = ok ? Status::Ok() : fileutil::ErrnoStatus("fdatasync", path_);
    lock.lock();
    syncing_ = false;
    if (ok) {
      durable_ = std::max(durable_, target);
    } else {
      broken_ = failure;
    }
    synced_cv_.notify_all();
    if (ok && on_durable_) {
      lock.unlock();
      on_durable_();
      lock.lock();
    }
  }
  return offset;
}

Result<std::vector<std::string>> Segment::Read(int64_t offset, size_t max) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // (position, frame end)
  {
    std::lock_guard lock(mu_);
    if (offset < 0) offset = 0;
    for (int64_t i = offset; i < durable_ && spans.size() < max; ++i) {
      const size_t idx = static_cast<size_t>(i);
      const uint64_t next = idx + 1 < positions_.size() ? positions_[idx + 1] : end_pos_;
      spans.emplace_back(positions_[idx], next);
    }
  }
  std::vector<std::string> out;
  out.reserve(spans.size());
  for (const auto& [pos, end] : spans) {
    std::string frame(end - pos, '\0');
    EMP_RETURN_IF_ERROR(fileutil::PreadAll(fd_, frame.data(), frame.size(), pos, path_));
    std::string_view payload = std::string_view(frame).substr(kHeaderSize);
    if (GetU32(frame.data()) != payload.size() || GetU32(frame.data() + 4) != Crc32(payload)) {
      return Internal("corrupt record at byte " + std::to_string(pos) + " of " + path_);
    }
    out.emplace_back(payload);
  }
  return out;
}

int64_t Segment::end() const {
  std::lock_guard lock(mu_);
  return durable_;
}

}  // namespace emporium::bus
