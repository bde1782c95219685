#include "platform/bus/kafka_common.h"

#include <gtest/gtest.h>

namespace emporium::bus {
namespace {

TEST(KafkaUrlTest, ParsesBrokersAndScopedProperties) {
  auto c = ParseKafkaUrl(
      "kafka://h1:9092,h2:9093/?linger.ms=5&consumer.session.timeout.ms=6000"
      "&producer.compression.type=lz4");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->brokers, "h1:9092,h2:9093");
  EXPECT_EQ(c->producer, (KafkaProps{{"linger.ms", "5"}, {"compression.type", "lz4"}}));
  EXPECT_EQ(c->consumer, (KafkaProps{{"linger.ms", "5"}, {"session.timeout.ms", "6000"}}));
}

TEST(KafkaUrlTest, RejectsBadUrls) {
  EXPECT_EQ(ParseKafkaUrl("kafka://").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseKafkaUrl("kafka://h:1?novalue").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseKafkaUrl("http://h:1").status().code(), Code::kInvalidArgument);
}

TEST(KafkaUrlTest, UnknownPropertyFailsWhenClientIsCreated) {
  auto bus = Open("kafka://127.0.0.1:1?no.such.property=1");
  ASSERT_TRUE(bus.ok());
  EXPECT_EQ((*bus)->NewProducer().status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace emporium::bus
