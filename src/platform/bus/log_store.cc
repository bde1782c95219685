#include "platform/bus/log_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>

#include "platform/core/file_util.h"

namespace emporium::bus {
namespace fs = std::filesystem;

Status ValidateName(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") {
    return InvalidArgument(what + " name '" + name + "' is empty, too long or reserved");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return InvalidArgument(what + " name '" + name + "' may use only [A-Za-z0-9._-]");
  }
  return Status::Ok();
}

// ---- GroupOffsets ----

Status GroupOffsets::Load() {
  auto text = fileutil::ReadFile(path_);
  if (!text.ok()) return text.status().code() == Code::kNotFound ? Status::Ok() : text.status();
  std::lock_guard lock(mu_);
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string topic;
    int partition = 0;
    int64_t next = 0;
    if (!std::getline(fields, topic, '\t') || !(fields >> partition >> next)) {
      return Internal("malformed line in " + path_ + ": " + line);
    }
    next_[{topic, partition}] = next;
  }
  return Status::Ok();
}

GroupOffsets::~GroupOffsets() {
  (void)Flush();
}

Status GroupOffsets::Commit(const std::string& topic, int partition, int64_t next) {
  std::lock_guard lock(mu_);
  next_[{topic, partition}] = next;
  dirty_ = true;
  if (std::chrono::steady_clock::now() - written_at_ < kOffsetFlushInterval) return Status::Ok();
  return WriteLocked();
}

Status GroupOffsets::Flush() {
  std::lock_guard lock(mu_);
  return dirty_ ? WriteLocked() : Status::Ok();
}

Result<std::optional<SteadyTime>> GroupOffsets::FlushIfDue() {
  std::lock_guard lock(mu_);
  if (!dirty_) return std::optional<SteadyTime>();
  const SteadyTime due = written_at_ + kOffsetFlushInterval;
  if (std::chrono::steady_clock::now() < due) return std::optional<SteadyTime>(due);
  EMP_RETURN_IF_ERROR(WriteLocked());
  return std::optional<SteadyTime>();
}

Status GroupOffsets::WriteLocked() {
  std::string text;
  for (const auto& [tp, off] : next_) {
    text += tp.first + "\t" + std::to_string(tp.second) + "\t" + std::to_string(off) + "\n";
  }
  EMP_RETURN_IF_ERROR(fileutil::WriteFileAtomic(path_, text));
  dirty_ = false;
  written_at_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

int64_t GroupOffsets::Committed(const std::string& topic, int partition) const {
  std::lock_guard lock(mu_);
  auto it = next_.find({topic, partition});
  return it == next_.end() ? 0 : it->second;
}

// ---- LogStore ----

namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

std::map<std::string, std::weak_ptr<LogStore>>& Registry() {
  static std::map<std::string, std::weak_ptr<LogStore>> stores;
  return stores;
}

}  // namespace

LogStore::LogStore(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

LogStore::~LogStore() {
  // Closing the descriptor releases the flock.
  ::close(lock_fd_);
}

Result<std::shared_ptr<LogStore>> LogStore::Open(const std::string& dir) {
  if (dir.empty() || dir[0] != '/')
    return InvalidArgument("log bus directory must be absolute: '" + dir + "'");
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "topics", ec);
  if (!ec) fs::create_directories(fs::path(dir) / "groups", ec);
  if (ec) return Internal("cannot create log bus directory " + dir + ": " + ec.message());
  const std::string canonical = fs::canonical(dir, ec).string();
  if (ec) return Internal("cannot resolve " + dir + ": " + ec.message());

  std::lock_guard lock(RegistryMutex());
  if (auto existing = Registry()[canonical].lock()) return existing;

  const std::string lock_path = canonical + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fileutil::ErrnoStatus("open", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition("log bus directory " + canonical +
                                " is in use by another process (flock on " + lock_path +
                                "); one process owns an embedded log");
    }
    errno = err;
    return fileutil::ErrnoStatus("flock", lock_path);
  }
  auto store = std::make_shared<LogStore>(canonical, fd);
  Registry()[canonical] = store;
  return store;
}

Status LogStore::EnsureTopic(const std::string& topic, int partitions) {
  EMP_RETURN_IF_ERROR(ValidateName("topic", topic));
  if (partitions < 1 || partitions > 1024) return InvalidArgument("partitions must be in 1..1024");
  std::lock_guard lock(mu_);
  auto loaded = LoadTopicLocked(topic);
  if (loaded.ok() || loaded.status().code() != Code::kNotFound) return loaded.status();
  const std::string tdir = dir_ + "/topics/" + topic;
  std::error_code ec;
  fs::create_directories(tdir, ec);
  if (ec) return Internal("cannot create " + tdir + ": " + ec.message());
  EMP_RETURN_IF_ERROR(fileutil::SyncDir(dir_ + "/topics"));
  // meta is written last: a topic without it was never created and is created again.
  EMP_RETURN_IF_ERROR(
      fileutil::WriteFileAtomic(tdir + "/meta", "partitions " + std::to_string(partitions) + "\n"));
  return LoadTopicLocked(topic).status();
}

Result<LogTopic*> LogStore::Topic(const std::string& topic) {
  EMP_RETURN_IF_ERROR(ValidateName("topic", topic));
  std::lock_guard lock(mu_);
  return LoadTopicLocked(topic);
}

Result<LogTopic*> LogStore::LoadTopicLocked(const std::string& topic) {
  if (auto it = topics_.find(topic); it != topics_.end()) return it->second.get();
  const std::string tdir = dir_ + "/topics/" + topic;
  auto meta = fileutil::ReadFile(tdir + "/meta");
  if (!meta.ok()) {
    if (meta.status().code() == Code::kNotFound) {
      return NotFound("topic '" + topic + "' does not exist (create it with EnsureTopic)");
    }
    return meta.status();
  }
  std::istringstream in(*meta);
  std::string word;
  int partitions = 0;
  if (!(in >> word >> partitions) || word != "partitions" || partitions < 1) {
    return Internal("malformed " + tdir + "/meta");
  }
  auto t = std::make_unique<LogTopic>();
  t->name = topic;
  for (int p = 0; p < partitions; ++p) {
    EMP_ASSIGN_OR_RETURN(auto seg,
                         Segment::Open(tdir + "/" + std::to_string(p) + ".log", [this] { DataArrived(); }));
    t->partitions.push_back(std::move(seg));
  }
  EMP_RETURN_IF_ERROR(fileutil::SyncDir(tdir));
  LogTopic* raw = t.get();
  topics_[topic] = std::move(t);
  return raw;
}

Result<GroupOffsets*> LogStore::Group(const std::string& group) {
  EMP_RETURN_IF_ERROR(ValidateName("consumer group", group));
  std::lock_guard lock(mu_);
  if (auto it = groups_.find(group); it != groups_.end()) return it->second.get();
  auto g = std::make_unique<GroupOffsets>(dir_ + "/groups/" + group + ".offsets");
  EMP_RETURN_IF_ERROR(g->Load());
  GroupOffsets* raw = g.get();
  groups_[group] = std::move(g);
  return raw;
}

void LogStore::DataArrived() {
  {
    std::lock_guard lock(data_mu_);
    ++generation_;
  }
  data_cv_.notify_all();
}

uint64_t LogStore::generation() const {
  std::lock_guard lock(data_mu_);
  return generation_;
}

void LogStore::WaitForData(uint64_t seen, SteadyTime deadline) const {
  std::unique_lock lock(data_mu_);
  data_cv_.wait_until(lock, deadline, [&] { return generation_ != seen; });
}

}  // namespace emporium::bus
