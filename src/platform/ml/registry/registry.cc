#include "platform/ml/registry/registry.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <thread>

#include "platform/core/file_util.h"
#include "platform/core/random.h"
#include "platform/log/log.h"

namespace emporium::ml {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCurrent = "CURRENT";

// "20261207T061502.123Z-a1b2c3"
std::string NewVersion() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(ms));
  return std::string(stamp) + fraction + "-" + RandomHex(3);
}

bool PlainName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

}  // namespace

ModelStore::ModelStore(fs::path root, std::string name)
    : dir_(std::move(root) / name), name_(std::move(name)) {}

Result<Artifact> ModelStore::Publish(const std::map<std::string, std::string>& files,
                                     std::string_view metrics_json) const {
  EMP_ASSIGN_OR_RETURN(Artifact a, Stage(files, metrics_json));
  return Promote(a.version);
}

Result<Artifact> ModelStore::Promote(std::string_view version) const {
  if (!PlainName(version) || !fs::is_directory(dir_ / version))
    return NotFound("no " + name_ + " model version '" + std::string(version) + "' in " + dir_.string());
  EMP_RETURN_IF_ERROR(fileutil::WriteFileAtomic((dir_ / kCurrent).string(), std::string(version) + "\n"));
  return Artifact{std::string(version), dir_ / version};
}

Result<Artifact> ModelStore::Stage(const std::map<std::string, std::string>& files,
                                   std::string_view metrics_json) const {
  for (const auto& [file, bytes] : files) {
    if (!PlainName(file) || file == "metrics.json") {
      return InvalidArgument("artifact file name '" + file + "' is not allowed");
    }
  }
  // Later than every version here, so the order of names is the order of publishing.
  const std::vector<std::string> existing = Versions();
  Artifact a{NewVersion(), {}};
  while (!existing.empty() && a.version.substr(0, 19) <= existing.back().substr(0, 19)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    a.version = NewVersion();
  }
  a.dir = dir_ / a.version;
  std::error_code ec;
  fs::create_directories(a.dir, ec);
  if (ec) return Internal("cannot create " + a.dir.string() + ": " + ec.message());
  for (const auto& [file, bytes] : files) {
    EMP_RETURN_IF_ERROR(fileutil::WriteFileAtomic((a.dir / file).string(), bytes));
  }
  EMP_RETURN_IF_ERROR(fileutil::WriteFileAtomic((a.dir / "metrics.json").string(), metrics_json));
  EMP_RETURN_IF_ERROR(fileutil::SyncDir(a.dir.string()));
  return a;
}

Result<Artifact> ModelStore::Current() const {
  auto text = fileutil::ReadFile((dir_ / kCurrent).string());
  if (!text.ok()) return NotFound("no " + name_ + " model in " + dir_.string());
  std::string version = *text;
  while (!version.empty() && (version.back() == '\n' || version.back() == '\r')) version.pop_back();
  if (!PlainName(version)) return FailedPrecondition("damaged " + (dir_ / kCurrent).string());
  return Artifact{version, dir_ / version};
}

Result<std::string> ModelStore::Read(const Artifact& artifact, std::string_view file) const {
  if (!PlainName(file))
    return InvalidArgument("artifact file name '" + std::string(file) + "' is not allowed");
  return fileutil::ReadFile((artifact.dir / file).string());
}

std::vector<std::string> ModelStore::Versions() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.is_directory()) out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ModelStore::Prune(size_t keep) const {
  auto current = Current();
  std::vector<std::string> versions = Versions();
  if (versions.size() <= keep) return;
  for (size_t i = 0; i + keep < versions.size(); ++i) {
    if (current.ok() && versions[i] == current->version) continue;
    std::error_code ec;
    fs::remove_all(dir_ / versions[i], ec);
  }
}

Watcher::Watcher(const ModelStore& store, std::chrono::milliseconds interval,
                 std::function<void(const Artifact&)> on_change)
    : store_(store), interval_(interval), on_change_(std::move(on_change)) {}

Watcher::~Watcher() {
  Stop();
}

void Watcher::Start() {
  Poll();
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
      lock.unlock();
      Poll();
      lock.lock();
    }
  });
}

void Watcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watcher::Poll() {
  std::lock_guard lock(poll_mu_);
  auto current = store_.Current();
  if (!current.ok()) {
    if (current.status().code() != Code::kNotFound) {
      log::Warn("model watcher: cannot read the current version",
                {{"model", store_.name()}, {"error", current.status().ToString()}});
    }
    return;
  }
  if (current->version == seen_) return;
  seen_ = current->version;
  on_change_(*current);
}

}  // namespace emporium::ml
