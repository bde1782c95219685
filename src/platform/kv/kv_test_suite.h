// Behaviour suite shared by every kv::Store backend. kv_test.cc holds the tests; each test
// binary instantiates StoreTest with its backends (memory_store_test.cc, redis_store_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "platform/core/clock.h"
#include "platform/kv/kv.h"

namespace emporium::kv {

struct Backend {
  std::string name;
  // Opens a fresh store; `dir` is an empty temp dir the backend may use, `clock` the test clock.
  std::function<Result<std::unique_ptr<Store>>(FakeClock& clock, const std::filesystem::path& dir)> open;
  // True when the backend reads the FakeClock; otherwise time passes by really sleeping.
  bool fake_time = true;
};

// Names the backend in gtest output instead of dumping its bytes.
inline void PrintTo(const Backend& backend, std::ostream* os) {
  *os << backend.name;
}

std::filesystem::path MakeTempDir();

class StoreTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Keys are prefixed per test so runs against a shared server do not see each other.
  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }
  // Lets `d` of time pass for the store.
  void Pass(Millis d);

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::string prefix_;
};

}  // namespace emporium::kv
