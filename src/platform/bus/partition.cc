// Kafka's default partitioner, transcribed from the Java client so that the embedded log and
// Kafka (librdkafka's murmur2_random) put a key in the same partition.
#include <cstdint>

#include "platform/bus/bus.h"

namespace emporium::bus {

int32_t Murmur2(std::string_view bytes) {
  // Unsigned arithmetic gives Java's wrapping int multiplication without signed overflow.
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t length = bytes.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t length4 = length / 4;
  for (size_t i = 0; i < length4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = static_cast<uint32_t>(data[i4]) | (static_cast<uint32_t>(data[i4 + 1]) << 8) |
                 (static_cast<uint32_t>(data[i4 + 2]) << 16) | (static_cast<uint32_t>(data[i4 + 3]) << 24);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  const size_t tail = length & ~static_cast<size_t>(3);
  switch (length % 4) {
    case 3: h ^= static_cast<uint32_t>(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(data[tail + 1]) << 8; [[fallthrough]];
    case 1: h ^= static_cast<uint32_t>(data[tail]); h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int PartitionFor(const std::string& key, int partitions) {
  if (partitions <= 1) return 0;
  const uint32_t positive = static_cast<uint32_t>(Murmur2(key)) & 0x7fffffffU;
  return static_cast<int>(positive % static_cast<uint32_t>(partitions));
}

}  // namespace emporium::bus
