// Helpers for end-to-end tests that run the real `emporium` binary as a child process: a free
// loopback port, a child with its stdout+stderr captured to a file, and file reading.
// Not thread-safe; one test thread drives its children.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

extern char** environ;

namespace emporium::e2e {

inline uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The file's bytes (binary-safe).
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child `emporium` process with its stdout and stderr captured to <dir>/output.log, started
// in dir with the EMPORIUM_* variables removed from its environment.
class Child {
 public:
  Child(std::string binary, std::filesystem::path dir)
      : binary_(std::move(binary)), dir_(std::move(dir)), log_(dir_ / "output.log") {}
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // extra_env: "NAME=value" strings added to the child's environment.
  void Spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
    std::vector<std::string> argv_s{binary_};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      if (!std::string_view(*e).starts_with("EMPORIUM_")) env_s.emplace_back(*e);
    }
    env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> argv, envp;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    const std::string log = log_.string();
    const std::string cwd = dir_.string();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }

  // The exit code once the process exits within `bound` (-signal when killed by one).
  std::optional<int> Wait(std::chrono::milliseconds bound) {
    if (pid_ <= 0) return std::nullopt;  // already reaped; waitpid(-1) would reap any child
    const auto give_up = std::chrono::steady_clock::now() + bound;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= give_up) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  // No-op once the child has been reaped: kill(-1, sig) would signal every process we may signal.
  void Signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  std::string Output() const { return ReadFile(log_); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string binary_;
  std::filesystem::path dir_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

}  // namespace emporium::e2e
