#include "services/cart/fanout.h"

#include <map>

#include "platform/bus/bus.h"
#include "platform/core/random.h"
#include "platform/log/log.h"
#include "services/cart/api.h"
#include "services/cart/events.h"

namespace emporium::cart {

Fanout::Fanout(Broadcaster& broadcaster) : broadcaster_(broadcaster), group_("cart-sse-" + RandomHex(8)) {}

Fanout::~Fanout() {
  Stop();
}

Status Fanout::Start(bus::Bus& bus) {
  EMP_RETURN_IF_ERROR(bus.EnsureTopic(std::string(kCartTopic), 8));
  EMP_ASSIGN_OR_RETURN(consumer_, bus.Subscribe(group_, {std::string(kCartTopic)}));
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Fanout::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  consumer_.reset();
}

void Fanout::Run() {
  while (!stop_) {
    auto batch = consumer_->Poll(Millis(100), 512);
    if (!batch.ok()) {
      log::Warn("cart fan-out poll failed", {{"error", batch.status().ToString()}});
      std::this_thread::sleep_for(Millis(200));
      continue;
    }
    std::map<int, const bus::Record*> last;
    for (const bus::Record& r : *batch) {
      last[r.partition] = &r;
      if (r.event.type.rfind("cart.item_", 0) != 0) continue;
      auto change = ChangeFromEventData(r.event.subject, r.event.data);
      if (!change.ok()) continue;
      broadcaster_.Publish(*change);
      ++delivered_;
    }
    // Commits only keep the group's lag metric meaningful: a restarted process joins with a new
    // group id, and connections de-duplicate by seq whatever is re-read.
    for (const auto& [partition, r] : last) (void)consumer_->Commit(*r);
  }
}

}  // namespace emporium::cart
