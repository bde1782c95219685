#include "platform/ml/encoder/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

namespace emporium::ml {
namespace {

// A file from a literal header and data buffer, so each test states the bytes it means.
std::string Raw(std::string_view header, std::string_view data, uint64_t header_len = UINT64_MAX) {
  uint64_t n = header_len == UINT64_MAX ? header.size() : header_len;
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  out.append(header);
  out.append(data);
  return out;
}

Status ParseStatus(std::string bytes) {
  return SafeTensors::Parse(std::move(bytes)).status();
}

void ExpectRejected(std::string bytes, std::string_view says) {
  Status s = ParseStatus(std::move(bytes));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
}

TEST(SafeTensors, RoundTripsTensorsAndMetadata) {
  const std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
  const std::vector<float> b = {42.0f};
  NamedTensor bytes{"bytes", DType::kU8, {3}, std::string("\x01\x02\x03", 3)};
  std::string file =
      SerializeSafeTensors({F32Tensor("a", {2, 3}, a), F32Tensor("b", {1}, b), bytes}, {{"format", "pt"}});
  auto st = SafeTensors::Parse(file);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->tensors().size(), 3u);
  EXPECT_EQ(st->metadata().at("format"), "pt");
  const TensorInfo* info = st->Find("a");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->dtype, DType::kF32);
  EXPECT_EQ(info->shape, (std::vector<int64_t>{2, 3}));
  auto values = st->F32("a", {2, 3});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, a);
  EXPECT_EQ(st->Data(*st->Find("bytes")), std::string("\x01\x02\x03", 3));
  // Written after a 3-byte tensor, b would start at offset 3: the reader refuses a misaligned float.
  EXPECT_EQ(SafeTensors::Parse(SerializeSafeTensors({bytes, F32Tensor("b", {1}, b)})).status().code(),
            Code::kInvalidArgument);
}

TEST(SafeTensors, F32ChecksNameDtypeAndShape) {
  const std::vector<float> a = {1, 2, 3, 4};
  NamedTensor ints{"ints", DType::kI32, {2}, std::string(8, '\0')};
  auto st = SafeTensors::Parse(SerializeSafeTensors({F32Tensor("a", {2, 2}, a), ints}));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->F32("missing", {2, 2}).status().code(), Code::kNotFound);
  EXPECT_EQ(st->F32("a", {4}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(st->F32("a", {2, 2, 1}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(st->F32("ints", {2}).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(st->F32("a", {2, 2}).ok());
}

TEST(SafeTensors, AcceptsEmptyTensorsAndNoMetadata) {
  auto st = SafeTensors::Parse(Raw(R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]}})", ""));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(st->F32("e", {0, 4})->empty());
  EXPECT_TRUE(SafeTensors::Parse(Raw("{}", "")).ok());
}

TEST(SafeTensors, RejectsBadHeaderLength) {
  ExpectRejected(std::string("\x05\x00\x00", 3), "shorter than");
  ExpectRejected(Raw("{}", "", 3), "runs past the end");
  ExpectRejected(Raw("{}", "", 1000), "runs past the end");
  ExpectRejected(Raw("{}", "", uint64_t{1} << 40), "100 MiB");
  ExpectRejected(Raw("{}", "", UINT64_MAX - 1), "100 MiB");
  ExpectRejected(Raw("", ""), "start with '{'");
}

TEST(SafeTensors, RejectsHeadersThatAreNotTheFormat) {
  ExpectRejected(Raw("{\"a\":", ""), "not JSON");
  ExpectRejected(Raw("[1,2]", ""), "start with '{'");
  ExpectRejected(Raw("{\"a\":[1]}", ""), "expected an object");
  ExpectRejected(Raw(R"({"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "unknown dtype");
  ExpectRejected(Raw(R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "dtype must be a string");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "shape entries");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "shape entries");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "shape must be an array");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", std::string(4, '\0')),
                 "data_offsets must be");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", std::string(4, '\0')),
                 "data_offsets must be");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", std::string(4, '\0')),
                 "unexpected field");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":1}})",
                     std::string(4, '\0')),
                 "values must be strings");
  ExpectRejected(
      Raw(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", std::string(4, '\0')),
      "rank");
}

TEST(SafeTensors, RejectsOffsetsOutOfRange) {
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(4, '\0')),
                 "past the data buffer");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", std::string(4, '\0')),
                 "end before begin");
  ExpectRejected(Raw(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", ""),
                 "end before begin");
}

TEST(SafeTensors, RejectsShapeSizeMismatch) {
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", std::string(20, '\0')),
                 "does not match shape");
  ExpectRejected(Raw(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                 "does not match shape");
  // Dimensions whose product overflows 64 bits must not wrap around to a small size.
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}})", ""),
                 "too large");
}

TEST(SafeTensors, RejectsOverlapsHolesAndMisalignment) {
  const std::string eight(8, '\0');
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                     eight),
                 "overlaps");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                     std::string(4, '\0')),
                 "overlaps");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight),
                 "belong to no tensor");
  ExpectRejected(Raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight),
                 "after the last tensor");
  ExpectRejected(Raw(R"({"a":{"dtype":"I16","shape":[1],"data_offsets":[0,2]},)"
                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                     std::string(6, '\0')),
                 "not aligned");
}

TEST(SafeTensors, ReadFileSaysWhatIsMissingOrWrong) {
  const auto dir = std::filesystem::temp_directory_path() / ("safetensors_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_EQ(SafeTensors::ReadFile(dir / "none.safetensors").status().code(), Code::kNotFound);
  { std::ofstream(dir / "bad.safetensors", std::ios::binary) << "garbage"; }
  Status s = SafeTensors::ReadFile(dir / "bad.safetensors").status();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("bad.safetensors"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// Random damage to a valid file (flipped bytes, a rewritten length, truncation) gives a Status or a
// consistent result, never a crash or an out-of-bounds read (the sanitizer build checks the latter).
TEST(SafeTensors, SurvivesDamagedFiles) {
  const std::vector<float> a(24, 1.0f), b(6, 2.0f);
  NamedTensor small{"small", DType::kI16, {2, 2}, std::string(8, '\x7f')};
  const std::string good = SerializeSafeTensors({F32Tensor("a", {4, 6}, a), small, F32Tensor("b", {6}, b)});
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = good;
    switch (round % 3) {
      case 0:
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
        }
        break;
      case 1: {
        uint64_t n = rng() % (bytes.size() + 16);
        std::memcpy(bytes.data(), &n, 8);
        break;
      }
      case 2: bytes.resize(rng() % bytes.size()); break;
    }
    auto st = SafeTensors::Parse(bytes);
    if (!st.ok()) {
      EXPECT_EQ(st.status().code(), Code::kInvalidArgument);
      continue;
    }
    ++parsed;
    for (const auto& [name, t] : st->tensors()) {
      EXPECT_LE(t.end, bytes.size());
      EXPECT_EQ(st->Data(t).size(), t.end - t.begin);
    }
  }
  EXPECT_GT(parsed, 0);  // some flips land in tensor data and leave a valid file
}

}  // namespace
}  // namespace emporium::ml
