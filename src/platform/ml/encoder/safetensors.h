// Reader (and a small writer) of the safetensors format, the way pretrained weights ship:
//   8 bytes  little-endian u64 N, the header's length
//   N bytes  JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//                   "__metadata__": {"key": "value"}} (optional metadata, strings only)
//   rest     the data buffer; offsets are relative to its start.
// The reader takes the bytes as untrusted input: every field, size and offset is checked, and any
// malformed file gives kInvalidArgument saying what is wrong, never a crash or an out-of-bounds
// read. It accepts only what the reference implementation writes: tensors that exactly tile the
// buffer (no holes, no overlaps), each aligned to its element size, with shape × element size equal
// to its byte length. A parsed SafeTensors is immutable and safe to read from many threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "platform/core/status.h"

namespace emporium::ml {

enum class DType { kBool, kU8, kI8, kI16, kU16, kF16, kBF16, kI32, kU32, kF32, kI64, kU64, kF64 };

// "F32" ↔ DType::kF32, as the format spells them.
std::string_view DTypeName(DType dtype);
size_t DTypeSize(DType dtype);

struct TensorInfo {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data buffer, [begin, end)
  uint64_t end = 0;
};

class SafeTensors {
 public:
  // The largest header accepted (the reference implementation's limit).
  static constexpr uint64_t kMaxHeaderBytes = 100 << 20;

  // Parses a whole file's bytes (kept; tensors point into them).
  static Result<SafeTensors> Parse(std::string bytes);
  // Reads and parses a file: kNotFound when it does not exist, otherwise as Parse.
  static Result<SafeTensors> ReadFile(const std::filesystem::path& path);

  // nullptr when there is no tensor of that name.
  const TensorInfo* Find(std::string_view name) const;
  const std::map<std::string, TensorInfo, std::less<>>& tensors() const { return tensors_; }
  const std::map<std::string, std::string, std::less<>>& metadata() const { return metadata_; }
  // The tensor's raw little-endian bytes.
  std::string_view Data(const TensorInfo& tensor) const;
  // A copy of an F32 tensor that must have exactly `shape`: kNotFound when it is missing,
  // kInvalidArgument naming the tensor when its dtype or shape differs.
  Result<std::vector<float>> F32(std::string_view name, const std::vector<int64_t>& shape) const;

 private:
  std::string bytes_;
  size_t data_start_ = 0;
  std::map<std::string, TensorInfo, std::less<>> tensors_;
  std::map<std::string, std::string, std::less<>> metadata_;
};

// One tensor to write: its bytes are little-endian elements, shape × element size of them.
struct NamedTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string data;
};

// A safetensors file holding these tensors in this order (header padded to 8 bytes, as the
// reference writer does). Used for generated models and artifacts; the sizes are the caller's to
// get right (a wrong one makes a file Parse rejects).
std::string SerializeSafeTensors(const std::vector<NamedTensor>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});
NamedTensor F32Tensor(std::string name, std::vector<int64_t> shape, std::span<const float> values);

}  // namespace emporium::ml
