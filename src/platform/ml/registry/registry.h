// Versioned model artifacts on disk, shared by every trained model (search ranker, recommender,
// fraud model):
//
//   <root>/<name>/<version>/      the model's files and metrics.json, written once, never changed
//   <root>/<name>/CURRENT         the version in use (one line), replaced atomically
//
// A training run Publishes a new version (files first, fsynced; CURRENT last), so a crash leaves
// the previous model current. Versions are "<UTC yyyymmddThhmmss.mmmZ>-<6 hex>", each later than
// the ones before it in the store, so they sort by age.
// Serving code loads Current() at start and runs a Watcher to swap models without a restart.
//
// Thread-safety: a ModelStore is immutable; its methods may be called from any thread and from
// several processes (a trainer publishing while servers read). Two concurrent Publishes both
// succeed; the later rename wins CURRENT.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/core/status.h"

namespace emporium::ml {

struct Artifact {
  std::string version;
  std::filesystem::path dir;
};

class ModelStore {
 public:
  ModelStore(std::filesystem::path root, std::string name);

  // Writes `files` (file name → bytes; plain names, no '/') and metrics.json (a JSON document)
  // into a new version and makes it current. Returns the artifact.
  Result<Artifact> Publish(const std::map<std::string, std::string>& files,
                           std::string_view metrics_json) const;
  // The same without making it current: a candidate that Promote may make current later.
  Result<Artifact> Stage(const std::map<std::string, std::string>& files,
                         std::string_view metrics_json) const;
  // Makes a published version current (a newer candidate, or an older one: a rollback).
  // kNotFound when there is no such version.
  Result<Artifact> Promote(std::string_view version) const;
  // The version in use; kNotFound when none was published.
  Result<Artifact> Current() const;
  // One file of an artifact; kNotFound when it has no such file.
  Result<std::string> Read(const Artifact& artifact, std::string_view file) const;
  // Every published version, oldest first.
  std::vector<std::string> Versions() const;
  // Removes all but the newest `keep` versions (never the current one).
  void Prune(size_t keep) const;

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& name() const { return name_; }

 private:
  std::filesystem::path dir_;
  std::string name_;
};

// Polls a store's CURRENT and calls on_change with each new version (the first call, in Start,
// for the version current then, if any). on_change runs on the watcher's thread (Start's for the
// first) and should load the model and swap it in; it is not called again for a version it has
// seen. Start/Stop from one thread.
class Watcher {
 public:
  Watcher(const ModelStore& store, std::chrono::milliseconds interval,
          std::function<void(const Artifact&)> on_change);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void Start();
  void Stop();
  // Checks once now (tests, and after a local Publish).
  void Poll();

 private:
  const ModelStore& store_;
  std::chrono::milliseconds interval_;
  std::function<void(const Artifact&)> on_change_;
  std::mutex mu_;  // stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::mutex poll_mu_;  // seen_, and one on_change at a time
  std::string seen_;
  std::thread thread_;
};

}  // namespace emporium::ml
