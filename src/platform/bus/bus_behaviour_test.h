// The behaviour suite every Bus backend must pass (bus_behaviour_test.cc, outbox_behaviour_test.cc).
// Each test binary defines MakeBusEnv() for its backend.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "platform/bus/bus.h"

namespace emporium::bus::testing {

class BusEnv {
 public:
  virtual ~BusEnv() = default;
  virtual Result<std::unique_ptr<Bus>> OpenBus() = 0;
  // How long to wait for records that should arrive (Kafka group joins take a moment).
  virtual Millis patience() const = 0;
};

std::unique_ptr<BusEnv> MakeBusEnv();

// A fresh name per call so tests on a shared broker never see each other's data.
std::string UniqueName(const std::string& prefix);

// Polls until `n` records arrived or the patience ran out; returns what arrived.
std::vector<Record> PollN(Consumer& consumer, size_t n, Millis patience);

// Publishes a marker into each partition and polls until all arrived; returns the other records
// seen. Proves that a consumer joined and what was pending ("nothing" cannot be observed
// otherwise). Earlier markers (of a previous drain) are ignored.
std::vector<Record> DrainUntilMarker(Producer& producer, Consumer& consumer, const std::string& topic,
                                     int partitions, Millis patience);

Event TestEvent(const std::string& key, int seq);
int SeqOf(const Record& r);

}  // namespace emporium::bus::testing
