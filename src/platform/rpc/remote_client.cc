#include <optional>
#include <string>
#include <utility>

#include "platform/resilience/policy.h"
#include "platform/rpc/propagation.h"
#include "platform/rpc/rpc.h"

namespace emporium::rpc {
namespace {

// Marks the Status an attempt returns for a 5xx answer, so the answer itself can be handed back
// when the policy gives up on exactly that attempt.
constexpr std::string_view kUpstreamAnswered = "upstream answered HTTP ";

class RemoteClient final : public ModuleClient {
 public:
  RemoteClient(std::string module, std::string base_url, RemoteOptions options, Clock& clock)
      : module_(std::move(module)),
        base_url_(std::move(base_url)),
        options_(std::move(options)),
        clock_(clock),
        owned_http_(options_.http_client == nullptr ? std::make_unique<http::HttpClient>(options_.http)
                                                    : nullptr),
        http_(options_.http_client != nullptr ? *options_.http_client : *owned_http_),
        breaker_(module_, clock_, options_.breaker),
        bulkhead_(module_, clock_, options_.bulkhead),
        budget_(clock_, options_.retry_budget),
        backoff_(options_.backoff) {}

  Result<http::Response> Call(http::Request req, const CallOptions& options) override {
    EMP_RETURN_IF_ERROR(PrepareCall(module_, req, options, clock_.Now()));

    resilience::CallPolicy policy;
    policy.deadline = req.deadline;
    policy.per_try_timeout = options_.per_try_timeout;
    policy.max_attempts = options_.max_attempts;
    policy.idempotent = options.idempotent;
    policy.backoff = backoff_;
    policy.breaker = &breaker_;
    policy.bulkhead = &bulkhead_;
    policy.budget = &budget_;
    policy.clock = &clock_;

    std::optional<http::Response> answer;
    std::string answer_message;
    Status status = resilience::Execute(policy, [&](int, SteadyTime attempt_deadline) -> Status {
      answer.reset();
      SteadyTime now = clock_.Now();
      if (attempt_deadline <= now) return DeadlineExceeded("call to " + module_ + ": no time left");
      SetDeadlineHeader(req, attempt_deadline, now);
      // The policy's clock may be fake; the network runs on real time.
      SteadyTime network_deadline = std::chrono::steady_clock::now() + (attempt_deadline - now);
      Result<http::Response> result = http_.Send(base_url_, req, network_deadline);
      if (!result.ok()) {
        return Status(result.status().code(), "call to " + module_ + ": " + result.status().message());
      }
      int code = result->status;
      answer = std::move(result).value();
      if (code < 500) return Status::Ok();
      answer_message = std::string(kUpstreamAnswered) + std::to_string(code) + " (" + module_ + ")";
      // 502/503/504 say "try again (elsewhere)"; other 5xx are the upstream's bug: not retried,
      // but still a breaker failure (kInternal).
      bool transient = code == 502 || code == 503 || code == 504;
      return Status(transient ? Code::kUnavailable : Code::kInternal, answer_message);
    });
    if (answer && (status.ok() || status.message() == answer_message)) return std::move(*answer);
    return status;
  }

  std::string_view module() const override { return module_; }
  bool remote() const override { return true; }
  std::optional<resilience::BreakerSnapshot> breaker() const override { return breaker_.Snapshot(); }

 private:
  const std::string module_;
  const std::string base_url_;
  const RemoteOptions options_;
  Clock& clock_;
  std::unique_ptr<http::HttpClient> owned_http_;
  http::HttpClient& http_;
  resilience::CircuitBreaker breaker_;
  resilience::Bulkhead bulkhead_;
  resilience::RetryBudget budget_;
  const resilience::Backoff backoff_;
};

}  // namespace

std::unique_ptr<ModuleClient> NewRemoteClient(std::string module, std::string base_url, RemoteOptions options,
                                              Clock& clock) {
  return std::make_unique<RemoteClient>(std::move(module), std::move(base_url), std::move(options), clock);
}

}  // namespace emporium::rpc
