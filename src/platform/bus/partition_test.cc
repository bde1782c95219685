#include <gtest/gtest.h>

#include "platform/bus/bus.h"

namespace emporium::bus {
namespace {

// Values from org.apache.kafka.common.utils.Utils.murmur2 / toPositive (kafka-clients 4.1.1).
struct Known {
  const char* key;
  int32_t murmur2;
  int p4;
  int p12;
};

constexpr Known kKnown[] = {
    {"21", -973932308, 0, 0},
    {"foobar", -790332482, 2, 6},
    {"a-little-bit-long-string", -985981536, 0, 8},
    {"a-little-bit-longer-string", -1486304829, 3, 11},
    {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 1, 5},
    {"abc", 479470107, 3, 3},
    {"", 275646681, 1, 9},
    {"order-1", 1221710326, 2, 10},
    {"order-42", 501153024, 0, 0},
    {"k7", 1526671408, 0, 4},
    {"\xc3\xa9-utf8", 383300512, 0, 4},
};

TEST(PartitionTest, Murmur2MatchesKafka) {
  for (const Known& k : kKnown) EXPECT_EQ(Murmur2(k.key), k.murmur2) << k.key;
}

TEST(PartitionTest, PartitionForMatchesKafkaDefaultPartitioner) {
  for (const Known& k : kKnown) {
    EXPECT_EQ(PartitionFor(k.key, 4), k.p4) << k.key;
    EXPECT_EQ(PartitionFor(k.key, 12), k.p12) << k.key;
    EXPECT_EQ(PartitionFor(k.key, 1), 0);
  }
}

TEST(PartitionTest, SpreadsKeys) {
  int counts[8] = {0};
  for (int i = 0; i < 8000; ++i) ++counts[PartitionFor("key-" + std::to_string(i), 8)];
  for (int c : counts) EXPECT_GT(c, 800);
}

}  // namespace
}  // namespace emporium::bus
