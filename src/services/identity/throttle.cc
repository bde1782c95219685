#include "services/identity/throttle.h"

#include <algorithm>

#include "platform/kv/kv.h"

namespace emporium::identity {
namespace {

std::string AccountFailures(const std::string& a) {
  return "identity:login:fail:acct:" + a;
}
std::string AccountLock(const std::string& a) {
  return "identity:login:lock:acct:" + a;
}
std::string IpFailures(const std::string& ip) {
  return "identity:login:fail:ip:" + (ip.empty() ? "-" : ip);
}

}  // namespace

Throttle::Throttle(kv::Store& kv, ThrottleLimits limits) : kv_(kv), limits_(limits) {}

Result<std::optional<Millis>> Throttle::Check(const std::string& account, const std::string& ip) {
  EMP_ASSIGN_OR_RETURN(auto lock, kv_.Ttl(AccountLock(account)));
  if (lock) return std::optional<Millis>(std::max(*lock, Millis(1)));
  EMP_ASSIGN_OR_RETURN(auto count, kv_.Get(IpFailures(ip)));
  if (count && std::atoll(count->c_str()) >= limits_.ip_failures) {
    EMP_ASSIGN_OR_RETURN(auto ttl, kv_.Ttl(IpFailures(ip)));
    return std::optional<Millis>(std::max(ttl.value_or(limits_.ip_window), Millis(1)));
  }
  return std::optional<Millis>();
}

Status Throttle::RecordFailure(const std::string& account, const std::string& ip) {
  EMP_ASSIGN_OR_RETURN(int64_t n, kv_.Increment(AccountFailures(account), 1, limits_.account_window));
  if (n >= limits_.account_failures) {
    int64_t doublings = std::min<int64_t>(n - limits_.account_failures, 20);
    Millis delay = std::min(Millis(1000LL << doublings), limits_.account_window);
    EMP_RETURN_IF_ERROR(kv_.Set(AccountLock(account), "1", delay));
  }
  return kv_.Increment(IpFailures(ip), 1, limits_.ip_window).status();
}

Status Throttle::RecordSuccess(const std::string& account) {
  return kv_.Delete(AccountFailures(account)).status();
}

}  // namespace emporium::identity
