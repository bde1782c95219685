// Constructors of the Bus backends, used by bus::Open (bus.cc). Internal to the bus component.
#pragma once

#include <memory>
#include <string>

#include "platform/bus/bus.h"

namespace emporium::bus {

// dir: absolute path of the embedded log (see log_store.h).
Result<std::unique_ptr<Bus>> OpenLogBus(const std::string& dir);
// url: "kafka://host:port[,host:port][?librdkafka.property=value&...]".
Result<std::unique_ptr<Bus>> OpenKafkaBus(const std::string& url);

}  // namespace emporium::bus
