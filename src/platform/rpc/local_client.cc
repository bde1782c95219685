#include <exception>
#include <string>
#include <utility>

#include "platform/rpc/propagation.h"
#include "platform/rpc/rpc.h"

namespace emporium::rpc {
namespace {

class LocalClient final : public ModuleClient {
 public:
  LocalClient(std::string module, LocalDispatch dispatch, Clock& clock)
      : module_(std::move(module)), dispatch_(std::move(dispatch)), clock_(clock) {}

  Result<http::Response> Call(http::Request req, const CallOptions& options) override {
    EMP_RETURN_IF_ERROR(PrepareCall(module_, req, options, clock_.Now()));
    http::Response response;
    try {
      response = dispatch_(req);
    } catch (const std::exception& e) {
      return Internal("call to " + module_ + " threw: " + e.what());
    } catch (...) {
      return Internal("call to " + module_ + " threw a non-standard exception");
    }
    if (clock_.Now() > req.deadline) {
      return DeadlineExceeded("call to " + module_ + ": deadline exceeded");
    }
    return response;
  }

  std::string_view module() const override { return module_; }
  bool remote() const override { return false; }

 private:
  const std::string module_;
  const LocalDispatch dispatch_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<ModuleClient> NewLocalClient(std::string module, LocalDispatch dispatch, Clock& clock) {
  return std::make_unique<LocalClient>(std::move(module), std::move(dispatch), clock);
}

}  // namespace emporium::rpc
