#include "platform/ml/encoder/safetensors.h"

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <cstring>
#include <fstream>
#include <limits>

#include "platform/core/json.h"

namespace emporium::ml {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

struct DTypeEntry {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},   {DType::kI8, "I8", 1},     {DType::kI16, "I16", 2},
    {DType::kU16, "U16", 2},   {DType::kF16, "F16", 2}, {DType::kBF16, "BF16", 2}, {DType::kI32, "I32", 4},
    {DType::kU32, "U32", 4},   {DType::kF32, "F32", 4}, {DType::kI64, "I64", 8},   {DType::kU64, "U64", 8},
    {DType::kF64, "F64", 8},
};

// Dimensions and element counts stay far below this, so products of them cannot overflow u64.
constexpr uint64_t kMaxElements = uint64_t{1} << 48;
constexpr size_t kMaxRank = 8;

Status Bad(std::string_view what) {
  return InvalidArgument("safetensors: " + std::string(what));
}

// A JSON integer ≥ 0 (Boost.JSON keeps small non-negative numbers as int64, big ones as uint64).
bool NonNegative(const boost::json::value& v, uint64_t* out) {
  if (v.is_int64() && v.get_int64() >= 0) {
    *out = static_cast<uint64_t>(v.get_int64());
    return true;
  }
  if (v.is_uint64()) {
    *out = v.get_uint64();
    return true;
  }
  return false;
}

Result<TensorInfo> ParseTensor(const std::string& name, const boost::json::value& v) {
  const std::string where = "tensor '" + name + "': ";
  if (!v.is_object()) return Bad(where + "expected an object");
  const boost::json::object& o = v.get_object();
  for (const auto& [key, _] : o) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return Bad(where + "unexpected field '" + std::string(key) + "'");
    }
  }
  TensorInfo t;
  const auto* dtype = o.if_contains("dtype");
  if (!dtype || !dtype->is_string()) return Bad(where + "dtype must be a string");
  const auto* entry = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                   [&](const DTypeEntry& e) { return e.name == dtype->get_string(); });
  if (entry == std::end(kDTypes))
    return Bad(where + "unknown dtype '" + std::string(dtype->get_string()) + "'");
  t.dtype = entry->dtype;

  const auto* shape = o.if_contains("shape");
  if (!shape || !shape->is_array()) return Bad(where + "shape must be an array");
  if (shape->get_array().size() > kMaxRank) return Bad(where + "rank above " + std::to_string(kMaxRank));
  uint64_t elements = 1;
  for (const auto& d : shape->get_array()) {
    uint64_t dim;
    if (!NonNegative(d, &dim)) return Bad(where + "shape entries must be integers >= 0");
    if (dim > kMaxElements || (dim && elements > kMaxElements / dim)) return Bad(where + "shape too large");
    elements *= dim;
    t.shape.push_back(static_cast<int64_t>(dim));
  }

  const auto* offsets = o.if_contains("data_offsets");
  if (!offsets || !offsets->is_array() || offsets->get_array().size() != 2 ||
      !NonNegative(offsets->get_array()[0], &t.begin) || !NonNegative(offsets->get_array()[1], &t.end)) {
    return Bad(where + "data_offsets must be [begin, end], integers >= 0");
  }
  if (t.end < t.begin) return Bad(where + "data_offsets end before begin");
  if (t.end - t.begin != elements * entry->size) {
    return Bad(where + "byte length " + std::to_string(t.end - t.begin) + " does not match shape × " +
               std::to_string(entry->size) + " = " + std::to_string(elements * entry->size));
  }
  if (t.begin % entry->size != 0) return Bad(where + "data_offsets not aligned to the element size");
  return t;
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const auto& e : kDTypes) {
    if (e.dtype == dtype) return e.name;
  }
  return "?";
}

size_t DTypeSize(DType dtype) {
  for (const auto& e : kDTypes) {
    if (e.dtype == dtype) return e.size;
  }
  return 0;
}

Result<SafeTensors> SafeTensors::Parse(std::string bytes) {
  if (bytes.size() < 8) return Bad("file shorter than the 8-byte header length");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeaderBytes) return Bad("header length " + std::to_string(n) + " above the 100 MiB limit");
  if (n > bytes.size() - 8) {
    return Bad("header length " + std::to_string(n) + " runs past the end of the file (" +
               std::to_string(bytes.size()) + " bytes)");
  }
  const std::string_view header(bytes.data() + 8, n);
  if (header.empty() || header.front() != '{') return Bad("header does not start with '{'");
  auto parsed = json::Parse(header);
  if (!parsed.ok()) return Bad("header is not JSON: " + parsed.status().message());
  if (!parsed->is_object()) return Bad("header is not a JSON object");

  SafeTensors st;
  st.data_start_ = 8 + n;
  const uint64_t data_size = bytes.size() - st.data_start_;
  for (const auto& [key, value] : parsed->get_object()) {
    const std::string name(key);
    if (name == "__metadata__") {
      if (!value.is_object()) return Bad("__metadata__ must be an object");
      for (const auto& [mk, mv] : value.get_object()) {
        if (!mv.is_string()) return Bad("__metadata__ values must be strings");
        st.metadata_.emplace(std::string(mk), std::string(mv.get_string()));
      }
      continue;
    }
    EMP_ASSIGN_OR_RETURN(TensorInfo t, ParseTensor(name, value));
    if (t.end > data_size) {
      return Bad("tensor '" + name + "': data_offsets end " + std::to_string(t.end) +
                 " past the data buffer (" + std::to_string(data_size) + " bytes)");
    }
    st.tensors_.emplace(name, std::move(t));
  }

  // The tensors must tile the buffer exactly: sorted by offset, each starts where the previous
  // one ended. This rejects overlaps (two names reading the same bytes) and unaccounted bytes.
  std::vector<std::pair<const std::string*, const TensorInfo*>> order;
  for (const auto& [name, t] : st.tensors_) order.emplace_back(&name, &t);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->begin, a.second->end) < std::tie(b.second->begin, b.second->end);
  });
  uint64_t at = 0;
  for (const auto& [name, t] : order) {
    if (t->begin < at) return Bad("tensor '" + *name + "' overlaps the tensor before it");
    if (t->begin > at) {
      return Bad("bytes [" + std::to_string(at) + ", " + std::to_string(t->begin) + ") belong to no tensor");
    }
    at = t->end;
  }
  if (at != data_size) {
    return Bad("data buffer has " + std::to_string(data_size - at) + " bytes after the last tensor");
  }
  st.bytes_ = std::move(bytes);
  return st;
}

Result<SafeTensors> SafeTensors::ReadFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return NotFound(path.string() + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Internal("cannot read " + path.string());
  auto st = Parse(std::move(bytes));
  if (!st.ok()) return Status(st.status().code(), path.string() + ": " + st.status().message());
  return st;
}

const TensorInfo* SafeTensors::Find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::string_view SafeTensors::Data(const TensorInfo& tensor) const {
  return std::string_view(bytes_).substr(data_start_ + tensor.begin, tensor.end - tensor.begin);
}

Result<std::vector<float>> SafeTensors::F32(std::string_view name, const std::vector<int64_t>& shape) const {
  const TensorInfo* t = Find(name);
  if (!t) return NotFound("safetensors: no tensor '" + std::string(name) + "'");
  auto dims = [](std::span<const int64_t> s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
  };
  if (t->dtype != DType::kF32) {
    return Bad("tensor '" + std::string(name) + "' is " + std::string(DTypeName(t->dtype)) +
               ", expected F32");
  }
  if (!std::equal(t->shape.begin(), t->shape.end(), shape.begin(), shape.end())) {
    return Bad("tensor '" + std::string(name) + "' has shape " + dims(t->shape) + ", expected " +
               dims(shape));
  }
  std::string_view data = Data(*t);
  std::vector<float> out(data.size() / sizeof(float));
  if (!data.empty()) std::memcpy(out.data(), data.data(), data.size());
  return out;
}

std::string SerializeSafeTensors(const std::vector<NamedTensor>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
  boost::json::object header;
  if (!metadata.empty()) {
    boost::json::object meta;
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t at = 0;
  for (const auto& t : tensors) {
    boost::json::array shape;
    for (int64_t d : t.shape) shape.push_back(d);
    header[t.name] = {{"dtype", DTypeName(t.dtype)},
                      {"shape", std::move(shape)},
                      {"data_offsets", {at, at + t.data.size()}}};
    at += t.data.size();
  }
  std::string json = boost::json::serialize(header);
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  out += json;
  for (const auto& t : tensors) out += t.data;
  return out;
}

NamedTensor F32Tensor(std::string name, std::vector<int64_t> shape, std::span<const float> values) {
  NamedTensor t{std::move(name), DType::kF32, std::move(shape),
                std::string(values.size() * sizeof(float), '\0')};
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

}  // namespace emporium::ml
