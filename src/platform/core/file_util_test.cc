#include "platform/core/file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace emporium::fileutil {
namespace {

TEST(WriteFileAtomic, WritersOfOnePathNeverFailOrMixTheirBytes) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("file-util-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "CURRENT").string();
  const std::string a(4096, 'a'), b(8192, 'b');
  std::vector<std::thread> writers;
  int failures[2] = {0, 0};
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; n < 200; ++n)
        if (!WriteFileAtomic(path, w ? b : a).ok()) ++failures[w];
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures[0] + failures[1], 0);
  auto got = ReadFile(path);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == a || *got == b) << "a mix of the writers' bytes, " << got->size() << " bytes";
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "temporary files left behind";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace emporium::fileutil
